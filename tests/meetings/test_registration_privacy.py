"""A registration's capability links go only to its address: knowing an address is not
enough to see, cancel or follow someone's registration (the takeover found in review)."""

from __future__ import annotations

from datetime import timedelta

import icalendar
from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.tables import Registration
from tests.support.registration_support import (
    form_of,
    message_of,
    outbox_rows,
    person,
    plain_text,
    published_meeting,
    registration_of,
    token_of,
)

VICTIM = person("victime", name="Camille Durand", email="camille.durand@example.org")


async def post(client: AsyncClient, meeting_id: int, body: dict):
    return await client.post(f"/api/v1/meetings/{meeting_id}/registrations", json=body)


async def links_sent(address: str) -> list[str]:
    """The manage links the outbox holds for this address, from its emails' text."""
    found = []
    for row in await outbox_rows(recipient=address):
        text = plain_text(message_of(row))
        found += [
            word.strip(".,()")
            for word in text.split()
            if "/inscriptions/" in word and not word.endswith("calendrier.ics")
        ]
    return found


async def test_signing_up_with_someone_elses_address_reveals_nothing(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=5)
    first = await post(client, meeting["id"], VICTIM)
    attacker = {**VICTIM, "name": "Pirate", "email": "  Camille.DURAND@Example.org "}
    second = await post(client, meeting["id"], attacker)
    # The same answer for the owner's sign-up and the stranger's: nothing about the address.
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json() == {"status": "received", "detail": first.json()["detail"]}
    for answer in (first, second):
        assert "/inscriptions/" not in answer.text and "Camille" not in answer.text
    # Nothing changed: one registration, the owner's name, one seat.
    [row] = await Registration.select().where(Registration.meeting == meeting["id"])
    assert (row["name"], row["status"]) == ("Camille Durand", "confirmed")
    # The manage link went to the address, in the confirmation, and nowhere else; the
    # repeat came within ten minutes of it, so nothing more was sent.
    mine = await registration_of(meeting["id"], VICTIM["email"])
    assert await links_sent(VICTIM["email"]) == [mine["manage_url"]]
    kinds = [r["kind"] for r in await outbox_rows(meeting_id=meeting["id"])]
    assert kinds == ["registration_confirmed"]


