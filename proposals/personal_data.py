"""What the proposals app holds about an address, for the residents' rights (export and
erasure, `conseils.personal_data`): the proposals it sent, and its supports.

Erasing a proposal anonymises it (it may have been discussed, answered, supported by
others: it stays, without its author's name or address); one never confirmed, which no one
ever saw, goes whole. Erasing a support deletes it, and the proposal's count loses one
exactly when that support was counted (confirmed).
"""

from __future__ import annotations

from typing import Any

from conseils import changes, db, personal_data
from conseils.personal_data import Keeper, json_ready
from proposals.services.common import PROPOSAL_CHANGE, STATUS_LABELS, THEMES, supports_changed
from proposals.tables import Proposal, Support

PROPOSAL_LABELS = {
    "title": "Proposition",
    "council": "Conseil",
    "theme": "Thème",
    "status": "Statut",
    "author_name": "Nom",
    "show_name": "Nom affiché",
    "created_at": "Envoyée le",
}
SUPPORT_LABELS = {
    "title": "Proposition soutenue",
    "status": "Statut",
    "wants_news": "Prévenu·e de la réponse",
    "created_at": "Demandé le",
}


def _ready(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: json_ready(value) for key, value in row.items()} for row in rows]


async def export_proposals(email: str) -> list[dict[str, Any]]:
    rows = await Proposal.select(
        Proposal.id,
        Proposal.title,
        Proposal.body,
        Proposal.council.name.as_alias("council"),
        Proposal.theme,
        Proposal.status,
        Proposal.author_name,
        Proposal.show_name,
        Proposal.created_at,
    ).where(Proposal.email == email)
    for row in rows:
        row["theme"] = THEMES.get(row["theme"], row["theme"])
        row["status"] = STATUS_LABELS.get(row["status"], row["status"])
    return _ready(rows)


async def erase_proposals(email: str) -> int:
    db.require_transaction("erasing proposals")
    gone = (
        await Proposal.delete()
        .where((Proposal.email == email) & (Proposal.status == "unconfirmed"))
        .returning(Proposal.id)
    )
    kept = (
        await Proposal.update(
            {
                Proposal.email: None,
                Proposal.author_name: "",
                Proposal.show_name: False,
                Proposal.token_digest: None,
                Proposal.submission_key: None,
            }
        )
        .where(Proposal.email == email)
        .returning(Proposal.id, Proposal.council)
    )
    for row in kept:  # their author's name leaves the lists, pages and feed
        await changes.changed(PROPOSAL_CHANGE, row["id"], row["council"])
    return len(gone) + len(kept)


async def export_supports(email: str) -> list[dict[str, Any]]:
    rows = await Support.select(
        Support.proposal.title.as_alias("title"),
        Support.status,
        Support.wants_news,
        Support.created_at,
        Support.confirmed_at,
    ).where(Support.email == email)
    for row in rows:
        row["status"] = "confirmé" if row["status"] == "confirmed" else "à confirmer"
    return _ready(rows)


async def erase_supports(email: str) -> int:
    db.require_transaction("erasing supports")
    gone = (
        await Support.delete()
        .where(Support.email == email)
        .returning(Support.proposal, Support.status)
    )
    for support in gone:
        if support["status"] == "confirmed":
            await Proposal.update({Proposal.supports: Proposal.supports - 1}).where(
                Proposal.id == support["proposal"]
            )
            await supports_changed(support["proposal"])
    return len(gone)


def register() -> None:
    personal_data.keep(
        Keeper(
            name="proposals",
            title="Propositions envoyées",
            export=export_proposals,
            erase=erase_proposals,
            labels=PROPOSAL_LABELS,
        )
    )
    personal_data.keep(
        Keeper(
            name="supports",
            title="Soutiens à des propositions",
            export=export_supports,
            erase=erase_supports,
            labels=SUPPORT_LABELS,
        )
    )
