"""Emails about a resident's registration, queued in the transaction that causes them.

Confirmed and promoted people get an iMIP REQUEST (the meeting enters their calendar), a
cancelled registration a CANCEL addressed to that attendee, waitlisted people a plain
message with their position. Every one carries the manage link. The reminder before the
meeting is queued by `queue_reminders()` with one idempotency key per registration and
version of the meeting, so it goes once however many relays scan for it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from meetings import urls
from meetings.services import calendar
from meetings.services.registrations import manage_url
from meetings.tables import Registration
from meetings.timefmt import french_date
from notifications import outbox
from notifications.invitations import Invitation
from notifications.rendering import render_pair
from notifications.tables import OutboxMessage

RETENTION = timedelta(days=365)


def reminder_delay() -> timedelta:
    """How long before a meeting its reminder goes (REMINDER_HOURS, 24 by default)."""
    return timedelta(hours=float(os.environ.get("REMINDER_HOURS") or 24))


def _place(meeting: dict[str, Any]) -> str:
    return ", ".join(p for p in (meeting["venue"], meeting["address"]) if p)


def draft(
    kind: str,
    key: str,
    registration: dict[str, Any],
    meeting: dict[str, Any],
    subject: str,
    *,
    method: str | None = None,
    **context: Any,
) -> outbox.Draft:
    """One email to a registrant, from template `kind`, with the manage link."""
    text, html = render_pair(
        kind,
        meeting=meeting,
        place=_place(meeting),
        page_url=urls.meeting_url(meeting["id"]),
        name=registration["name"],
        manage_url=manage_url(registration["token"]),
        unsubscribe_url=None,
        **{"changes": [], "position": None, "was_confirmed": False, **context},
    )
    return outbox.Draft(
        key=key,
        kind=kind,
        recipient=registration["email"],
        subject=subject,
        text_body=text,
        html_body=html,
        calendar=Invitation(meeting, method).for_attendee(registration["email"]) if method else "",
        calendar_method=method or "",
        headers={"From-Name": meeting["council_name"], "Reply-To": meeting["contact_email"]},
        council_id=meeting["council_id"],
        meeting_id=meeting["id"],
    )


async def _meeting(meeting_id: int) -> dict[str, Any]:
    meeting = await calendar.event_row(meeting_id)
    assert meeting is not None, "registrations exist only for public meetings"
    return meeting


def _when(meeting: dict[str, Any]) -> str:
    return french_date(meeting["starts_at"])


async def signed_up(registration: dict[str, Any], position: int | None) -> None:
    meeting = await _meeting(registration["meeting"])
    title = meeting["title"]
    if registration["status"] == "confirmed":
        mail = draft(
            "registration_confirmed",
            f"registration_confirmed:{registration['id']}:{registration['arrival']}",
            registration,
            meeting,
            f"Inscription confirmée : {title} — {_when(meeting)}",
            method="REQUEST",
        )
    else:
        mail = draft(
            "registration_waitlisted",
            f"registration_waitlisted:{registration['id']}:{registration['arrival']}",
            registration,
            meeting,
            f"Liste d'attente (position {position}) : {title}",
            position=position,
        )
    await outbox.enqueue([mail])


async def promoted(registration: dict[str, Any]) -> None:
    meeting = await _meeting(registration["meeting"])
    await outbox.enqueue(
        [
            draft(
                "registration_promoted",
                f"registration_promoted:{registration['id']}:{registration['arrival']}",
                registration,
                meeting,
                f"Une place pour vous : {meeting['title']} — {_when(meeting)}",
                method="REQUEST",
            )
        ]
    )


async def cancelled(registration: dict[str, Any], *, was: str) -> None:
    """The registration was cancelled: a CANCEL for that attendee if it held a seat. What
    was still queued for it (a reminder, a confirmation) is not sent."""
    meeting = await _meeting(registration["meeting"])
    await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
        (OutboxMessage.meeting_id == meeting["id"])
        & (OutboxMessage.recipient == registration["email"])
        & (OutboxMessage.status == "queued")
        & OutboxMessage.kind.like("registration_%")
    )
    await outbox.enqueue(
        [
            draft(
                "registration_cancelled",
                f"registration_cancelled:{registration['id']}:{registration['arrival']}",
                registration,
                meeting,
                f"Inscription annulée : {meeting['title']}",
                method="CANCEL" if was == "confirmed" else None,
                was_confirmed=was == "confirmed",
            )
        ]
    )


async def meeting_drafts(
    what: str, meeting: dict[str, Any], subject: str, changes: list[str]
) -> tuple[list[outbox.Draft], set[str]]:
    """A changed or cancelled meeting, told to its active registrants (confirmed ones get the
    REQUEST with the new SEQUENCE, or the CANCEL). Returns the drafts and their addresses."""
    rows = await Registration.select().where(
        (Registration.meeting == meeting["id"])
        & Registration.status.is_in(["confirmed", "waitlisted"])
    )
    method = "CANCEL" if what == "meeting_cancelled" else "REQUEST"
    drafts = [
        draft(
            what,
            f"{what}:{meeting['id']}:{meeting['sequence']}:registration:{row['id']}",
            row,
            meeting,
            subject,
            method=method if row["status"] == "confirmed" else None,
            changes=changes,
        )
        for row in rows
    ]
    return drafts, {row["email"] for row in rows}


async def queue_reminders(now: datetime) -> int:
    """Queue the reminders of confirmed registrations whose meeting starts within the delay.
    Never for a cancelled meeting or registration; once per registration and version of the
    meeting (the key holds its SEQUENCE: a meeting moved gets a reminder of its new time)."""
    soon = now + reminder_delay()
    rows = await (
        Registration.select(
            *Registration.all_columns(), Registration.meeting.sequence.as_alias("sequence")
        )
        .where(
            (Registration.status == "confirmed")
            & (Registration.meeting.status == "published")
            & (Registration.meeting.starts_at > now)
            & (Registration.meeting.starts_at <= soon)
        )
        .limit(5000)
    )
    if not rows:
        return 0
    keys = {row["id"]: f"reminder:{row['id']}:{row['sequence']}" for row in rows}
    done = {
        r["idempotency_key"]
        for r in await OutboxMessage.select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.is_in(list(keys.values()))
        )
    }
    drafts, meetings = [], {}
    for row in rows:
        if keys[row["id"]] in done:
            continue
        meeting_id = row["meeting"]
        if meeting_id not in meetings:
            meetings[meeting_id] = await calendar.event_row(meeting_id)
        meeting = meetings[meeting_id]
        if meeting is None:
            continue
        drafts.append(
            draft(
                "registration_reminder",
                keys[row["id"]],
                row,
                meeting,
                f"Rappel : {meeting['title']} — {_when(meeting)}",
            )
        )
    return await outbox.enqueue(drafts) if drafts else 0


async def purge_expired(now: datetime) -> int:
    """Registrations are kept a year after their meeting (as the sign-up form says), then
    deleted: names, addresses, phones and needs go with them."""
    ended = await Registration.raw(
        "DELETE FROM registration WHERE meeting IN "
        "(SELECT id FROM meeting WHERE ends_at < {}) RETURNING id",
        now - RETENTION,
    )
    return len(ended)


def wake() -> None:
    outbox.wake()
