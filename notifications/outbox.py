"""The transactional outbox: queue an email in the transaction of the change that causes it.

Nothing is ever sent from a request. `enqueue()` writes rows; the relay (notifications.relay)
sends them later, retries what can be retried, and records every outcome on the row. Once
the transaction that queued mail commits, this process's relay wakes at once. A row's
idempotency key is unique, so a change that would queue the same email twice (a retried
request, a double click) queues it once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from conseils import audit, db
from conseils.db import MAX_ID
from conseils.errors import Conflict, Forbidden, InvalidInput, NotFound
from conseils.settings import get_settings
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from meetings.tables import Registration
from notifications.drafts import Draft
from notifications.mime import compose, one_line
from notifications.tables import OutboxMessage

# `held`: recorded but never sent, past the cap on repeated resident-triggered messages.
STATUSES = ("queued", "sending", "sent", "failed", "cancelled", "held")
REPEAT_CAP = 3
REPEAT_WINDOW = timedelta(days=1)
HELD_REASON = f"non envoyé : déjà {REPEAT_CAP} messages identiques à cette adresse en 24 h"
CHUNK = 500
_wake_callbacks: list[Any] = []


def new_message_id() -> str:
    return f"<{secrets.token_hex(16)}@{get_settings().mail.domain}>"


@dataclass(frozen=True, slots=True)
class Composed:
    """A message composed ahead of the transaction that queues it (`compose_all`)."""

    draft: Draft
    message_id: str
    mime: str


def compose_all(drafts: Iterable[Draft]) -> list[Composed]:
    """Compose messages outside any transaction (a fan-out's thousands), so that the one
    queueing them holds the database only to insert them. Not for capped drafts, whose cap
    is read in the queueing transaction."""
    now, settings = now_utc(), get_settings().mail
    composed = []
    for draft in drafts:
        if draft.capped:
            raise ValueError("a capped draft is composed when queued")
        message_id = new_message_id()
        mime = compose(draft, message_id, now, settings).decode("ascii")
        composed.append(Composed(draft, message_id, mime))
    return composed


# The columns `enqueue` writes, in the order of its rows (all but the id).
COLUMNS = (
    "idempotency_key", "kind", "recipient", "subject", "mime", "message_id", "council_id",
    "meeting_id", "status", "attempts", "next_attempt_at", "lease_until", "leased_by",
    "last_error", "created_at", "sent_at", "failed_at",
)  # fmt: skip


async def enqueue(drafts: Iterable[Draft | Composed]) -> int:
    """Queue emails, inside the transaction of the change. Returns how many were new.

    Composed messages (`compose_all`) are only inserted here: a fan-out's batch holds the
    database for the insert alone."""
    db.require_transaction("queueing mail")
    now = now_utc()
    settings = get_settings().mail
    rows = []
    for item in drafts:
        draft = item.draft if isinstance(item, Composed) else item
        if not draft.recipient:
            continue  # a walk-in who gave no address: nobody to write to
        held = draft.capped and await over_cap(draft, now)
        if isinstance(item, Composed):
            message_id, mime = item.message_id, item.mime
        else:
            message_id = new_message_id()
            mime = "" if held else compose(draft, message_id, now, settings).decode("ascii")
        status, error = ("held", HELD_REASON) if held else ("queued", "")
        row = (
            draft.key, draft.kind, draft.recipient, one_line(draft.subject)[:300], mime,
            message_id, draft.council_id, draft.meeting_id, status, 0, now, None, None, error,
            now, None, None,
        )  # fmt: skip
        rows.append(row)
    added = len(
        await db.insert_rows(
            OutboxMessage._meta.tablename, COLUMNS, rows, returning="id", chunk=CHUNK
        )
    )
    if added:
        db.on_commit(wake)
    return added


async def over_cap(draft: Draft, now: datetime | None = None) -> bool:
    """Has this address had REPEAT_CAP messages of this kind about this object today? The
    first of a kind always goes: a first confirmation is never held."""
    now = now or now_utc()
    same = (
        (OutboxMessage.kind == draft.kind)
        & (OutboxMessage.recipient == draft.recipient)
        & (OutboxMessage.created_at > now - REPEAT_WINDOW)
        & (OutboxMessage.status != "held")
    )
    for column, value in (
        (OutboxMessage.meeting_id, draft.meeting_id),
        (OutboxMessage.council_id, draft.council_id),
    ):
        same = same & (column.is_null() if value is None else column == value)
    return await OutboxMessage.count().where(same) >= REPEAT_CAP


def on_enqueued(callback: Any) -> None:
    """`callback()` runs once a transaction that queued mail has committed: the in-process
    relay wakes at once."""
    _wake_callbacks.append(callback)


def wake() -> None:
    """Wake this process's relay (after a commit that queued mail, or a retry)."""
    for callback in _wake_callbacks:
        callback()


# ---------------------------------------------------------------- facilitators' view
#
# Who sees a message: its council's facilitators (a message tied to no council, such as an
# account's email, only admins). Which address they see: a facilitator sees the addresses of
# their meetings' registrants anyway (the registrants list), so a message to a registrant of
# its meeting shows its recipient; any other (a subscriber's announcement or confirmation)
# shows only the domain, to them, in the address and in the SMTP reply alike: subscribers'
# addresses are for admins only. Admins see every address.

MASK = "…"


@dataclass(frozen=True, slots=True)
class OutboxView:
    id: int
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    council_id: int | None
    meeting_id: int | None
    message_id: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


_VIEW_COLUMNS = [
    getattr(OutboxMessage, name) for name in OutboxView.__dataclass_fields__
]  # fmt: skip


def _visible(viewer: FacilitatorView) -> Any:
    if viewer.is_admin:
        return None
    if not viewer.council_ids:
        return OutboxMessage.id == -1  # nothing
    return OutboxMessage.council_id.is_in(list(viewer.council_ids))


def masked(address: str) -> str:
    """An address as a facilitator may see a subscriber's: its domain only."""
    return MASK + "@" + address.rpartition("@")[2]


async def _as_seen_by(viewer: FacilitatorView, rows: list[dict[str, Any]]) -> list[OutboxView]:
    """The rows as views, each recipient masked unless this viewer may see it (see above)."""
    if viewer.is_admin or not rows:
        return [OutboxView(**row) for row in rows]
    meeting_ids = sorted({row["meeting_id"] for row in rows if row["meeting_id"] is not None})
    registrants: set[tuple[int, str]] = set()
    if meeting_ids:
        found = await Registration.select(Registration.meeting, Registration.email).where(
            Registration.meeting.is_in(meeting_ids)
            & Registration.email.is_in(sorted({row["recipient"] for row in rows}))
        )
        registrants = {(r["meeting"], r["email"]) for r in found}
    views = []
    for row in rows:
        address = row["recipient"]
        if (row["meeting_id"], address) not in registrants:
            hidden = masked(address)
            row = {
                **row,
                "recipient": hidden,
                "last_error": re.sub(re.escape(address), hidden, row["last_error"], flags=re.I),
            }
        views.append(OutboxView(**row))
    return views


async def list_messages(
    viewer: FacilitatorView,
    *,
    status: str | None = None,
    council_id: int | None = None,
    without_council: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OutboxView], int]:
    """The queue of the viewer's councils (all of it for an admin), newest first; one
    council's, or (admins) the messages tied to none."""
    if status is not None and status not in STATUSES:
        raise InvalidInput({"status": f"doit valoir {', '.join(STATUSES)}"})
    conditions = [c for c in (_visible(viewer), status and OutboxMessage.status == status) if c]
    if council_id is not None:
        conditions.append(OutboxMessage.council_id == council_id)
    if without_council:
        conditions.append(OutboxMessage.council_id.is_null())
    query = OutboxMessage.select(*_VIEW_COLUMNS).order_by(OutboxMessage.id, ascending=False)
    count = OutboxMessage.count()
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = await query.limit(limit).offset(offset)
    return await _as_seen_by(viewer, rows), await count


