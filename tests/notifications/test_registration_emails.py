"""What registrants receive: the outbox rows a sign-up, a promotion, a cancellation, a changed
or cancelled meeting and a reminder queue, each parsed from its `mime` column with Python's
email package (policy.default), its calendar part with icalendar (and ical.js)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from conseils.db import write_transaction
from conseils.settings import get_settings
from meetings.tables import Registration
from notifications import subscriptions
from notifications.registration_mail import queue_reminders
from notifications.tables import OutboxMessage, Subscription
from tests.support.dates import LIKE_2031
from tests.support.icaljs import parse_with_icaljs
from tests.support.registration_support import (
    attendees,
    by_status,
    feed_path,
    feed_token_of,
    html_text,
    invitation,
    meeting_row,
    message_of,
    only_event,
    outbox_rows,
    person,
    published_meeting,
    sign_up,
    token_of,
)

TAMARIS = "Conseil citoyen Alès Tamaris"
TAMARIS_CONTACT = "conseil.ales-tamaris@ville-ales.fr"
START = datetime(LIKE_2031, 9, 18, 16, tzinfo=UTC)  # the support module's meeting: 18 h in Paris


def plain(message) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def mailto(address: str) -> str:
    return f"mailto:{address}"


async def only(kind: str, recipient: str, meeting_id: int | None = None) -> dict[str, Any]:
    found = await outbox_rows(kind, recipient=recipient, meeting_id=meeting_id)
    assert len(found) == 1, (kind, recipient, found)
    return found[0]


def check_registrant_mail(
    row: dict[str, Any], registration: dict[str, Any], manage_url: str
) -> Any:
    """What every email to a registrant has: its address, its name, the manage link."""
    message = message_of(row)
    assert message["To"] == registration["email"]
    assert message["Message-ID"] == row["message_id"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert TAMARIS in str(message["From"])
    assert message["Reply-To"] == TAMARIS_CONTACT
    assert "List-Unsubscribe" not in message  # not a list: a registration
    text = plain(message)
    assert f"Bonjour {registration['name']}" in text or text.startswith("Bonjour,")
    assert manage_url in text, text
    assert manage_url in html_text(message)
    return message


async def registration(registration_id: int) -> dict[str, Any]:
    row = await Registration.select().where(Registration.id == registration_id).first()
    assert row is not None
    return row


async def active_subscriber(email: str, slug: str = "ales-tamaris") -> None:
    await subscriptions.subscribe(slug, email)
    row = await Subscription.select(Subscription.token).where(Subscription.email == email).first()
    assert (await subscriptions.confirm(row["token"])).status == "active"
    await OutboxMessage.delete().where(OutboxMessage.kind == "subscription_confirm")


# ---------------------------------------------------------------- sign-up, promotion, cancel


async def test_a_confirmed_registrant_gets_an_invitation_for_themselves(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    mine = await sign_up(client, meeting["id"], person(1, name="Hélène Côté"))
    reg = await registration(mine["id"])
    row = await only("registration_confirmed", reg["email"], meeting["id"])
    assert row["council_id"] is not None
    message = check_registrant_mail(row, reg, mine["manage_url"])
    assert message["Subject"].startswith(f"Inscription confirmée : {meeting['title']} — ")
    assert "Votre inscription est confirmée" in plain(message)
    assert message.get_content_type() == "multipart/mixed"

    method, calendar = invitation(message)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = only_event(calendar)
    stored = await meeting_row(meeting["id"])
    assert str(event["UID"]) == stored["uid"]
    assert int(event["SEQUENCE"]) == stored["sequence"]
    assert event.decoded("DTSTART").astimezone(UTC) == START
    assert attendees(event) == [mailto("habitante.1@example.org")]
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert TAMARIS_CONTACT in str(event["ORGANIZER"])
    # The same event as an .ics attachment, and as Thunderbird's ical.js reads it.
    [attachment] = [p for p in message.walk() if p.is_attachment()]
    assert attachment.get_content_type() in ("text/calendar", "application/ics")
    [parsed] = parse_with_icaljs(attachment.get_content())["events"]
    assert parsed["uid"] == stored["uid"]
    assert parsed["sequence"] == stored["sequence"]
    assert parsed["start_utc"] == f"{LIKE_2031}-09-18T16:00:00Z"


async def test_a_waitlisted_registrant_learns_their_position_without_an_invitation(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    await sign_up(client, meeting["id"], person(1))
    second = await sign_up(client, meeting["id"], person(2))
    third = await sign_up(client, meeting["id"], person(3))
    for mine, position in ((second, 1), (third, 2)):
        reg = await registration(mine["id"])
        row = await only("registration_waitlisted", reg["email"])
        message = check_registrant_mail(row, reg, mine["manage_url"])
        assert message["Subject"] == f"Liste d'attente (position {position}) : {meeting['title']}"
        assert f"en position {position}" in plain(message)
        assert invitation(message) is None
    assert len(await outbox_rows("registration_confirmed")) == 1


async def test_promotion_and_cancellation_emails(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await sign_up(client, meeting["id"], person(1))
    second = await sign_up(client, meeting["id"], person(2))
    third = await sign_up(client, meeting["id"], person(3))

    await client.post(f"/inscriptions/{token_of(first['manage_url'])}/annuler")
    # The person who cancelled: a CANCEL for the invitation they had, with their link.
    gone = await registration(first["id"])
    row = await only("registration_cancelled", gone["email"])
    message = check_registrant_mail(row, gone, first["manage_url"])
    assert message["Subject"] == f"Inscription annulée : {meeting['title']}"
    method, calendar = invitation(message)
    assert (method, str(calendar["METHOD"])) == ("CANCEL", "CANCEL")
    event = only_event(calendar)
    assert str(event["UID"]) == (await meeting_row(meeting["id"]))["uid"]
    assert attendees(event) == [mailto(gone["email"])]
    # Their confirmation, if still queued, is not sent any more.
    [confirmation] = await outbox_rows("registration_confirmed", recipient=gone["email"])
    assert confirmation["status"] == "cancelled"

    # The first person waiting: promoted, with the invitation.
    promoted = await registration(second["id"])
    assert promoted["status"] == "confirmed"
    row = await only("registration_promoted", promoted["email"])
    message = check_registrant_mail(row, promoted, second["manage_url"])
    assert message["Subject"].startswith(f"Une place pour vous : {meeting['title']} — ")
    assert "une place s'est libérée" in plain(message)
    method, calendar = invitation(message)
    assert method == "REQUEST"
    assert attendees(only_event(calendar)) == [mailto(promoted["email"])]
    assert await outbox_rows("registration_promoted", recipient="habitante.3@example.org") == []

    # A waitlisted person who cancels had no invitation: no CANCEL, but still their link.
    await client.post(f"/inscriptions/{token_of(third['manage_url'])}/annuler")
    waiting = await registration(third["id"])
    row = await only("registration_cancelled", waiting["email"])
    message = check_registrant_mail(row, waiting, third["manage_url"])
    assert invitation(message) is None

    # Cancelling again sends nothing more.
    before = await OutboxMessage.count()
    for mine in (first, third):
        again = await client.post(f"/inscriptions/{token_of(mine['manage_url'])}/annuler")
        assert again.status_code == 200
    assert await OutboxMessage.count() == before


# ---------------------------------------------------------------- the meeting changes


async def test_a_changed_time_reaches_registrants_with_the_new_sequence(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    confirmed = await sign_up(client, meeting["id"], person(1))
    waiting = await sign_up(client, meeting["id"], person(2))
    left = await sign_up(client, meeting["id"], person(3))
    await client.post(f"/inscriptions/{token_of(left['manage_url'])}/annuler")
    await active_subscriber("voisin@example.org")
    before = await meeting_row(meeting["id"])

    response = await client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        json={
            "starts_at": f"{LIKE_2031}-09-18T19:00:00+02:00",
            "ends_at": f"{LIKE_2031}-09-18T21:00:00+02:00",
        },
        headers=tamaris_auth,
    )
    assert response.status_code == 200, response.text
    after = await meeting_row(meeting["id"])
    assert after["sequence"] == before["sequence"] + 1

    changed = await outbox_rows("meeting_changed", meeting_id=meeting["id"])
    assert sorted(r["recipient"] for r in changed) == [
        "habitante.1@example.org",
        "habitante.2@example.org",
        "voisin@example.org",
    ]  # not the person who cancelled
    row = await only("meeting_changed", "habitante.1@example.org")
    message = check_registrant_mail(
        row, await registration(confirmed["id"]), confirmed["manage_url"]
    )
    assert message["Subject"].startswith(f"Réunion modifiée : {meeting['title']} — ")
    assert "Nouvel horaire" in plain(message)
    method, calendar = invitation(message)
    assert method == "REQUEST"
    event = only_event(calendar)
    assert str(event["UID"]) == after["uid"]
    assert int(event["SEQUENCE"]) == after["sequence"]
    assert event.decoded("DTSTART").astimezone(UTC) == START + timedelta(hours=1)
    assert attendees(event) == [mailto("habitante.1@example.org")]
    [parsed] = parse_with_icaljs(calendar.to_ical())["events"]
    assert (parsed["sequence"], parsed["start_utc"]) == (
        after["sequence"],
        f"{LIKE_2031}-09-18T17:00:00Z",
    )

    # The waitlisted person hears of it, with their link, but gets no invitation.
    row = await only("meeting_changed", "habitante.2@example.org")
    message = check_registrant_mail(row, await registration(waiting["id"]), waiting["manage_url"])
    assert invitation(message) is None

    # The subscriber's copy is the announcement: unsubscribe link, no manage link.
    row = await only("meeting_changed", "voisin@example.org")
    message = message_of(row)
    assert "List-Unsubscribe" in message
    assert "/inscriptions/" not in plain(message)

    # The new time is in the confirmed person's feed too (their registration's own feed).
    feed = await client.get(
        feed_path(await feed_token_of(meeting["id"], "habitante.1@example.org"))
    )
    assert feed.status_code == 200, feed.text
    [event] = parse_with_icaljs(feed.content)["events"]
    assert (event["sequence"], event["start_utc"]) == (
        after["sequence"],
        f"{LIKE_2031}-09-18T17:00:00Z",
    )


async def test_a_subscribed_registrant_hears_of_a_change_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    both = await sign_up(client, meeting["id"], person(1, email="Both@Example.org"))
    waiting_both = await sign_up(client, meeting["id"], person(2, email="waits@example.org"))
    await active_subscriber("both@example.org")
    await active_subscriber("waits@example.org")
    await active_subscriber("only-subscribed@example.org")

    for change in (
        {"starts_at": f"{LIKE_2031}-09-18T18:30:00+02:00"},
        {"venue": "Salle des fêtes", "address": "Place de la Mairie, 30100 Alès"},
    ):
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json=change, headers=tamaris_auth
        )
        assert response.status_code == 200, response.text
    sequence = (await meeting_row(meeting["id"]))["sequence"]
    changed = await outbox_rows("meeting_changed", meeting_id=meeting["id"])
    latest = [
        r
        for r in changed
        if r["idempotency_key"].startswith(f"meeting_changed:{meeting['id']}:{sequence}:")
    ]
    assert sorted(r["recipient"] for r in latest) == [
        "both@example.org",
        "only-subscribed@example.org",
        "waits@example.org",
    ]
    # One email per change; an older one still queued is superseded by the newer.
    mine = [r for r in changed if r["recipient"] == "both@example.org"]
    assert [r["status"] for r in mine] == ["cancelled", "queued"]
    row = mine[-1]
    message = check_registrant_mail(row, await registration(both["id"]), both["manage_url"])
    assert "List-Unsubscribe" not in message
    assert "Nouveau lieu : Salle des fêtes" in plain(message)
    assert invitation(message)[0] == "REQUEST"
    waits = [r for r in latest if r["recipient"] == "waits@example.org"]
    assert waiting_both["manage_url"] in plain(message_of(waits[0]))

    response = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    cancelled = await outbox_rows("meeting_cancelled", meeting_id=meeting["id"])
    assert sorted(r["recipient"] for r in cancelled) == [
        "both@example.org",
        "only-subscribed@example.org",
        "waits@example.org",
    ]


async def test_a_cancelled_meeting_sends_registrants_a_cancel(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    people = [await sign_up(client, meeting["id"], person(n)) for n in range(3)]
    gone = await sign_up(client, meeting["id"], person("parti"))
    await client.post(f"/inscriptions/{token_of(gone['manage_url'])}/annuler")

    response = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    after = await meeting_row(meeting["id"])
    cancelled = await outbox_rows("meeting_cancelled", meeting_id=meeting["id"])
    assert sorted(r["recipient"] for r in cancelled) == [
        f"habitante.{n}@example.org" for n in range(3)
    ]
    for n, mine in enumerate(people):
        row = await only("meeting_cancelled", f"habitante.{n}@example.org")
        message = check_registrant_mail(row, await registration(mine["id"]), mine["manage_url"])
        assert message["Subject"].startswith(f"Réunion annulée : {meeting['title']} — ")
        assert "est annulée" in plain(message)
        found = invitation(message)
        if mine["status"] == "confirmed":
            method, calendar = found
            assert (method, str(calendar["METHOD"])) == ("CANCEL", "CANCEL")
            event = only_event(calendar)
            assert int(event["SEQUENCE"]) == after["sequence"]
            assert str(event["STATUS"]) == "CANCELLED"
            assert attendees(event) == [mailto(f"habitante.{n}@example.org")]
        else:
            assert found is None
    # Cancelling the meeting again sends nothing more; registrations are left as they were
    # (their manage pages say the meeting is cancelled).
    before = await OutboxMessage.count()
    await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert await OutboxMessage.count() == before
    page = await client.get(f"/inscriptions/{token_of(people[0]['manage_url'])}")
    assert "Cette réunion est annulée." in page.text


# ---------------------------------------------------------------- reminders

NOW = START - timedelta(hours=6)  # 10 h in Paris on the meeting's day


async def meeting_at(client: AsyncClient, auth: dict[str, str], title: str, starts: datetime, **kw):
    return await published_meeting(
        client,
        auth,
        title=title,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
        **kw,
    )


async def reminders() -> list[dict[str, Any]]:
    return await outbox_rows("registration_reminder")


async def queue(now: datetime = NOW, delay: timedelta | None = None) -> int:
    async with write_transaction():
        return await queue_reminders(now, delay or get_settings().mail.reminder_delay)


@pytest.fixture
async def reminder_setup(client: AsyncClient, tamaris_auth: dict[str, str]) -> dict[str, Any]:
    """A meeting today (three confirmed, one cancelled), a cancelled one tonight, one in
    exactly 24 h, one a second later, one in two days and one that already started."""
    today = await meeting_at(client, tamaris_auth, "Aujourd'hui", START, capacity=3)
    people = [await sign_up(client, today["id"], person(n)) for n in "abcd"]
    await client.post(f"/inscriptions/{token_of(people[2]['manage_url'])}/annuler")  # d promoted
    tonight = await meeting_at(client, tamaris_auth, "Ce soir", START + timedelta(hours=4))
    await sign_up(client, tonight["id"], person("e"))
    await client.post(f"/api/v1/meetings/{tonight['id']}/cancel", headers=tamaris_auth)
    edge = await meeting_at(client, tamaris_auth, "Dans 24 h", NOW + timedelta(hours=24))
    await sign_up(client, edge["id"], person("f"))
    beyond = await meeting_at(
        client, tamaris_auth, "Dans 24 h et 1 s", NOW + timedelta(hours=24, seconds=1)
    )
    await sign_up(client, beyond["id"], person("g"))
    later = await meeting_at(client, tamaris_auth, "Dans deux jours", START + timedelta(days=2))
    await sign_up(client, later["id"], person("h"))
    started = await meeting_at(client, tamaris_auth, "Déjà commencée", NOW - timedelta(hours=1))
    await sign_up(client, started["id"], person("i"))
    await OutboxMessage.delete(force=True)  # the confirmations: only reminders matter here
    return {"today": today, "edge": edge, "later": later, "people": people}


EXPECTED = [
    "habitante.a@example.org",
    "habitante.b@example.org",
    "habitante.d@example.org",
    "habitante.f@example.org",
]


async def test_reminders_go_to_confirmed_registrants_of_meetings_within_the_delay(
    client: AsyncClient, reminder_setup: dict[str, Any]
) -> None:
    assert await queue() == 4
    rows = await reminders()
    assert sorted(r["recipient"] for r in rows) == EXPECTED
    today = reminder_setup["today"]
    found = await by_status(today["id"])
    by_email = {r["email"]: r for r in found["confirmed"]}
    for row in rows:
        if row["meeting_id"] != today["id"]:
            continue
        reg = by_email[row["recipient"]]
        manage = f"http://testserver.local/inscriptions/{reg['token']}"
        message = check_registrant_mail(row, reg, manage)
        assert message["Subject"].startswith("Rappel : Aujourd'hui — ")
        assert "Petit rappel" in plain(message)
        assert "de 18 h à 20 h" in plain(message)
    # Once: again, and again later, nothing more.
    assert await queue() == 0
    assert len(await reminders()) == 4
    # An hour later the next meeting comes within the delay: only its reminder is new.
    assert await queue(NOW + timedelta(hours=1)) == 1
    assert await queue(NOW + timedelta(hours=1)) == 0
    assert sorted(r["recipient"] for r in await reminders()) == [
        *EXPECTED,
        "habitante.g@example.org",
    ]


async def test_concurrent_reminder_scans_queue_each_reminder_once(
    reminder_setup: dict[str, Any],
) -> None:
    results = await asyncio.gather(*(queue() for _ in range(4)))
    assert sum(results) == 4
    rows = await reminders()
    assert sorted(r["recipient"] for r in rows) == EXPECTED
    assert len({r["idempotency_key"] for r in rows}) == 4


async def test_reminder_hours_sets_the_delay(reminder_setup: dict[str, Any]) -> None:
    assert await queue(delay=timedelta(hours=72)) == 6  # the two further meetings too
    assert sorted(r["recipient"] for r in await reminders()) == sorted(
        [*EXPECTED, "habitante.g@example.org", "habitante.h@example.org"]
    )
    assert await queue(START - timedelta(minutes=30), timedelta(hours=1)) == 0  # already queued


async def test_a_cancelled_registration_loses_its_queued_reminder(
    client: AsyncClient, tamaris_auth: dict[str, str], reminder_setup: dict[str, Any]
) -> None:
    await queue()
    a = reminder_setup["people"][0]
    await client.post(f"/inscriptions/{token_of(a['manage_url'])}/annuler")
    [reminder] = await outbox_rows("registration_reminder", recipient="habitante.a@example.org")
    assert reminder["status"] == "cancelled"
    assert await queue() == 0


async def test_a_moved_meeting_gets_a_reminder_of_its_new_time(
    client: AsyncClient, tamaris_auth: dict[str, str], reminder_setup: dict[str, Any]
) -> None:
    assert await queue() == 4
    today = reminder_setup["today"]
    response = await client.patch(
        f"/api/v1/meetings/{today['id']}",
        json={
            "starts_at": (START + timedelta(hours=1)).isoformat(),
            "ends_at": (START + timedelta(hours=3)).isoformat(),
        },
        headers=tamaris_auth,
    )
    assert response.status_code == 200, response.text
    old = await outbox_rows("registration_reminder", meeting_id=today["id"])
    assert {r["status"] for r in old} == {"cancelled"}  # superseded by the change
    assert await queue() == 3
    new = [
        r
        for r in await outbox_rows("registration_reminder", meeting_id=today["id"])
        if r["status"] == "queued"
    ]
    assert len(new) == 3
    assert all("de 19 h à 21 h" in plain(message_of(r)) for r in new)
    assert await queue() == 0


async def test_what_a_resident_typed_is_escaped_in_the_html_part(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    name = 'Jeanne <img src=x onerror="alert(1)"> & Cie'
    mine = await sign_up(client, meeting["id"], person(1, name=name))
    [row] = await outbox_rows("registration_confirmed")
    message = check_registrant_mail(row, await registration(mine["id"]), mine["manage_url"])
    assert f"Bonjour {name}," in plain(message)
    html = html_text(message)
    assert "<img" not in html
    assert "Jeanne &lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Cie" in html
    assert "\r\n" not in message["Subject"] and "\n" not in str(message["To"])


async def test_a_cancelled_meeting_loses_its_queued_reminders(
    client: AsyncClient, tamaris_auth: dict[str, str], reminder_setup: dict[str, Any]
) -> None:
    assert await queue() == 4
    today = reminder_setup["today"]
    response = await client.post(f"/api/v1/meetings/{today['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    old = await outbox_rows("registration_reminder", meeting_id=today["id"])
    assert len(old) == 3
    assert {r["status"] for r in old} == {"cancelled"}
    assert await queue() == 0
    # The registrants were told of the cancellation instead.
    told = await outbox_rows("meeting_cancelled", meeting_id=today["id"])
    assert sorted(r["recipient"] for r in told) == EXPECTED[:3]
