"""Fan-out jobs: one row for an announcement to thousands, expanded into messages by the relay.

The request that publishes, changes or cancels a meeting writes one `FanoutJob` (in its
transaction, so a rollback announces nothing) instead of a message per subscriber. The relay
expands a job a batch at a time, each batch in one write transaction that queues its
messages and moves the job's cursor together:

- killed mid-expansion, the batch in progress rolls back and is redone: nobody is skipped,
  and the messages' idempotency keys make a second copy impossible anyway;
- subscribers are read when their batch is expanded, locked against a concurrent
  unsubscription: an address that unsubscribed before its batch gets nothing, and one that
  unsubscribes after finds its queued message cancelled;
- a newer announcement of the meeting cancels a job not yet finished (`cancel_pending`),
  as it cancels the older messages still queued;
- the meeting's registrants, told as registrants, are left out (`registrants`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec

from conseils import db, urls
from conseils.settings import get_settings
from conseils.timefmt import now_utc
from meetings.events import MeetingSnapshot
from notifications import outbox
from notifications.drafts import Draft
from notifications.invitations import Invitation
from notifications.rendering import render_pair
from notifications.tables import FanoutJob, Subscription

UNSUBSCRIBE_PLACEHOLDER = "https://desabonnement.invalid/lien"  # replaced per subscriber
EXPANSION_BATCH = 50  # messages inserted by one write transaction (kilobytes each)
# The jobs this module expands; other kinds (the minutes' announcements) have their own
# expander, added with `add_expander`, run by the same relay loop.
MEETING_KINDS = ("meeting_published", "meeting_changed", "meeting_cancelled")
Expander = Callable[[int], Awaitable[int]]
_expanders: dict[str, Expander] = {}


def add_expander(name: str, expand: Expander) -> None:
    """Another kind of fan-out job, expanded by `expand(batch)` (how many it covered)."""
    _expanders[name] = expand


@dataclass(frozen=True, slots=True)
class Announcement:
    """What every subscriber's message says; fixed when the change was made."""

    kind: str  # meeting_published, meeting_changed, meeting_cancelled
    meeting: MeetingSnapshot
    subject: str
    changes: list[str]
    registrants: list[str]  # addresses told as registrants: left out here
    # The meeting took sign-ups when announced: the message offers "S'inscrire" (a default
    # for the jobs queued before this field existed).
    takes_registrations: bool = False


