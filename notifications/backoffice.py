"""Back-office pages of the notifications app: subscribers per council, the outbox's
failures with "Réessayer", and the dashboard's "Courriels en échec" panel.

Thin: who sees what (councils, addresses) is decided by `notifications.outbox` and
`notifications.subscriptions`, which the JSON API calls too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.viewer import FacilitatorView
from meetings.services.council_admin import council_by_id
from meetings.services.councils import list_councils
from notifications import outbox, subscriptions

OUTBOX = "/animation/courriels"
SHOWN_PER_COUNCIL = 100
KIND_LABELS = {
    "subscription_confirm": "Confirmation d'abonnement",
    "meeting_published": "Annonce d'une réunion",
    "meeting_changed": "Réunion modifiée",
    "meeting_cancelled": "Réunion annulée",
    "registration_confirmed": "Inscription confirmée",
    "registration_waitlisted": "Liste d'attente",
    "registration_promoted": "Place libérée",
    "registration_link": "Lien de l'inscription",
    "registration_cancelled": "Inscription annulée",
    "registration_reminder": "Rappel de réunion",
    "privacy_link": "Lien « mes données »",
}


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """The failed messages of one council (`council_id` None: tied to no council)."""

    council_id: int | None
    name: str
    messages: list[outbox.OutboxView]
    total: int


async def _groups(viewer: FacilitatorView) -> list[tuple[int | None, str]]:
    """The councils whose outbox this viewer sees, and (admins) the messages of none."""
    groups: list[tuple[int | None, str]] = [
        (c.id, c.name) for c in await list_councils() if viewer.may_write(c.id)
    ]
    if viewer.is_admin:
        groups.append((None, "Courriels hors conseil (comptes, données personnelles)"))
    return groups


async def failures_panel(viewer: FacilitatorView) -> dict[str, Any]:
    """The dashboard's panel: failed messages per council the viewer runs."""
    counts = await outbox.failure_counts(viewer)
    rows = [(cid, name, counts.get(cid, 0)) for cid, name in await _groups(viewer)]
    return {"rows": rows, "total": sum(counts.values())}


def _anchor(council_id: int | None) -> str:
    return f"conseil-{council_id}" if council_id is not None else "hors-conseil"


class OutboxPages(Controller):
    path = "/courriels"

    @get("/")
    async def failures(
        self, viewer: NamedDependency[FacilitatorView], renvoyes: FromQuery[int | None] = None
    ) -> Template:
        counts = await outbox.failure_counts(viewer)
        groups = []
        for council_id, name in await _groups(viewer):
            if not counts.get(council_id):
                continue
            messages, total = await outbox.list_messages(
                viewer,
                status="failed",
                council_id=council_id,
                without_council=council_id is None,
                limit=SHOWN_PER_COUNCIL,
            )
            groups.append(FailureGroup(council_id, name, messages, total))
        flash = None
        if renvoyes is not None:
            flash = (
                f"{renvoyes} message{'s' if renvoyes > 1 else ''} remis en file d'envoi."
                if renvoyes
                else "Aucun message en échec à renvoyer."
            )
        return backoffice.page(
            "animation/notifications/outbox.html",
            viewer,
            flash=flash,
            groups=groups,
            kind_label=lambda kind: KIND_LABELS.get(kind, kind),
            anchor=_anchor,
        )

    @post("/{message_id:int}/reessayer", status_code=HTTP_303_SEE_OTHER)
    async def retry(
        self, viewer: NamedDependency[FacilitatorView], message_id: FromPath[int]
    ) -> Redirect:
        message = await outbox.retry_message(viewer, message_id)
        return Redirect(
            f"{OUTBOX}?renvoyes=1#{_anchor(message.council_id)}", status_code=HTTP_303_SEE_OTHER
        )

    @post("/conseils/{council_id:int}/reessayer", status_code=HTTP_303_SEE_OTHER)
    async def retry_council(
        self, viewer: NamedDependency[FacilitatorView], council_id: FromPath[int]
    ) -> Redirect:
        count = await outbox.retry_failed(viewer, council_id)
        return Redirect(f"{OUTBOX}?renvoyes={count}", status_code=HTTP_303_SEE_OTHER)

    @post("/hors-conseil/reessayer", status_code=HTTP_303_SEE_OTHER)
    async def retry_without_council(self, viewer: NamedDependency[FacilitatorView]) -> Redirect:
        count = await outbox.retry_failed(viewer, None)
        return Redirect(f"{OUTBOX}?renvoyes={count}", status_code=HTTP_303_SEE_OTHER)


class SubscriberPages(Controller):
    path = "/abonnes"

    @get("/")
    async def counts(self, viewer: NamedDependency[FacilitatorView]) -> Template:
        return backoffice.page(
            "animation/notifications/subscribers.html",
            viewer,
            counts=await subscriptions.counts(viewer),
        )

    @get("/{council_id:int}/adresses")
    async def addresses(
        self, admin: NamedDependency[FacilitatorView], council_id: FromPath[int]
    ) -> Template:
        """Admins only; each look is written in the audit log."""
        council = await council_by_id(council_id)
        return backoffice.page(
            "animation/notifications/subscriber_addresses.html",
            admin,
            council=council,
            lines=await subscriptions.addresses(admin, council.id),
        )
