"""Subscriptions to a council's announcements: an email address, confirmed by a link.

Double opt-in: a subscription is `pending` until the link in the confirmation email is used,
and nothing but that email is ever sent to a pending address. The answer to a subscription
request is the same whether the address was new, pending or already subscribed, so that the
form tells no one who is subscribed. Confirmation emails are re-sent at most every
`RESEND_AFTER`, so the form cannot be used to flood someone's mailbox.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Count

from conseils import audit, urls
from conseils.db import locked, write_transaction
from conseils.errors import Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import normalise_email
from conseils.viewer import FacilitatorView
from meetings.services.councils import get_council, list_councils
from notifications import outbox
from notifications.announcements import ANNOUNCEMENTS
from notifications.drafts import Draft
from notifications.rendering import render_pair
from notifications.tables import OutboxMessage, Subscription

RESEND_AFTER = timedelta(minutes=10)
TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    council_slug: str
    council_name: str
    email: str
    status: str
    confirmed_at: datetime | None


def _email(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({"email": "indiquez votre adresse électronique"})
    return normalise_email(value)


async def subscribe(council_slug: str, email: str) -> None:
    """Ask for a subscription: queue a confirmation unless one went out a moment ago."""
    address = _email(email)
    council = await get_council(council_slug)
    now = now_utc()
    async with write_transaction():
        await Subscription.insert(
            Subscription(
                council=council.id,
                email=address,
                key=f"{council.id}:{address}",
                status="pending",
                token=secrets.token_urlsafe(TOKEN_BYTES),
                created_at=now,
            )
        ).on_conflict(action="DO NOTHING")
        row = await locked(
            Subscription.select().where(Subscription.key == f"{council.id}:{address}")
        ).first()
        if row["status"] == "active":
            return
        sent = row["confirmation_sent_at"]
        if row["status"] == "pending" and sent is not None and now - sent < RESEND_AFTER:
            return
        await Subscription.update(
            {
                Subscription.status: "pending",
                Subscription.confirmation_sent_at: now,
                Subscription.unsubscribed_at: None,
            }
        ).where(Subscription.id == row["id"])
        text, html = render_pair(
            "subscription_confirm",
            council_name=council.name,
            confirm_url=urls.confirm_subscription_url(row["token"]),
        )
        await outbox.enqueue(
            [
                Draft(
                    key=f"confirm:{row['id']}:{now.isoformat()}",
                    kind="subscription_confirm",
                    recipient=address,
                    subject=f"Confirmez votre abonnement : {council.name}",
                    text_body=text,
                    html_body=html,
                    headers={"From-Name": council.name, "Reply-To": council.contact_email},
                    council_id=council.id,
                    capped=True,
                )
            ]
        )


def _check_token(token: str) -> None:
    if len(token) != TOKEN_LENGTH or not token.replace("-", "").replace("_", "").isalnum():
        raise NotFound("Ce lien n'est pas valable.", code="subscription_not_found")


async def _by_token(token: str) -> dict:
    _check_token(token)
    row = (
        await Subscription.select(
            Subscription.id,
            Subscription.email,
            Subscription.status,
            Subscription.confirmed_at,
            Subscription.token,
            Subscription.council.as_alias("council_id"),
            Subscription.council.slug.as_alias("council_slug"),
            Subscription.council.name.as_alias("council_name"),
        )
        .where(Subscription.token == token)
        .first()
    )
    # The index found the row by its token; compare again in constant time all the same.
    if row is None or not secrets.compare_digest(row["token"], token):
        raise NotFound("Ce lien n'est pas valable.", code="subscription_not_found")
    return row


def _view(row: dict) -> SubscriptionView:
    return SubscriptionView(
        council_slug=row["council_slug"],
        council_name=row["council_name"],
        email=row["email"],
        status=row["status"],
        confirmed_at=row["confirmed_at"],
    )


async def get_subscription(token: str) -> SubscriptionView:
    return _view(await _by_token(token))


async def subscription_to_unsubscribe(token: str) -> SubscriptionView | None:
    """The subscription an unsubscribe link names; None when it is gone (retention deletes
    unsubscribed and expired ones): its link still answers that nothing is sent any more."""
    try:
        return await get_subscription(token)
    except NotFound:
        _check_token(token)  # a malformed link stays a 404
        return None


async def confirm(token: str) -> SubscriptionView:
    """Confirm (pending → active); confirming twice is harmless, an unsubscribed link stays so."""
    row = await _by_token(token)
    if row["status"] == "pending":
        now = now_utc()
        await Subscription.update(
            {Subscription.status: "active", Subscription.confirmed_at: now}
        ).where((Subscription.id == row["id"]) & (Subscription.status == "pending"))
        row = {**row, "status": "active", "confirmed_at": now}
    return _view(row)


async def unsubscribe(token: str) -> SubscriptionView | None:
    """Stop every announcement at once; unsubscribing twice is harmless. None: the
    subscription no longer exists (deleted by retention), so nothing is sent to it."""
    if (await subscription_to_unsubscribe(token)) is None:
        return None
    row = await _by_token(token)
    if row["status"] != "unsubscribed":
        async with write_transaction():
            await Subscription.update(
                {Subscription.status: "unsubscribed", Subscription.unsubscribed_at: now_utc()}
            ).where(Subscription.id == row["id"])
            # What is still queued for this address and council is not sent either.
            await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
                (OutboxMessage.recipient == row["email"])
                & (OutboxMessage.council_id == row["council_id"])
                & (OutboxMessage.status == "queued")
                & OutboxMessage.kind.is_in(list(ANNOUNCEMENTS))
            )
        row = {**row, "status": "unsubscribed"}
    return _view(row)


# ---------------------------------------------------------------- facilitators' view
#
# Facilitators see how many people follow their councils, never who: addresses are shown to
# admins only, and each time an admin looks, the audit log says so.


@dataclass(frozen=True, slots=True)
class SubscriberCount:
    council_id: int
    council_name: str
    council_slug: str
    confirmed: int
    pending: int


@dataclass(frozen=True, slots=True)
class SubscriberLine:
    email: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None


async def counts(viewer: FacilitatorView) -> list[SubscriberCount]:
    """Confirmed and pending subscriptions of each council the viewer runs (admins: all)."""
    councils = [c for c in await list_councils() if viewer.may_write(c.id)]
    if not councils:
        return []
    rows = (
        await Subscription.select(
            Subscription.council, Subscription.status, Count(Subscription.id, alias="number")
        )
        .where(
            Subscription.council.is_in([c.id for c in councils])
            & Subscription.status.is_in(["active", "pending"])
        )
        .group_by(Subscription.council, Subscription.status)
    )
    found = {(row["council"], row["status"]): row["number"] for row in rows}
    return [
        SubscriberCount(
            c.id, c.name, c.slug, found.get((c.id, "active"), 0), found.get((c.id, "pending"), 0)
        )
        for c in councils
    ]


async def addresses(viewer: FacilitatorView, council_id: int) -> list[SubscriberLine]:
    """The addresses subscribed to a council, confirmed first (admins only; audited)."""
    if not viewer.is_admin:
        raise Forbidden("Réservé aux administrateurs du site.", code="admin_only")
    rows = (
        await Subscription.select(
            Subscription.email,
            Subscription.status,
            Subscription.created_at,
            Subscription.confirmed_at,
        )
        .where(
            (Subscription.council == council_id) & Subscription.status.is_in(["active", "pending"])
        )
        .order_by(Subscription.email)
    )
    lines = sorted(
        (SubscriberLine(**row) for row in rows), key=lambda line: line.status != "active"
    )
    async with write_transaction():
        await audit.record(
            viewer,
            "subscribers.view",
            "council",
            council_id,
            council_id=council_id,
            detail=f"{len(lines)} adresses",
        )
    return lines
