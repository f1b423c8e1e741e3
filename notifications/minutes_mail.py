"""Minutes announced: one fan-out job, expanded by the relay into one email per address.

Publishing minutes (and each "mise à jour" a facilitator asks for) emits `MinutesAnnounced`
inside its transaction; this module turns it into ONE `FanoutJob` whose key carries the
minutes and the announcement's number, so queueing the same announcement again is a no-op.
The relay expands it a batch per write transaction, in two passes over one cursor:

1. the confirmed subscribers of the councils concerned (by subscription id; `cursor` ≥ 0 is
   the last one expanded), with the council's one-click unsubscribe headers;
2. the registrants of the meeting whose registration is confirmed or who were marked
   present, never cancelled ones (by registration id; `cursor` = -(last id) - 1).

Each message's idempotency key carries a digest of the address, so an address met twice (a
subscriber of two councils, a subscriber who also came) gets one email per announcement,
even with two relays expanding at once.
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
import msgspec

from conseils import db, urls
from conseils.timefmt import now_utc
from meetings.tables import Council, Registration
from minutes.events import MinutesAnnounced, MinutesSnapshot
from notifications import fanout, outbox
from notifications.drafts import Draft
from notifications.rendering import render_pair
from notifications.tables import FanoutJob, Subscription

KINDS = ("minutes_published", "minutes_update")
TEMPLATE = "minutes_announced"
UNSUBSCRIBE_PLACEHOLDER = fanout.UNSUBSCRIBE_PLACEHOLDER


class Payload(msgspec.Struct, frozen=True):
    minutes: Any  # MinutesSnapshot as JSON
    update: bool
    sequence: int


def job_key(minutes_id: int, sequence: int) -> str:
    return f"minutes:{minutes_id}:{sequence}"


async def announced(event: MinutesAnnounced) -> None:
    """Queue the announcement's fan-out job, inside the publishing transaction."""
    shown = event.minutes
    inserted = (
        await FanoutJob.insert(
            FanoutJob(
                key=job_key(shown.id, event.sequence),
                kind=KINDS[1] if event.update else KINDS[0],
                council_id=shown.council_ids[0] if len(shown.council_ids) == 1 else 0,
                meeting_id=None,  # a meeting's newer announcement must not cancel it
                payload=msgspec.json.encode(
                    Payload(minutes=shown, update=event.update, sequence=event.sequence)
                ).decode(),
                status="pending",
                cursor=0,
                queued=0,
                created_at=now_utc(),
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(FanoutJob.id)
    )
    if inserted:
        db.on_commit(outbox.wake)


def _decode(job: dict[str, Any]) -> tuple[MinutesSnapshot, bool, int]:
    payload = msgspec.json.decode(job["payload"])
    shown = msgspec.convert(payload["minutes"], MinutesSnapshot)
    return shown, payload["update"], payload["sequence"]


def _subscribers(council_ids: tuple[int, ...], cursor: int, batch: int) -> Any:
    return (
        Subscription.select(
            Subscription.id, Subscription.email, Subscription.token, Subscription.council
        )
        .where(
            Subscription.council.is_in(list(council_ids) or [0])
            & (Subscription.status == "active")
            & (Subscription.id > cursor)
        )
        .order_by(Subscription.id)
        .limit(batch)
    )


def _registrants(meeting_ids: tuple[int, ...], after: int, batch: int) -> Any:
    """Confirmed or present, never cancelled (a walk-in without an address is skipped)."""
    return (
        Registration.select(Registration.id, Registration.email)
        .where(
            Registration.meeting.is_in(list(meeting_ids) or [0])
            & (Registration.id > after)
            & (Registration.status != "cancelled")
            & ((Registration.status == "confirmed") | Registration.attended.eq(True))
        )
        .order_by(Registration.id)
        .limit(batch)
    )


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def _subject(shown: MinutesSnapshot, update: bool) -> str:
    return ("Compte rendu mis à jour : " if update else "Compte rendu : ") + shown.title


async def _councils(ids: tuple[int, ...]) -> dict[int, dict[str, Any]]:
    rows = await Council.select(
        Council.id, Council.slug, Council.name, Council.contact_email
    ).where(Council.id.is_in(list(ids) or [0]))
    return {row["id"]: row for row in rows}


def _drafts(
    job: dict[str, Any],
    people: list[dict[str, Any]],
    councils: dict[int, dict[str, Any]],
    *,
    subscribers: bool,
) -> list[Draft]:
    """One message per person; rendered once per council, only the link differs."""
    shown, update, _ = _decode(job)
    kind = KINDS[1] if update else KINDS[0]
    rendered: dict[int, tuple[str, str]] = {}
    drafts = []
    for person in people:
        council = councils.get(person.get("council") or 0) if subscribers else None
        council_key = council["id"] if council else 0
        if council_key not in rendered:
            rendered[council_key] = render_pair(
                TEMPLATE,
                minutes=shown,
                update=update,
                council_name=council["name"] if council else shown.council_name,
                unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER if council else None,
            )
        text, html = rendered[council_key]
        headers: dict[str, str] = {}
        if council is not None:
            link = urls.unsubscribe_url(person["token"])
            text = text.replace(UNSUBSCRIBE_PLACEHOLDER, link)
            html = html.replace(UNSUBSCRIBE_PLACEHOLDER, link)
            headers = fanout.list_headers(council["slug"], council["name"], link)
            if council["contact_email"]:
                headers["Reply-To"] = council["contact_email"]
        drafts.append(
            Draft(
                key=f"{job['key']}:{_digest(person['email'])}",
                kind=kind,
                recipient=person["email"],
                subject=_subject(shown, update),
                text_body=text,
                html_body=html,
                headers=headers,
                council_id=council["id"] if council else (job["council_id"] or None),
                meeting_id=shown.meeting_ids[0] if shown.meeting_ids else None,
            )
        )
    return drafts


def _batch_query(job: dict[str, Any], shown: MinutesSnapshot, batch: int) -> tuple[Any, bool]:
    """The next batch's query and whether it reads subscribers (else registrants)."""
    if job["cursor"] >= 0:
        return _subscribers(shown.council_ids, job["cursor"], batch), True
    return _registrants(shown.meeting_ids, -job["cursor"] - 1, batch), False


def _next_cursor(
    job: dict[str, Any], shown: MinutesSnapshot, rows: list[dict], batch: int, subscribers: bool
) -> tuple[int, bool]:
    """(cursor, finished) after this batch."""
    if len(rows) == batch:
        return (rows[-1]["id"] if subscribers else -rows[-1]["id"] - 1), False
    if subscribers and shown.meeting_ids:
        return -1, False  # on to the registrants, from the first
    return job["cursor"], True


async def _oldest() -> dict[str, Any] | None:
    return (
        await FanoutJob.select()
        .where((FanoutJob.status == "pending") & FanoutJob.kind.is_in(list(KINDS)))
        .order_by(FanoutJob.id)
        .first()
    )


async def expand_next(batch: int = fanout.EXPANSION_BATCH) -> int:
    """Expand one batch of the oldest pending minutes job (0: none waiting). Messages are
    composed before the write transaction; inside, the job is taken (skipping one another
    relay holds), its batch read again, and only what was composed for the same rows is
    queued as is (the rest is composed there)."""
    job = await _oldest()
    if job is None:
        return 0
    shown, _, _ = _decode(job)
    query, subscribers = _batch_query(job, shown, batch)
    rows = await query
    councils = await _councils(shown.council_ids)
    composed = await anyio.to_thread.run_sync(
        lambda: outbox.compose_all(_drafts(job, rows, councils, subscribers=subscribers))
    )
    prepared = {
        (job["id"], job["cursor"], row["id"], row["email"], row.get("token")): message
        for row, message in zip(rows, composed, strict=True)
    }
    async with db.write_transaction():
        jobs = await FanoutJob.raw(
            "SELECT * FROM fanout_job WHERE status = 'pending' AND kind IN "  # noqa: S608
            "('minutes_published', 'minutes_update') ORDER BY id LIMIT 1 " + db.skip_locked()
        )
        if not jobs:
            return 0
        job = jobs[0]
        shown, _, _ = _decode(job)
        query, subscribers = _batch_query(job, shown, batch)
        rows = await db.locked(query, "SHARE")
        found = [
            prepared.get((job["id"], job["cursor"], row["id"], row["email"], row.get("token")))
            for row in rows
        ]
        late = [row for row, message in zip(rows, found, strict=True) if message is None]
        messages = [m for m in found if m is not None]
        if late:
            messages += outbox.compose_all(_drafts(job, late, councils, subscribers=subscribers))
        queued = await outbox.enqueue(messages) if messages else 0
        cursor, finished = _next_cursor(job, shown, rows, batch, subscribers)
        await FanoutJob.update(
            {
                FanoutJob.cursor: cursor,
                FanoutJob.queued: job["queued"] + queued,
                FanoutJob.status: "done" if finished else "pending",
                FanoutJob.finished_at: now_utc() if finished else None,
            }
        ).where(FanoutJob.id == job["id"])
    return max(len(rows), 1)


def register() -> None:
    fanout.add_expander("minutes", expand_next)
