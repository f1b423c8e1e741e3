"""Helpers shared by the registration tests: meetings through the API, sign-ups, the rows
that hold the truth (meeting counters, registrations, outbox) and the emails they queued."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import icalendar
from httpx import AsyncClient

from conseils.timefmt import now_utc
from conseils.validation import normalise_email
from meetings.services.registrations import sign_up_for_token
from meetings.tables import Meeting, Registration
from notifications.fanout import expand_all
from notifications.tables import OutboxMessage
from tests.support.dates import LIKE_2031

MEETING = {
    "council": "ales-tamaris",
    "kind": "cafe",
    "title": "Café citoyen : la rentrée des associations",
    "starts_at": f"{LIKE_2031}-09-18T18:00:00+02:00",
    "ends_at": f"{LIKE_2031}-09-18T20:00:00+02:00",
    "venue": "Maison de quartier de Tamaris",
    "address": "Rue de la Lozère, 30100 Alès",
    "capacity": 3,
}


async def published_meeting(client: AsyncClient, auth: dict[str, str], **overrides: Any) -> dict:
    """A meeting created and published by a facilitator through the API."""
    created = await client.post("/api/v1/meetings", json={**MEETING, **overrides}, headers=auth)
    assert created.status_code == 201, created.text
    published = await client.post(f"/api/v1/meetings/{created.json()['id']}/publish", headers=auth)
    assert published.status_code == 200, published.text
    return published.json()


def person(n: int | str, **overrides: Any) -> dict[str, Any]:
    """The API body of a resident's sign-up; `n` makes the name and address unique."""
    body: dict[str, Any] = {
        "name": f"Habitante n° {n}",
        "email": f"habitante.{n}@example.org",
        "phone": "06 12 34 56 78",
        "attending_as": "resident",
        "needs": "",
        "consent": True,
    }
    body.update(overrides)
    return body


def form_of(body: dict[str, Any]) -> dict[str, str]:
    """The same sign-up as the page's form sends it (form-encoded, consent=oui)."""
    form = {key: str(value) for key, value in body.items() if key != "consent"}
    if body.get("consent") is True:
        form["consent"] = "oui"
    return form


RECEIVED = {
    "status": "received",
    "detail": "Votre demande est enregistrée : un courriel vous confirme votre place ou votre "
    "rang sur la liste d'attente, avec le lien pour gérer votre inscription.",
}


async def sign_up(client: AsyncClient, meeting_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Sign up through the API, which answers the same to everyone and nothing more; then
    what the resident learns from their email: the registration's state and manage link."""
    response = await client.post(f"/api/v1/meetings/{meeting_id}/registrations", json=body)
    assert response.status_code == 202, response.text
    assert response.json() == RECEIVED
    return await registration_of(meeting_id, body["email"])


async def registration_of(meeting_id: int, address: str) -> dict[str, Any]:
    """The registration of this address, as its emails tell its owner: id, status, position
    on the waiting list and manage link (read from the rows, as the email is written)."""
    row = (
        await Registration.select(Registration.token)
        .where(Registration.key == f"{meeting_id}:{normalise_email(address)}")
        .first()
    )
    assert row is not None, f"no registration of {address}"
    found = await sign_up_for_token(row["token"])
    return {
        "id": found.id,
        "status": found.status,
        "position": found.position,
        "manage_url": found.manage_url,
    }


def token_of(manage_url: str) -> str:
    return manage_url.rstrip("/").rpartition("/")[2]


async def feed_token_of(meeting_id: int, address: str) -> str:
    """The read-only token of this registration's own calendar feed (shown on its manage
    page only)."""
    row = (
        await Registration.select(Registration.feed_token)
        .where(Registration.key == f"{meeting_id}:{normalise_email(address)}")
        .first()
    )
    assert row is not None and row["feed_token"], f"no feed token for {address}"
    return row["feed_token"]


def feed_path(feed_token: str) -> str:
    return f"/agenda/{feed_token}/calendrier.ics"


async def link_sent_long_ago(meeting_id: int, address: str | None = None) -> None:
    """As if the manage links of this meeting's registrations (or of this address's only)
    last went out eleven minutes ago: a repeated sign-up now sends the link again."""
    query = Registration.update({Registration.link_sent_at: now_utc() - timedelta(minutes=11)})
    if address is None:
        await query.where(Registration.meeting == meeting_id)
    else:
        await query.where(Registration.key == f"{meeting_id}:{normalise_email(address)}")


_MANAGE_LINK = re.compile(r"https?://[^\s<>\"]+/inscriptions/[A-Za-z0-9_-]{43}")


def manage_links(message: EmailMessage) -> list[str]:
    """The manage links an email's plain-text part holds, in order."""
    return _MANAGE_LINK.findall(plain_text(message))


async def meeting_row(meeting_id: int) -> dict[str, Any]:
    row = await Meeting.select().where(Meeting.id == meeting_id).first()
    assert row is not None
    return row


async def set_meeting(meeting_id: int, **values: Any) -> None:
    """Change a meeting behind the API's back (times the API refuses, such as the past)."""
    await Meeting.update(values).where(Meeting.id == meeting_id)


async def registrations(meeting_id: int) -> list[dict[str, Any]]:
    """A meeting's registrations in arrival order."""
    return await (
        Registration.select()
        .where(Registration.meeting == meeting_id)
        .order_by(Registration.arrival)
    )


async def by_status(meeting_id: int) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {"confirmed": [], "waitlisted": [], "cancelled": []}
    for row in await registrations(meeting_id):
        found[row["status"]].append(row)
    return found


async def outbox_rows(
    kind: str | None = None, *, meeting_id: int | None = None, recipient: str | None = None
) -> list[dict[str, Any]]:
    """Outbox rows, whatever their status (a relay may have sent them already), once the
    announcements' fan-out jobs are expanded (as the relay does)."""
    await expand_all()
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if meeting_id is not None:
        query = query.where(OutboxMessage.meeting_id == meeting_id)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return await query


async def kinds_to(recipient: str, meeting_id: int | None = None) -> list[str]:
    return [row["kind"] for row in await outbox_rows(meeting_id=meeting_id, recipient=recipient)]


def message_of(row: dict[str, Any]) -> EmailMessage:
    """The stored message parsed as a mail client would (Python's email package)."""
    return email.message_from_string(row["mime"], policy=policy.default)  # type: ignore[return-value]


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def html_text(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return body.get_content()


def invitation(message: EmailMessage) -> tuple[str, icalendar.Calendar] | None:
    """(the method= of the inline text/calendar part, its calendar), or None without one."""
    parts = [
        part
        for part in message.walk()
        if part.get_content_type() == "text/calendar" and not part.is_attachment()
    ]
    if not parts:
        return None
    [part] = parts
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())


def only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    return event


def attendees(event: icalendar.Event) -> list[str]:
    value = event.get("ATTENDEE")
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]
