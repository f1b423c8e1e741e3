"""Emails about a resident's registration, queued in the transaction that causes them.

Confirmed and promoted people get an iMIP REQUEST (the meeting enters their calendar), a
cancelled registration a CANCEL addressed to that attendee, waitlisted people a plain
message with their position. Every one carries the manage link, and goes to the
registrant's own address only. The reminder before the meeting is queued by
`queue_reminders()` with one idempotency key per registration and version of the meeting,
so it goes once however many relays scan for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from conseils import urls
from conseils.timefmt import french_date, now_utc
from meetings.events import (
    MeetingSnapshot,
    Registrant,
    RegistrantsMessaged,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationLinkRequested,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from meetings.services import registrations, snapshots
from notifications import outbox
from notifications.drafts import Draft
from notifications.invitations import Invitation
from notifications.rendering import render_pair
from notifications.tables import OutboxMessage


def draft(
    kind: str,
    key: str,
    registration: Registrant,
    meeting: MeetingSnapshot,
    subject: str,
    *,
    method: str | None = None,
    invitation: Invitation | None = None,
    capped: bool = False,
    **context: Any,
) -> Draft:
    """One email to a registrant, from template `kind`, with the manage link. `invitation`:
    the meeting's iMIP object when the caller addresses many (rendered once)."""
    text, html = render_pair(
        kind,
        meeting=meeting,
        place=meeting.place,
        page_url=urls.meeting_url(meeting.id),
        name=registration.name,
        manage_url=urls.manage_url(registration.token),
        unsubscribe_url=None,
        register_url=None,  # registered already
        **{"changes": [], "position": None, "was_confirmed": False, **context},
    )
    calendar = ""
    if method:
        calendar = (invitation or Invitation(meeting, method)).for_attendee(registration.email)
    return Draft(
        key=key,
        kind=kind,
        recipient=registration.email,
        subject=subject,
        text_body=text,
        html_body=html,
        calendar=calendar,
        calendar_method=method or "",
        headers={"From-Name": meeting.council_name, "Reply-To": meeting.contact_email},
        council_id=meeting.council_id,
        meeting_id=meeting.id,
        capped=capped,
    )


def _when(meeting: MeetingSnapshot) -> str:
    return french_date(meeting.starts_at)


def _key(kind: str, registration: Registrant) -> str:
    return f"{kind}:{registration.id}:{registration.arrival}"


async def _send(
    kind: str, person: Registrant, meeting: MeetingSnapshot, subject: str, **options: Any
) -> None:
    """Queue the one email of `kind` about this registration (once: its key)."""
    await outbox.enqueue([draft(kind, _key(kind, person), person, meeting, subject, **options)])


async def confirmed(event: RegistrationConfirmed) -> None:
    meeting = event.meeting
    subject = f"Inscription confirmée : {meeting.title} — {_when(meeting)}"
    await _send(
        "registration_confirmed",
        event.registration,
        meeting,
        subject,
        method="REQUEST",
        capped=True,  # sign-up and cancel, again and again: three a day at most
    )


async def waitlisted(event: RegistrationWaitlisted) -> None:
    subject = f"Liste d'attente (position {event.position}) : {event.meeting.title}"
    await _send(
        "registration_waitlisted",
        event.registration,
        event.meeting,
        subject,
        position=event.position,
        capped=True,
    )


async def promoted(event: RegistrationPromoted) -> None:
    meeting = event.meeting
    subject = f"Une place pour vous : {meeting.title} — {_when(meeting)}"
    await _send("registration_promoted", event.registration, meeting, subject, method="REQUEST")


async def link_requested(event: RegistrationLinkRequested) -> None:
    """The address signed up again: the manage link goes to it, not to whoever asked."""
    person, meeting = event.registration, event.meeting
    await outbox.enqueue(
        [
            draft(
                "registration_link",
                f"registration_link:{person.id}:{now_utc().isoformat()}",
                person,
                meeting,
                f"Votre inscription : {meeting.title} — {_when(meeting)}",
                status=person.status,
                position=event.position,
                capped=True,
            )
        ]
    )


async def cancelled(event: RegistrationCancelled) -> None:
    """The registration was cancelled: a CANCEL for that attendee if it held a seat (none
    when a facilitator removed it as spam). What was still queued for it (a reminder, a
    confirmation) is not sent."""
    person, meeting = event.registration, event.meeting
    await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
        (OutboxMessage.meeting_id == meeting.id)
        & (OutboxMessage.recipient == person.email)
        & (OutboxMessage.status == "queued")
        & OutboxMessage.kind.like("registration_%")
    )
    if event.spam:
        return  # an address someone else typed: it hears nothing more of it
    await _send(
        "registration_cancelled",
        person,
        meeting,
        f"Inscription annulée : {meeting.title}",
        method="CANCEL" if event.was_confirmed else None,
        was_confirmed=event.was_confirmed,
        capped=True,
    )


async def messaged(event: RegistrantsMessaged) -> None:
    """A facilitator's message to the meeting's registrants: one email each, with their
    manage link in the usual footer, queued once per message and person (`event.key`). The
    text is plain: as typed in the text part, escaped in the HTML part (autoescape)."""
    meeting = event.meeting
    await outbox.enqueue(
        draft(
            "registrants_message",
            f"registrants_message:{event.key}:{person.id}",
            person,
            meeting,
            event.subject,
            message=event.text,
        )
        for person in event.registrations
        if person.email
    )


def meeting_drafts(
    what: str,
    meeting: MeetingSnapshot,
    people: list[Registrant],
    subject: str,
    changes: list[str],
) -> list[Draft]:
    """A changed or cancelled meeting, told to its active registrants: confirmed ones get
    the REQUEST with the new SEQUENCE, or the CANCEL; waiting ones a plain message."""
    method = "CANCEL" if what == "meeting_cancelled" else "REQUEST"
    invitation = Invitation(meeting, method) if people else None
    return [
        draft(
            what,
            f"{what}:{meeting.id}:{meeting.sequence}:registration:{person.id}",
            person,
            meeting,
            subject,
            method=method if person.status == "confirmed" else None,
            invitation=invitation,
            changes=changes,
        )
        for person in people
    ]


async def queue_reminders(now: datetime, delay: timedelta) -> int:
    """Queue the reminders of confirmed registrations whose meeting starts within `delay`.
    Never for a cancelled meeting or registration; once per registration and version of the
    meeting (the key holds its SEQUENCE: a meeting moved gets a reminder of its new time)."""
    due = await registrations.due_for_reminder(now, now + delay)
    if not due:
        return 0
    meetings: dict[int, MeetingSnapshot | None] = {}
    for person in due:
        if person.meeting_id not in meetings:
            meetings[person.meeting_id] = await snapshots.snapshot(person.meeting_id)
    keys = {
        person.id: f"reminder:{person.id}:{meeting.sequence}"
        for person in due
        if (meeting := meetings[person.meeting_id]) is not None
    }
    if not keys:
        return 0
    done = {
        r["idempotency_key"]
        for r in await OutboxMessage.select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.is_in(list(keys.values()))
        )
    }
    drafts = []
    for person in due:
        key, meeting = keys.get(person.id), meetings[person.meeting_id]
        if key is None or key in done or meeting is None:
            continue
        drafts.append(
            draft(
                "registration_reminder",
                key,
                person,
                meeting,
                f"Rappel : {meeting.title} — {_when(meeting)}",
            )
        )
    return await outbox.enqueue(drafts) if drafts else 0
