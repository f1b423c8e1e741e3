"""What the meetings app holds about an address, for the residents' rights (export and
erasure, `conseils.personal_data`): registrations, and the address-level calendar feed."""

from __future__ import annotations

from typing import Any

from conseils import personal_data
from conseils.personal_data import Keeper, json_ready
from meetings.services import address_feeds, registrations

REGISTRATION_LABELS = {
    "meeting_title": "Réunion",
    "meeting_starts_at": "Date",
    "council": "Conseil",
    "status": "Statut",
    "name": "Nom",
    "phone": "Téléphone",
    "attending_as": "Vient en tant que",
    "needs": "Besoins",
    "created_at": "Inscrit·e le",
}


def _ready(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: json_ready(value) for key, value in row.items()} for row in rows]


async def _export_registrations(email: str) -> list[dict[str, Any]]:
    return _ready(await registrations.export_address(email))


async def _export_feed(email: str) -> list[dict[str, Any]]:
    return _ready(await address_feeds.export(email))


def register() -> None:
    personal_data.keep(
        Keeper(
            name="registrations",
            title="Inscriptions aux réunions",
            export=_export_registrations,
            erase=registrations.erase_address,
            labels=REGISTRATION_LABELS,
        )
    )
    personal_data.keep(
        Keeper(
            name="address_feed",
            title="Agenda de toutes mes réunions",
            export=_export_feed,
            erase=address_feeds.forget,
            labels={"created_at": "Adresse d'agenda créée le"},
        )
    )