async def test_a_repeated_sign_up_later_sends_the_link_to_the_address_only(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    await post(client, meeting["id"], person(1))
    await post(client, meeting["id"], VICTIM)  # the waiting list, position 1
    await Registration.update({Registration.link_sent_at: now_utc() - timedelta(minutes=11)}).where(
        Registration.meeting == meeting["id"]
    )
    again = await post(client, meeting["id"], {**VICTIM, "name": "Pirate"})
    assert again.status_code == 202 and "/inscriptions/" not in again.text
    [row] = await outbox_rows("registration_link")
    assert row["recipient"] == VICTIM["email"]
    mine = await registration_of(meeting["id"], VICTIM["email"])
    assert await links_sent(VICTIM["email"]) == [mine["manage_url"]] * 2
    text = plain_text(message_of(row))
    assert "Bonjour Camille Durand" in text and "Pirate" not in text
    assert "liste d'attente, en position 1" in text


async def test_the_form_answers_the_same_to_everyone_and_shows_no_link(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    url = f"/reunions/{meeting['id']}/inscription"
    pages = []
    for body in (VICTIM, {**VICTIM, "name": "Pirate"}, person(2)):  # new, again, waitlisted
        response = await client.post(url, data=form_of(body))
        assert response.status_code == 303
        assert response.headers["location"] == f"/reunions/{meeting['id']}/inscription/enregistree"
        page = await client.get(response.headers["location"])
        assert page.status_code == 200
        pages.append(page.text)
    assert pages[0] == pages[1] == pages[2]  # confirmed, repeated and waitlisted look alike
    assert "Votre demande est enregistrée" in pages[0]
    assert "/inscriptions/" not in pages[0] and "Camille" not in pages[0]
    assert "Habitante" not in pages[0]


async def test_the_link_is_sent_again_at_most_every_ten_minutes(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    for _ in range(30):  # a mailbox-flooding attempt through the sign-up form
        assert (await post(client, meeting["id"], VICTIM)).status_code == 202
    assert await outbox_rows("registration_link") == []  # the confirmation went just now
    await Registration.update({Registration.link_sent_at: now_utc() - timedelta(minutes=11)}).where(
        Registration.meeting == meeting["id"]
    )
    for _ in range(30):
        assert (await post(client, meeting["id"], VICTIM)).status_code == 202
    assert len(await outbox_rows("registration_link")) == 1
    assert len(await outbox_rows("registration_confirmed")) == 1


async def feed_token(meeting_id: int, address: str) -> str:
    row = (
        await Registration.select(Registration.feed_token)
        .where(Registration.email == address)
        .where(Registration.meeting == meeting_id)
        .first()
    )
    assert row is not None and len(row["feed_token"]) == 43
    return row["feed_token"]


def events_of(body: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(body)
    return [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]


async def test_the_calendar_feed_has_its_own_read_only_token(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    other = await published_meeting(client, tamaris_auth, title="Café citoyen : la fête")
    await post(client, meeting["id"], VICTIM)
    await post(client, other["id"], VICTIM)  # the same address, another meeting
    manage = token_of((await registration_of(meeting["id"], VICTIM["email"]))["manage_url"])
    feed = await feed_token(meeting["id"], VICTIM["email"])
    assert feed != manage

    answer = await client.get(f"/agenda/{feed}/calendrier.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    [summary] = events_of(answer.content)  # this registration's meeting, not the other one
    assert "la rentrée des associations" in summary

    # The feed's token acts on nothing; the manage link's old address-wide feed is gone.
    assert (await client.post(f"/inscriptions/{feed}/annuler")).status_code == 404
    assert (await client.get(f"/inscriptions/{feed}")).status_code == 404
    assert (await client.get(f"/inscriptions/{manage}/calendrier.ics")).status_code == 404
    assert (await client.get(f"/agenda/{manage}/calendrier.ics")).status_code == 404

    # The manage page shows the feed, and renews it: the old address stops at once.
    page = (await client.get(f"/inscriptions/{manage}")).text
    assert f"/agenda/{feed}/calendrier.ics" in page
    renewed = await client.post(f"/inscriptions/{manage}/agenda")
    assert renewed.status_code == 200 and "Nouvelle adresse créée" in renewed.text
    fresh = await feed_token(meeting["id"], VICTIM["email"])
    assert fresh != feed and f"/agenda/{fresh}/calendrier.ics" in renewed.text
    assert (await client.get(f"/agenda/{feed}/calendrier.ics")).status_code == 404
    assert (await client.get(f"/agenda/{fresh}/calendrier.ics")).status_code == 200


async def test_the_feed_holds_the_meeting_only_while_a_seat_is_held(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    await post(client, meeting["id"], person(1))
    await post(client, meeting["id"], VICTIM)  # waiting
    feed = await feed_token(meeting["id"], VICTIM["email"])
    assert events_of((await client.get(f"/agenda/{feed}/calendrier.ics")).content) == []
    first = token_of((await registration_of(meeting["id"], person(1)["email"]))["manage_url"])
    await client.post(f"/inscriptions/{first}/annuler")  # the victim is promoted
    assert len(events_of((await client.get(f"/agenda/{feed}/calendrier.ics")).content)) == 1
    mine = token_of((await registration_of(meeting["id"], VICTIM["email"]))["manage_url"])
    await client.post(f"/inscriptions/{mine}/annuler")
    assert events_of((await client.get(f"/agenda/{feed}/calendrier.ics")).content) == []


async def test_malformed_feed_tokens_are_404(client: AsyncClient, demo: None) -> None:
    for token in ("abc", "x" * 42, "x" * 44, "é" * 43, "%00" * 14 + "x"):
        assert (await client.get(f"/agenda/{token}/calendrier.ics")).status_code == 404
