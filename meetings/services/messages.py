"""A facilitator writes to a meeting's registrants ("Écrire aux inscrits").

Rules:
- to the confirmed registrants, and the waiting list too when asked; a walk-in who gave no
  address is skipped (nobody to write to);
- a subject of one line (no CR or LF: no header can be smuggled in) of at most
  `MAX_SUBJECT` characters, a plain text of at most `MAX_TEXT` (never read as HTML);
- **once per form**: the form carries a random key; the message is recorded under it
  (`MeetingMessage.key`, unique) in the transaction that emits the event, so a double click
  or a reload sends nothing more, and each recipient's email has its own outbox key too;
- the emails themselves (footer, manage link) are the notifications app's, from the event.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from conseils import audit, events
from conseils.db import write_transaction
from conseils.errors import Conflict, InvalidInput
from conseils.timefmt import now_utc
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from meetings.events import RegistrantsMessaged
from meetings.services import registrants, registrations, snapshots
from meetings.tables import MeetingMessage, Registration

MAX_SUBJECT = 150
MAX_TEXT = 5000
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")


@dataclass(frozen=True, slots=True)
class MessageSent:
    recipients: int
    repeated: bool  # the same form again: nothing was sent this time


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def clean(subject: object, text: object, key: object) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    cleaned: list[str] = []
    for name, value, limit, multiline in (
        ("subject", subject, MAX_SUBJECT, False),
        ("text", text, MAX_TEXT, True),
    ):
        try:
            cleaned.append(
                require_text(
                    name,
                    value if isinstance(value, str) else "",
                    max_length=limit,
                    multiline=multiline,
                )
            )
        except InvalidInput as exc:
            errors.update(exc.errors)
    if isinstance(subject, str) and _LINE_BREAK.search(subject):  # said as such, not "control"
        errors["subject"] = "l'objet tient sur une ligne : pas de retour à la ligne"
    if not isinstance(key, str) or not _FORM_KEY.match(key):
        errors["form_key"] = "ce formulaire n'est plus valable : rechargez la page"
    if errors:
        raise InvalidInput(errors)
    return cleaned[0], cleaned[1], str(key)


async def recipients(meeting_id: int, *, waitlist: bool) -> list[dict]:
    statuses = ["confirmed", "waitlisted"] if waitlist else ["confirmed"]
    return await (
        Registration.select()
        .where(
            (Registration.meeting == meeting_id)
            & Registration.status.is_in(statuses)
            & (Registration.email != "")
        )
        .order_by(Registration.arrival)
    )


async def count_recipients(viewer: FacilitatorView, meeting_id: int) -> tuple[int, int]:
    """(confirmed, waiting) registrants with an address: who the form would write to."""
    await registrants.meeting_for(viewer, meeting_id)
    rows = await recipients(meeting_id, waitlist=True)
    confirmed = sum(1 for row in rows if row["status"] == "confirmed")
    return confirmed, len(rows) - confirmed


async def message_registrants(
    viewer: FacilitatorView,
    meeting_id: int,
    *,
    subject: object,
    text: object,
    form_key: object,
    waitlist: bool = False,
) -> MessageSent:
    """Write to the meeting's registrants; see the module's rules."""
    subject, text, form_key = clean(subject, text, form_key)
    head = await registrants.meeting_for(viewer, meeting_id)
    key = f"{meeting_id}:{form_key}"
    async with write_transaction():
        meeting = await snapshots.snapshot(meeting_id)
        if meeting is None:
            raise Conflict("Cette réunion n'est pas publiée : elle n'a pas d'inscrits.")
        earlier = await MeetingMessage.select(MeetingMessage.recipients).where(
            MeetingMessage.key == key
        )
        if earlier:
            return MessageSent(earlier[0]["recipients"], repeated=True)
        rows = await recipients(meeting_id, waitlist=waitlist)
        if not rows:
            raise InvalidInput({"recipients": "aucune personne inscrite n'a d'adresse à écrire"})
        inserted = (
            await MeetingMessage.insert(
                MeetingMessage(
                    meeting=meeting_id,
                    key=key,
                    subject=subject,
                    recipients=len(rows),
                    sent_by=viewer.id,
                    created_at=now_utc(),
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(MeetingMessage.id)
        )
        if not inserted:  # the same form, posted at the same instant: the other one sends
            return MessageSent(len(rows), repeated=True)
        people = tuple(registrations.registrant_of(row) for row in rows)
        await events.emit(RegistrantsMessaged(meeting, people, subject, text, key))
        await audit.record(
            viewer,
            "meeting.message",
            "meeting",
            meeting_id,
            council_id=head.council_id,
            detail=f"message={inserted[0]['id']} recipients={len(rows)} waitlist={int(waitlist)}",
        )
    return MessageSent(len(rows), repeated=False)
