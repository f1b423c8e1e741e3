"""What subscribers receive: the MIME structure of an invitation (RFC 6047), its calendar as
icalendar and ical.js read it, the headers, the French text; and no header injection.

Every message is taken from a real SMTP server (aiosmtpd) after the relay sent it, and parsed
with Python's `email` package (policy.default), as a mail client would.
"""

from __future__ import annotations

import dataclasses
import email
import re
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import icalendar
import pytest
from httpx import AsyncClient

from conseils import urls
from conseils.db import write_transaction
from conseils.settings import get_settings
from meetings.tables import Council, Meeting
from notifications import outbox, subscriptions
from notifications.tables import Subscription
from tests.support.dates import LIKE_2031
from tests.support.icaljs import parse_with_icaljs
from tests.support.mail_support import (
    MEETING,
    active_subscriber,
    calendar_part,
    create_meeting,
    deliver_all,
    forget_confirmations,
    mail_settings,
    make_relay,
    publish,
    queue_plain,
    rows,
    sender,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import Received, SmtpSink


SUBSCRIBER = "habitante@example.org"
PUBLIC_URL = "https://conseils.example.fr"
TAMARIS = "Conseil citoyen Alès Tamaris"
TAMARIS_CONTACT = "conseil.ales-tamaris@ville-ales.fr"
EVIL = "x\r\nBcc: evil@example.org"


@pytest.fixture(autouse=True)
def public_https_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links in emails come from BASE_URL; production serves https (RFC 8058 requires it)."""
    settings = dataclasses.replace(get_settings(), base_url=PUBLIC_URL)
    monkeypatch.setattr(urls, "get_settings", lambda: settings)


def parse(received: Received) -> EmailMessage:
    return email.message_from_bytes(received.data, policy=policy.default)  # type: ignore[return-value]


def header_block(received: Received) -> str:
    return received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")


def text_of(part: EmailMessage) -> str:
    """A text part's content with plain newlines (the wire's are CRLF)."""
    return part.get_content().replace("\r\n", "\n")


def parts_of(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.iter_parts()]


async def send_everything(sink: SmtpSink) -> list[Received]:
    await deliver_all(make_relay(mail_settings(sink)))
    return sink.received


def only(received: list[Received], kind: str, rows_by_id: dict[str, dict]) -> list[Received]:
    return [r for r in received if rows_by_id[r.message_id]["kind"] == kind]


async def by_message_id() -> dict[str, dict]:
    return {r["message_id"]: r for r in await rows()}


# ---------------------------------------------------------------- an invitation


async def test_an_announcement_is_an_invitation_with_its_calendar_twice(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    token = await active_subscriber(SUBSCRIBER)
    await forget_confirmations()
    meeting = await create_meeting(
        client,
        tamaris_auth,
        title="Café citoyen : jardins & <potagers>",
        description="Venez nombreux.\n\nGoûter offert à l'issue de la réunion.",
    )
    await publish(client, tamaris_auth, meeting["id"])
    [received] = await send_everything(smtp_sink)
    [stored] = await rows()
    uid = (await Meeting.select(Meeting.uid).where(Meeting.id == meeting["id"]).first())["uid"]
    message = parse(received)

    # The envelope.
    assert received.rcpt_tos == (SUBSCRIBER,)
    assert received.mail_from == sender().addr_spec
    assert received.data.isascii()
    assert max(len(line) for line in received.data.split(b"\r\n")) <= 998

    # Structure: mixed > (alternative > plain, html, calendar), ics attachment.
    assert message.get_content_type() == "multipart/mixed"
    assert parts_of(message) == ["multipart/alternative", "application/ics"]
    alternative, attachment = message.iter_parts()
    assert parts_of(alternative) == ["text/plain", "text/html", "text/calendar"]
    plain, html, calendar_part = alternative.iter_parts()
    for part in (plain, html, calendar_part):
        assert part.get_content_charset() == "utf-8"
    assert calendar_part.get_param("method") == "REQUEST"
    calendar_text = calendar_part.get_content()
    assert "\r\nMETHOD:REQUEST\r\n" in calendar_text
    assert attachment.is_attachment()
    assert attachment.get_filename() == "invitation.ics"
    assert calendar_text.startswith("BEGIN:VCALENDAR\r\n")
    assert calendar_text.rstrip("\r\n").endswith("\r\nEND:VCALENDAR")
    assert attachment.get_content().decode().rstrip("\r\n") == calendar_text.rstrip("\r\n")

    # The calendar, as the icalendar library reads it.
    parsed = icalendar.Calendar.from_ical(calendar_text)
    assert str(parsed["METHOD"]) == "REQUEST"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == f"mailto:{TAMARIS_CONTACT}"
    assert event["ORGANIZER"].params["CN"] == TAMARIS
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{SUBSCRIBER}"
    assert attendee.params["RSVP"] == "FALSE"
    assert str(event["SUMMARY"]) == "Café citoyen : jardins & <potagers>"
    assert event.decoded("DTSTART").isoformat() == f"{LIKE_2031}-03-12T18:00:00+01:00"
    # ... and as Thunderbird's ical.js reads it.
    seen = parse_with_icaljs(calendar_text)
    assert seen["calendar"]["method"] == "REQUEST"
    assert seen["timezones"] == ["Europe/Paris"]
    [js_event] = seen["events"]
    assert js_event["uid"] == uid
    assert js_event["sequence"] == 1
    assert js_event["organizer"] == f"mailto:{TAMARIS_CONTACT}"
    assert js_event["start_utc"] == f"{LIKE_2031}-03-12T17:00:00Z"
    assert js_event["status"] == "CONFIRMED"

    # Headers.
    assert message["Message-ID"] == stored["message_id"]
    assert parsedate_to_datetime(message["Date"]) == stored["created_at"].replace(microsecond=0)
    assert message["Auto-Submitted"] == "auto-generated"
    unsubscribe = f"{PUBLIC_URL}/abonnements/{token}/desabonner"
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].startswith("<ales-tamaris.")
    [from_] = message["From"].addresses
    assert from_.display_name == TAMARIS
    assert message["To"] == SUBSCRIBER
    assert message["Reply-To"] == TAMARIS_CONTACT
    assert message["Subject"] == (
        f"Nouvelle réunion : Café citoyen : jardins & <potagers> — mercredi 12 mars {LIKE_2031}"
    )

    # French text, escaped in HTML, with the links.
    text = text_of(plain)
    assert text.startswith("Bonjour,\n")
    assert f"Le {TAMARIS} annonce une nouvelle réunion." in text
    assert "Café citoyen : jardins & <potagers>" in text
    assert f"Quand : mercredi 12 mars {LIKE_2031}, de 18 h à 20 h" in text
    assert "Où : Maison de quartier de Tamaris, Rue de la Lozère, 30100 Alès" in text
    assert f"Tous les détails : {PUBLIC_URL}/reunions/{meeting['id']}" in text
    assert "Goûter offert à l'issue de la réunion." in text
    assert f"Se désabonner en un clic : {unsubscribe}" in text
    page = text_of(html)
    assert '<html lang="fr">' in page
    assert "jardins &amp; &lt;potagers&gt;" in page
    assert "<potagers>" not in page
    assert f'<a href="{unsubscribe}">Se désabonner en un clic</a>' in page
    assert "Voir la réunion" in page


async def test_change_and_cancellation_update_the_same_event(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    await active_subscriber(SUBSCRIBER)
    await forget_confirmations()
    relay = make_relay(mail_settings(smtp_sink))
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    await deliver_all(relay)  # each announcement goes out before the next change
    url = f"/api/v1/meetings/{meeting['id']}"
    moved = await client.patch(
        url, json={"venue": "Salle Louis-Aragon", "address": "Place Saint-Jean, 30100 Alès"},
        headers=tamaris_auth,
    )  # fmt: skip
    assert moved.status_code == 200
    await deliver_all(relay)
    assert (await client.post(f"{url}/cancel", headers=tamaris_auth)).status_code == 200
    await deliver_all(relay)
    received = smtp_sink.received
    stored = await by_message_id()
    assert [stored[r.message_id]["kind"] for r in received] == [
        "meeting_published", "meeting_changed", "meeting_cancelled",
    ]  # fmt: skip

    events = []
    for item in received:
        message = parse(item)
        alternative, attachment = message.iter_parts()
        calendar_part = list(alternative.iter_parts())[2]
        text = calendar_part.get_content()
        [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
        events.append((calendar_part.get_param("method"), attachment.get_filename(), event))
        assert parse_with_icaljs(text)["events"][0]["uid"] == str(event["UID"])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len({str(e["UID"]) for _, _, e in events}) == 1
    assert [int(e["SEQUENCE"]) for _, _, e in events] == [1, 2, 3]
    assert [(m, f) for m, f, _ in events] == [
        ("REQUEST", "invitation.ics"), ("REQUEST", "invitation.ics"), ("CANCEL", "cancel.ics"),
    ]  # fmt: skip
    assert str(events[1][2]["LOCATION"]) == "Salle Louis-Aragon, Place Saint-Jean, 30100 Alès"
    assert str(events[2][2]["STATUS"]) == "CANCELLED"

    changed = parse(received[1])
    assert changed["Subject"].startswith("Réunion modifiée : ")
    changed_text = text_of(changed.get_body(("plain",)))
    assert "Une réunion du Conseil citoyen Alès Tamaris a changé :" in changed_text
    assert "- Nouveau lieu : Salle Louis-Aragon, Place Saint-Jean, 30100 Alès" in changed_text
    cancelled = parse(received[2])
    assert cancelled["Subject"].startswith("Réunion annulée : ")
    cancelled_text = text_of(cancelled.get_body(("plain",)))
    assert "est annulée. Elle n'aura pas lieu." in cancelled_text


async def test_the_confirmation_email(smtp_sink: SmtpSink, demo: None) -> None:
    await subscriptions.subscribe("ales-tamaris", "Nouvelle.Habitante@Example.org")
    [received] = await send_everything(smtp_sink)
    [stored] = await rows()
    message = parse(received)
    token = (await Subscription.select(Subscription.token).first())["token"]
    confirm = f"{PUBLIC_URL}/abonnements/{token}/confirmer"

    assert received.rcpt_tos == ("nouvelle.habitante@example.org",)
    assert message["To"] == "nouvelle.habitante@example.org"
    assert message["Message-ID"] == stored["message_id"]
    assert message["Subject"] == f"Confirmez votre abonnement : {TAMARIS}"
    assert message["From"].addresses[0].display_name == TAMARIS
    assert message["Reply-To"] == TAMARIS_CONTACT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None  # not subscribed yet: nothing to leave
    assert message.get_content_type() == "multipart/alternative"
    assert parts_of(message) == ["text/plain", "text/html"]
    text = text_of(message.get_body(("plain",)))
    assert f"annonces du {TAMARIS}" in text
    assert f"Pour confirmer, ouvrez ce lien :\n{confirm}\n" in text
    assert "sans confirmation, vous ne recevrez rien" in text
    assert f'href="{confirm}"' in text_of(message.get_body(("html",)))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)


async def test_message_ids_are_stable_across_retries(smtp_sink: SmtpSink) -> None:
    """A retried message is the same message: same Message-ID, same Date."""
    smtp_sink.fail_data = 1
    smtp_sink.handler.fail_reply = "451 4.7.1 Greylisted"
    [message_id] = await queue_plain(1)
    relay = make_relay(mail_settings(smtp_sink))
    await relay.deliver_once()
    smtp_sink.fail_data = 0
    await deliver_all(relay)
    [received] = smtp_sink.received
    [stored] = await rows()
    assert received.message_id == message_id == stored["message_id"]
    assert re.fullmatch(r"<[0-9a-f]{32}@[^>]+>", message_id)
    # The Date is the moment the message was queued, not the moment of the last attempt.
    date = parsedate_to_datetime(parse(received)["Date"])
    assert date == stored["created_at"].replace(microsecond=0)


STRUCTURED = ("From", "To", "Reply-To", "Date", "Message-ID", "List-Unsubscribe", "List-Id")


def raw_headers(received: Received) -> dict[str, str]:
    """The header block as sent, unfolded, without decoding anything."""
    unfolded = re.sub(r"\r\n[ \t]", " ", header_block(received))
    return dict(line.split(": ", 1) for line in unfolded.split("\r\n"))


async def test_structured_headers_are_sent_as_they_are(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    """RFC 2047 encoded-words belong in unstructured text (Subject, a display name), never in
    an address, a Message-ID or a List-Unsubscribe URL: mail providers would not find the
    one-click link, and a To or Reply-To would no longer be an address."""
    contact = "conseil-citoyen.tamaris.quartiers-prioritaires@ville-ales.example.fr"
    await Council.update({Council.contact_email: contact}).where(Council.slug == "ales-tamaris")
    subscriber = "une.adresse.vraiment.longue.pour.un.abonnement@quartier-tamaris.example.org"
    token = await active_subscriber(subscriber)
    await forget_confirmations()
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    [received] = await send_everything(smtp_sink)
    headers = raw_headers(received)
    [stored] = await rows()
    assert headers["To"] == subscriber
    assert headers["Reply-To"] == contact
    assert headers["Message-ID"] == stored["message_id"]
    assert headers["List-Unsubscribe"] == f"<{PUBLIC_URL}/abonnements/{token}/desabonner>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for name in STRUCTURED:
        assert "=?" not in headers[name].split("<")[-1], (name, headers[name])
    assert max(len(line) for line in header_block(received).split("\r\n")) <= 998


async def test_the_calendar_part_ends_with_a_line_break(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    """RFC 5545: every content line ends with CRLF, END:VCALENDAR's too. The CRLF before a
    MIME boundary belongs to the boundary (RFC 2046), so the part must carry one more."""
    await active_subscriber(SUBSCRIBER)
    await forget_confirmations()
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    [received] = await send_everything(smtp_sink)
    message = parse(received)
    inline = calendar_part(message).get_content()
    attached = next(p for p in message.iter_parts() if p.is_attachment()).get_content().decode()
    assert attached.endswith("\r\nEND:VCALENDAR\r\n")
    assert inline == attached


# ---------------------------------------------------------------- header injection


def assert_no_injection(received: list[Received], recipients: set[str]) -> None:
    for item in received:
        message = parse(item)
        assert "Bcc" not in message, header_block(item)
        assert not re.search(r"^bcc:", header_block(item), re.IGNORECASE | re.MULTILINE)
        assert set(item.rcpt_tos) <= recipients
        assert [a.addr_spec for a in message["To"].addresses] == list(item.rcpt_tos)
        for name, value in message.items():
            assert "\n" not in value and "\r" not in value, (name, value)
    assert {r for item in received for r in item.rcpt_tos} == recipients


async def test_a_council_name_with_a_line_break_never_becomes_a_header(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    await Council.update({Council.name: EVIL}).where(Council.slug == "ales-tamaris")
    await active_subscriber(SUBSCRIBER)  # its confirmation names the council too
    await active_subscriber("voisin@example.org")
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    received = await send_everything(smtp_sink)
    assert len(received) == 4  # two confirmations, two announcements
    assert_no_injection(received, {SUBSCRIBER, "voisin@example.org"})
    stored = await by_message_id()
    for item in received:
        message = parse(item)
        [from_] = message["From"].addresses
        assert from_.display_name == "x Bcc: evil@example.org"
        assert from_.addr_spec == sender().addr_spec
        if stored[item.message_id]["kind"] == "meeting_published":
            assert message["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/abonnements/")
            calendar_text = list(message.iter_parts())[1].get_content().decode()
            [event] = icalendar.Calendar.from_ical(calendar_text).walk("VEVENT")
            assert event["ORGANIZER"].params["CN"] == "x Bcc: evil@example.org"
            assert "BCC" not in event
            parse_with_icaljs(calendar_text)
        else:
            assert message["Subject"] == "Confirmez votre abonnement : x Bcc: evil@example.org"


async def test_the_api_refuses_a_title_with_a_line_break(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    for title in (EVIL, "x\nBcc: evil@example.org", "x\rBcc: evil@example.org"):
        response = await client.post(
            "/api/v1/meetings",
            json={**MEETING, "title": title},
            headers=tamaris_auth,
        )
        assert response.status_code == 400
        assert response.json()["extra"][0]["key"] == "title"


@pytest.mark.parametrize(
    "evil",
    [
        "x\r\nBcc: evil@example.org",
        "x\nBcc: evil@example.org",
        "x\rBcc: evil@example.org",
        "x\r\n\r\nBcc: evil@example.org",
        "x\x00\r\nBcc: evil@example.org",
        "x\u2028Bcc: evil@example.org",
        "x\x85Bcc: evil@example.org",
        "x\x0bBcc: evil@example.org",
        "x\x0cBcc: evil@example.org",
    ],
)
async def test_queued_subject_and_headers_never_become_headers(
    smtp_sink: SmtpSink, evil: str
) -> None:
    """Drafts queued directly, as services build them, with every header value from user
    data carrying a line break: each stays inside its own header."""
    draft = outbox.Draft(
        key="injection",
        kind="meeting_published",
        recipient=SUBSCRIBER,
        subject=f"Nouvelle réunion : {evil}",
        text_body="Bonjour",
        html_body="<p>Bonjour</p>",
        headers={
            "From-Name": evil,
            "Reply-To": f"contact@example.org{evil[1:]}",
            "List-Unsubscribe": f"<{PUBLIC_URL}/abonnements/t/desabonner>{evil[1:]}",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"<ales-tamaris.example.org>{evil[1:]}",
            "Bcc": "evil@example.org",  # not a header a row may set
            "X-Injected": "oui",
        },
    )
    async with write_transaction():
        await outbox.enqueue([draft])
    received = await send_everything(smtp_sink)
    assert_no_injection(received, {SUBSCRIBER})
    [item] = received
    message = parse(item)
    assert "X-Injected" not in message
    assert message["Subject"].startswith("Nouvelle réunion : x")
    assert "evil@example.org" in message["Subject"]  # kept as text, on the subject's line
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [r["status"] for r in await rows()] == ["sent"]


async def test_a_recipient_with_a_line_break_adds_no_recipient(smtp_sink: SmtpSink) -> None:
    """Recipients are validated addresses (subscriptions normalise them); one that is not
    must never reach the server as an extra SMTP command, recipient or header."""
    draft = outbox.Draft(
        key="bad-recipient",
        kind="test",
        recipient=f"{SUBSCRIBER}\r\nRCPT TO:<evil@example.org>",
        subject="Bonjour",
        text_body="Bonjour",
    )
    try:
        async with write_transaction():
            await outbox.enqueue([draft])
    except ValueError:
        return  # refused when queued: nothing to send
    await deliver_all(make_relay(mail_settings(smtp_sink)), seconds=5)
    [stored] = await rows()
    if stored["status"] == "sent":  # to the address before the line break, and no other
        [item] = smtp_sink.received
        assert item.rcpt_tos == (SUBSCRIBER,)
        assert_no_injection([item], {SUBSCRIBER})
    else:
        assert stored["status"] == "failed"
        assert smtp_sink.received == []