async def queue_job(announcement: Announcement) -> None:
    """Queue the subscribers' part of an announcement, inside the change's transaction."""
    meeting = announcement.meeting
    inserted = (
        await FanoutJob.insert(
            FanoutJob(
                key=f"{announcement.kind}:{meeting.id}:{meeting.sequence}",
                kind=announcement.kind,
                council_id=meeting.council_id,
                meeting_id=meeting.id,
                payload=msgspec.json.encode(announcement).decode(),
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


async def cancel_pending(meeting_id: int) -> None:
    """A newer announcement of this meeting replaces the unfinished jobs of older ones."""
    await FanoutJob.update({FanoutJob.status: "cancelled", FanoutJob.finished_at: now_utc()}).where(
        (FanoutJob.meeting_id == meeting_id) & (FanoutJob.status == "pending")
    )


def _drafts(announcement: Announcement, subscribers: list[dict]) -> list[Draft]:
    """One message per subscriber; rendered once, only the unsubscribe link and the
    ATTENDEE differ."""
    meeting, kind = announcement.meeting, announcement.kind
    method = "CANCEL" if kind == "meeting_cancelled" else "REQUEST"
    text, html = render_pair(
        kind,
        meeting=meeting,
        place=meeting.place,
        page_url=urls.meeting_url(meeting.id),
        changes=announcement.changes,
        unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER,
        manage_url=None,
        register_url=(
            urls.registration_form_url(meeting.id) if announcement.takes_registrations else None
        ),
    )
    invitation = Invitation(meeting, method)
    drafts = []
    for subscriber in subscribers:
        link = urls.unsubscribe_url(subscriber["token"])
        drafts.append(
            Draft(
                key=f"{kind}:{meeting.id}:{meeting.sequence}:{subscriber['id']}",
                kind=kind,
                recipient=subscriber["email"],
                subject=announcement.subject,
                text_body=text.replace(UNSUBSCRIBE_PLACEHOLDER, link),
                html_body=html.replace(UNSUBSCRIBE_PLACEHOLDER, link),
                calendar=invitation.for_attendee(subscriber["email"]),
                calendar_method=method,
                headers={
                    **list_headers(meeting.council_slug, meeting.council_name, link),
                    "Reply-To": meeting.contact_email,
                },
                council_id=meeting.council_id,
                meeting_id=meeting.id,
            )
        )
    return drafts


def _subscribers(council_id: int, cursor: int, batch: int) -> Any:
    return (
        Subscription.select(Subscription.id, Subscription.email, Subscription.token)
        .where(
            (Subscription.council == council_id)
            & (Subscription.status == "active")
            & (Subscription.id > cursor)
        )
        .order_by(Subscription.id)
        .limit(batch)
    )


async def _prepared(batch: int) -> dict[tuple[int, int, str, str], outbox.Composed]:
    """The next batch's messages, composed before the write transaction (which then only
    checks and inserts them: every other writer waits while it holds the database), by job,
    subscriber, address and token. What changed meanwhile is composed again inside."""
    job = (
        await FanoutJob.select()
        .where((FanoutJob.status == "pending") & FanoutJob.kind.is_in(list(MEETING_KINDS)))
        .order_by(FanoutJob.id)
        .first()
    )
    if job is None:
        return {}
    announcement = msgspec.json.decode(job["payload"], type=Announcement)
    excluded = set(announcement.registrants)
    rows = await _subscribers(job["council_id"], job["cursor"], batch)
    chosen = [row for row in rows if row["email"] not in excluded]
    composed = await anyio.to_thread.run_sync(
        lambda: outbox.compose_all(_drafts(announcement, chosen))
    )
    return {
        (job["id"], row["id"], row["email"], row["token"]): message
        for row, message in zip(chosen, composed, strict=True)
    }


async def expand_next(batch: int = EXPANSION_BATCH) -> int:
    """Expand one batch of a pending job of any kind (a meeting's announcement first); how
    many recipients it covered (0: no job waiting)."""
    for expand in (_expand_announcement, *_expanders.values()):
        if handled := await expand(batch):
            return handled
    return 0


async def _expand_announcement(batch: int) -> int:
    """Expand one batch of the oldest pending job; returns how many subscribers it covered
    (0: no job waiting). One short write transaction: messages and cursor commit together.

    The messages are rendered beforehand, outside the transaction; inside, the job and its
    subscribers are read again (locked), and only those still active get their message."""
    if not await FanoutJob.exists().where(
        (FanoutJob.status == "pending") & FanoutJob.kind.is_in(list(MEETING_KINDS))
    ):
        return 0  # the usual case, checked without queueing behind the writers
    prepared = await _prepared(batch)
    async with db.write_transaction():
        jobs = await FanoutJob.raw(
            "SELECT * FROM fanout_job WHERE status = 'pending' AND kind IN "  # noqa: S608
            "('meeting_published', 'meeting_changed', 'meeting_cancelled') ORDER BY id LIMIT 1 "
            + db.skip_locked()
        )
        if not jobs:
            return 0
        job = jobs[0]
        announcement = msgspec.json.decode(job["payload"], type=Announcement)
        subscribers = await db.locked(
            _subscribers(job["council_id"], job["cursor"], batch), "SHARE"
        )
        excluded = set(announcement.registrants)
        chosen = [row for row in subscribers if row["email"] not in excluded]
        found = [prepared.get((job["id"], row["id"], row["email"], row["token"])) for row in chosen]
        late = [row for row, message in zip(chosen, found, strict=True) if message is None]
        if late:  # subscribed, or changed, since the batch was rendered (or another job)
            found = [m for m in found if m is not None] + outbox.compose_all(
                _drafts(announcement, late)
            )
        queued = await outbox.enqueue(found) if found else 0
        finished = len(subscribers) < batch
        await FanoutJob.update(
            {
                FanoutJob.cursor: subscribers[-1]["id"] if subscribers else job["cursor"],
                FanoutJob.queued: job["queued"] + queued,
                FanoutJob.status: "done" if finished else "pending",
                FanoutJob.finished_at: now_utc() if finished else None,
            }
        ).where(FanoutJob.id == job["id"])
    return max(len(subscribers), 1)


async def expand_all() -> int:
    """Expand every pending job to the end (the relay's loop does it a batch at a time)."""
    total = 0
    while handled := await expand_next():
        total += handled
    return total


def list_headers(council_slug: str, council_name: str, unsubscribe: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (a POST to the https link, no login, no cookie)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<{council_slug}.{get_settings().mail.domain}>",
        "From-Name": council_name,
    }