async def failure_counts(viewer: FacilitatorView) -> dict[int | None, int]:
    """Failed messages by council (None: tied to none), as far as this viewer sees."""
    query = OutboxMessage.select(
        OutboxMessage.council_id, Count(OutboxMessage.id, alias="failed")
    ).where(OutboxMessage.status == "failed")
    visible = _visible(viewer)
    if visible is not None:
        query = query.where(visible)
    rows = await query.group_by(OutboxMessage.council_id)
    return {row["council_id"]: row["failed"] for row in rows}


_REQUEUE = {
    OutboxMessage.status: "queued",
    OutboxMessage.attempts: 0,
    OutboxMessage.last_error: "",
    OutboxMessage.failed_at: None,
}


def _requeue(now: datetime) -> dict[Any, Any]:
    """A failed message queued again, now: the two days of retries count from now (the Date
    header, written into the message when first queued, does not change)."""
    return {**_REQUEUE, OutboxMessage.next_attempt_at: now, OutboxMessage.created_at: now}


async def retry_message(viewer: FacilitatorView, message_id: int) -> OutboxView:
    """Queue a failed message again, now; anything else is refused (409): only a `failed`
    row goes back to the queue, so a message that was sent is never sent again."""
    if not 1 <= message_id <= MAX_ID:
        raise NotFound("Ce message n'existe pas.", code="message_not_found")
    visible = _visible(viewer)
    condition = OutboxMessage.id == message_id
    if visible is not None:
        condition = condition & visible
    async with db.write_transaction():
        row = await OutboxMessage.select(OutboxMessage.council_id).where(condition).first()
        if row is None:
            if not viewer.is_admin and not viewer.council_ids:
                raise Forbidden("Vous n'animez aucun conseil.", code="no_council")
            raise NotFound("Ce message n'existe pas.", code="message_not_found")
        updated = (
            await OutboxMessage.update(_requeue(now_utc()))
            .where(condition & (OutboxMessage.status == "failed"))
            .returning(OutboxMessage.id)
        )
        if not updated:
            raise Conflict("Seul un message en échec peut être renvoyé.", code="message_not_failed")
        await audit.record(
            viewer, "outbox.retry", "outbox_message", message_id, council_id=row["council_id"]
        )
        db.on_commit(wake)
    found = await OutboxMessage.select(*_VIEW_COLUMNS).where(condition).first()
    return (await _as_seen_by(viewer, [found]))[0]


async def retry_failed(viewer: FacilitatorView, council_id: int | None) -> int:
    """Queue again every failed message of a council (None: those tied to none, admins
    only); how many went back to the queue."""
    if council_id is None:
        if not viewer.is_admin:
            raise Forbidden("Réservé aux administrateurs du site.", code="admin_only")
        scope = OutboxMessage.council_id.is_null()
    else:
        if not viewer.may_write(council_id):
            raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")
        scope = OutboxMessage.council_id == council_id
    async with db.write_transaction():
        updated = (
            await OutboxMessage.update(_requeue(now_utc()))
            .where(scope & (OutboxMessage.status == "failed"))
            .returning(OutboxMessage.id)
        )
        if updated:
            await audit.record(
                viewer,
                "outbox.retry_all",
                "council",
                council_id,
                council_id=council_id,
                detail=f"{len(updated)} messages",
            )
            db.on_commit(wake)
    return len(updated)
