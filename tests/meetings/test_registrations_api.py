"""Registrations through the JSON API: signing up (public), bad input, the registration
window, promotion from the waiting list, and the facilitators' list, CSV and attendance.

A sign-up is answered 202 "received", the same to everyone: what it did (a seat, a rank on
the waiting list, the manage link) is checked in the rows that hold the truth (the meeting's
`seats_taken`, the registrations) and in the emails it queued to the address (the outbox).
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from httpx import AsyncClient

from conseils.timefmt import french_date, french_time, now_utc
from meetings.tables import Meeting, Registration
from notifications.tables import OutboxMessage
from tests.support.dates import LIKE_2031
from tests.support.facilitator_support import make_facilitator
from tests.support.registration_support import (
    RECEIVED,
    by_status,
    invitation,
    link_sent_long_ago,
    manage_links,
    meeting_row,
    message_of,
    outbox_rows,
    person,
    plain_text,
    published_meeting,
    registration_of,
    registrations,
    set_meeting,
    sign_up,
    token_of,
)

BASE = "http://testserver.local"
DEMO_CAFE = "Café citoyen : les jeux pour enfants"  # Tamaris, 20 places, in six days


def post(client: AsyncClient, meeting_id: int, body: dict):
    return client.post(f"/api/v1/meetings/{meeting_id}/registrations", json=body)


def assert_received(response) -> None:
    """The one answer to every sign-up, new or repeated: nothing about the address."""
    assert response.status_code == 202, response.text
    assert response.json() == RECEIVED


def names_field(response, field: str) -> bool:
    """Whether a 400 names `field`: as its key, or (msgspec's missing or mistyped fields,
    reported against the body) quoted in the message."""
    for item in response.json().get("extra", []):
        if item["key"] == field or f"`{field}`" in item["message"]:
            return True
        if item["message"].endswith(f"$.{field}`"):
            return True
    return False


async def demo_cafe() -> dict:
    row = await Meeting.select().where(Meeting.title == DEMO_CAFE).first()
    assert row is not None and row["capacity"] == 20
    return row


async def public_view(client: AsyncClient, meeting_id: int) -> dict:
    response = await client.get(f"/api/v1/meetings/{meeting_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def assert_counts_agree(client: AsyncClient, meeting_id: int) -> dict:
    """seats_taken, the confirmed rows and the public API's seats_left/waitlist_length agree."""
    row = await meeting_row(meeting_id)
    found = await by_status(meeting_id)
    assert row["seats_taken"] == len(found["confirmed"])
    view = await public_view(client, meeting_id)
    assert view["waitlist_length"] == len(found["waitlisted"])
    if row["capacity"] is None:
        assert view["seats_left"] is None
    else:
        assert view["seats_left"] == max(row["capacity"] - row["seats_taken"], 0)
    return found


# ---------------------------------------------------------------- signing up


async def test_sign_up_confirms_then_waitlists(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    for n in range(4):
        response = await post(client, meeting["id"], person(n, needs=f"Besoin n° {n}"))
        assert_received(response)  # the same answer for a seat and for the waiting list
        assert "/inscriptions/" not in response.text
    answers = [await registration_of(meeting["id"], person(n)["email"]) for n in range(4)]
    assert [(a["status"], a["position"]) for a in answers] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    for answer in answers:
        assert answer["manage_url"].startswith(f"{BASE}/inscriptions/")
        assert len(token_of(answer["manage_url"])) == 43
    assert len({a["manage_url"] for a in answers}) == 4
    assert len({a["id"] for a in answers}) == 4
    # Each manage link went to its own address, in the email that told the seat or the rank.
    for n, answer in enumerate(answers):
        kind = "registration_confirmed" if n < 2 else "registration_waitlisted"
        [mail] = await outbox_rows(kind, recipient=person(n)["email"])
        assert manage_links(message_of(mail)) == [answer["manage_url"]]
        if answer["position"] is not None:
            assert f"en position {answer['position']}" in plain_text(message_of(mail))

    rows = await registrations(meeting["id"])
    assert [r["id"] for r in rows] == [a["id"] for a in answers]
    assert [r["arrival"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["email"] == "habitante.0@example.org"
    assert rows[0]["name"] == "Habitante n° 0"
    assert rows[0]["phone"] == "06 12 34 56 78"
    assert rows[0]["attending_as"] == "resident"
    assert rows[0]["needs"] == "Besoin n° 0"
    assert rows[0]["consent_at"] is not None
    assert rows[0]["confirmed_at"] is not None and rows[2]["confirmed_at"] is None
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 2
    view = await public_view(client, meeting["id"])
    assert (view["seats_left"], view["waitlist_length"]) == (0, 2)
    assert len(await outbox_rows("registration_confirmed", meeting_id=meeting["id"])) == 2
    assert len(await outbox_rows("registration_waitlisted", meeting_id=meeting["id"])) == 2


@pytest.mark.parametrize("attending_as", ["resident", "local_actor", "other"])
async def test_each_attending_as_and_optional_fields(
    client: AsyncClient, tamaris_auth: dict[str, str], attending_as: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    body = person(1, attending_as=attending_as)
    del body["phone"], body["needs"]
    assert_received(await post(client, meeting["id"], body))
    [row] = await registrations(meeting["id"])
    assert (row["attending_as"], row["phone"], row["needs"]) == (attending_as, "", "")


async def test_the_same_address_again_changes_nothing_and_emails_the_link(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await post(client, meeting["id"], person(1))
    assert_received(first)
    full = await post(client, meeting["id"], person(2))
    assert_received(full)
    mine = await registration_of(meeting["id"], "habitante.1@example.org")
    waiting = await registration_of(meeting["id"], "habitante.2@example.org")
    assert (mine["status"], waiting["status"], waiting["position"]) == (
        "confirmed",
        "waitlisted",
        1,
    )
    variants = ("  Habitante.1@Example.ORG ", "HABITANTE.1@EXAMPLE.ORG", "habitante.1@example.org")

    async def again(n: int, variant: str) -> None:
        response = await post(client, meeting["id"], person(n, email=variant, name="Autre nom"))
        assert_received(response)
        assert response.json() == first.json()  # the answer to a new sign-up, word for word

    # Within ten minutes of the confirmation (which carried the link): nothing is sent.
    for variant in variants:
        await again(1, variant)
    assert await outbox_rows("registration_link") == []
    # Later: the link goes to the address, once however many times it is asked for.
    await link_sent_long_ago(meeting["id"])
    for variant in variants:
        await again(1, variant)
    [link] = await outbox_rows("registration_link")
    assert link["recipient"] == "habitante.1@example.org"
    text = plain_text(message_of(link))
    assert "Bonjour Habitante n° 1" in text and "Autre nom" not in text
    assert "une place vous attend" in text
    assert manage_links(message_of(link)) == [mine["manage_url"]]
    # A waitlisted person asking again keeps their place, and learns it by email.
    await again(2, "Habitante.2@example.org ")
    [link] = await outbox_rows("registration_link", recipient="habitante.2@example.org")
    assert "liste d'attente, en position 1" in plain_text(message_of(link))
    assert manage_links(message_of(link)) == [waiting["manage_url"]]

    assert await registration_of(meeting["id"], "habitante.1@example.org") == mine
    assert await registration_of(meeting["id"], "habitante.2@example.org") == waiting
    rows = await registrations(meeting["id"])
    assert len(rows) == 2
    assert rows[0]["name"] == "Habitante n° 1"  # the first sign-up is kept as it was
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 1
    assert len(await outbox_rows("registration_confirmed")) == 1
    assert len(await outbox_rows("registration_waitlisted")) == 1
    assert len(await outbox_rows("registration_link")) == 2


async def test_concurrent_sign_ups_of_one_address_take_one_seat(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=5)
    emails = ["Double@example.org", " double@example.org", "DOUBLE@EXAMPLE.ORG "] * 4
    responses = await asyncio.gather(
        *(post(client, meeting["id"], person("d", email=e)) for e in emails)
    )
    for response in responses:  # the first and the eleven repeats: one and the same answer
        assert_received(response)
    assert len(await registrations(meeting["id"])) == 1
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 1
    assert len(await outbox_rows("registration_confirmed")) == 1
    # The repeats came within ten minutes of the confirmation, which carried the link.
    assert await outbox_rows("registration_link") == []


async def test_the_demo_cafe_fills_its_20_places_then_waitlists(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    cafe = await demo_cafe()
    responses = await asyncio.gather(*(post(client, cafe["id"], person(n)) for n in range(26)))
    for response in responses:
        assert_received(response)
    answers = [await registration_of(cafe["id"], person(n)["email"]) for n in range(26)]
    confirmed = [a for a in answers if a["status"] == "confirmed"]
    waitlisted = [a for a in answers if a["status"] == "waitlisted"]
    assert len(confirmed) == 20
    assert sorted(a["position"] for a in waitlisted) == [1, 2, 3, 4, 5, 6]
    found = await assert_counts_agree(client, cafe["id"])
    assert len(found["confirmed"]) == 20 and len(found["waitlisted"]) == 6
    # The positions follow arrival order, and each email told the position that order gives.
    position = {a["id"]: a["position"] for a in waitlisted}
    assert [position[r["id"]] for r in found["waitlisted"]] == [1, 2, 3, 4, 5, 6]
    for n, row in enumerate(found["waitlisted"], start=1):
        [mail] = await outbox_rows("registration_waitlisted", recipient=row["email"])
        assert mail["subject"].startswith(f"Liste d'attente (position {n}) : ")
    assert len(await outbox_rows("registration_confirmed", meeting_id=cafe["id"])) == 20
    assert max(r["arrival"] for r in found["confirmed"]) < min(
        r["arrival"] for r in found["waitlisted"]
    )


async def test_a_meeting_without_capacity_confirms_everyone(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    for n in range(5):
        assert (await sign_up(client, meeting["id"], person(n)))["status"] == "confirmed"
    view = await public_view(client, meeting["id"])
    assert (view["seats_left"], view["waitlist_length"]) == (None, 0)
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 5


# ---------------------------------------------------------------- bad input

BAD = [
    # (changes to a good body, the field the 400 must name)
    ({"email": "pas-une-adresse"}, "email"),
    ({"email": "habitante@"}, "email"),
    ({"email": "deux@arobases@example.org"}, "email"),
    ({"email": "   "}, "email"),
    ({"email": "a" * 250 + "@example.org"}, "email"),
    ({"name": "x" * 121}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "Jeanne\nDupont"}, "name"),
    ({"name": "Jeanne\x00"}, "name"),
    ({"needs": "x" * 2001}, "needs"),
    ({"needs": "bip\x07"}, "needs"),
    ({"consent": False}, "consent"),
    ({"consent": "oui"}, "consent"),
    ({"consent": None}, "consent"),
    ({"attending_as": "elu"}, "attending_as"),
    ({"attending_as": ""}, "attending_as"),
    ({"attending_as": "Resident"}, "attending_as"),
    ({"phone": "06 12 AB 56 78"}, "phone"),
    ({"phone": "appelez-moi"}, "phone"),
    ({"phone": "12"}, "phone"),
    ({"phone": "0" * 31}, "phone"),
    ({"name": 42}, "name"),
    ({"email": ["a@example.org"]}, "email"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
async def test_bad_input_is_400_naming_the_field(
    client: AsyncClient, tamaris_auth: dict[str, str], change: dict, field: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    response = await post(client, meeting["id"], person(1, **change))
    assert response.status_code == 400, response.text
    assert names_field(response, field), response.json()
    assert await Registration.count() == 0
    assert await OutboxMessage.count() == 0
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 0


@pytest.mark.parametrize("missing", ["name", "email", "attending_as", "consent"])
async def test_a_missing_field_is_400_naming_it(
    client: AsyncClient, tamaris_auth: dict[str, str], missing: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    body = person(1)
    del body[missing]
    response = await post(client, meeting["id"], body)
    assert response.status_code == 400, response.text
    assert names_field(response, missing), response.json()
    assert await Registration.count() == 0


async def test_every_bad_field_is_named_at_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    body = person(
        1, email="nope", name="x" * 121, needs="y" * 2001, consent=False, attending_as="x"
    )
    body["phone"] = "abc"
    response = await post(client, meeting["id"], body)
    assert response.status_code == 400
    keys = {item["key"] for item in response.json()["extra"]}
    assert keys == {"email", "name", "needs", "consent", "attending_as", "phone"}
    assert response.json()["code"] == "invalid"


async def test_unknown_fields_and_non_json_are_400(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    response = await post(client, meeting["id"], {**person(1), "status": "confirmed"})
    assert response.status_code == 400
    assert names_field(response, "status")
    url = f"/api/v1/meetings/{meeting['id']}/registrations"
    for content in (b"", b"{", b"[]", b'"x"', b"\xff\xfe\x00", b'{"name": "\\ud800"}', b"null"):
        response = await client.post(
            url, content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (content, response.text)
    assert await Registration.count() == 0


async def test_invalid_utf8_inside_a_json_string_is_400(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    response = await client.post(
        f"/api/v1/meetings/{meeting['id']}/registrations",
        content=b'{"name": "\xed\xb3\xbf"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400


async def test_limits_are_inclusive(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    body = person(1, name="N" * 120, needs="b" * 2000, phone="+33 (0)6 12-34.56.78")
    assert_received(await post(client, meeting["id"], body))
    [row] = await registrations(meeting["id"])
    assert (len(row["name"]), len(row["needs"])) == (120, 2000)


@pytest.mark.parametrize("meeting_id", [999_999, 2**31 - 1, 2**31, 2**63, 10**30, 0, -1])
async def test_an_unknown_meeting_is_404(client: AsyncClient, demo: None, meeting_id: int) -> None:
    response = await post(client, meeting_id, person(1))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "meeting_not_found"
    assert await Registration.count() == 0


@pytest.mark.parametrize("path", ["abc", "1.5", "1e3", "%20"])
async def test_a_forged_meeting_id_is_404(client: AsyncClient, demo: None, path: str) -> None:
    response = await client.post(f"/api/v1/meetings/{path}/registrations", json=person(1))
    assert response.status_code == 404, response.text
    assert await Registration.count() == 0


async def test_a_draft_meeting_takes_no_sign_up(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-tamaris",
            "kind": "cafe",
            "title": "Brouillon",
            "starts_at": f"{LIKE_2031}-05-01T18:00:00+02:00",
            "ends_at": f"{LIKE_2031}-05-01T20:00:00+02:00",
            "address": "Rue de la Lozère, 30100 Alès",
            "capacity": 10,
        },
        headers=tamaris_auth,
    )
    assert created.status_code == 201
    response = await post(client, created.json()["id"], person(1))
    assert response.status_code == 404
    assert response.json()["code"] == "meeting_not_found"
    assert await Registration.count() == 0


# ---------------------------------------------------------------- the registration window


async def test_before_registration_opens_409(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    opens = now_utc() + timedelta(days=3)
    meeting = await published_meeting(client, tamaris_auth, registration_opens_at=opens.isoformat())
    response = await post(client, meeting["id"], person(1))
    assert response.status_code == 409
    assert response.json()["code"] == "registration_not_open"
    assert response.json()["detail"] == (
        "Les inscriptions ne sont pas encore ouvertes : elles ouvriront le "
        f"{french_date(opens)} à {french_time(opens)}."
    )
    # Opened (moved to the past): accepted.
    await set_meeting(meeting["id"], registration_opens_at=now_utc() - timedelta(minutes=1))
    assert_received(await post(client, meeting["id"], person(1)))
    assert (await registration_of(meeting["id"], person(1)["email"]))["status"] == "confirmed"


async def test_after_registration_closes_409(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    assert_received(await post(client, meeting["id"], person(1)))
    await set_meeting(meeting["id"], registration_closes_at=now_utc() - timedelta(seconds=1))
    response = await post(client, meeting["id"], person(2))
    assert response.status_code == 409
    assert response.json()["code"] == "registration_closed"
    assert response.json()["detail"] == "Les inscriptions sont closes."
    # Someone already registered who asks again gets the very same refusal: an answer that
    # depended on the address would tell a stranger that it is registered. Nothing is sent.
    await link_sent_long_ago(meeting["id"])
    again = await post(client, meeting["id"], person(1))
    assert (again.status_code, again.json()) == (409, response.json())
    assert await outbox_rows("registration_link") == []
    assert (await registration_of(meeting["id"], person(1)["email"]))["status"] == "confirmed"
    assert len(await registrations(meeting["id"])) == 1


async def test_without_a_closing_time_registration_closes_when_the_meeting_starts(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    now = now_utc()
    await set_meeting(
        meeting["id"],
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(minutes=30),
        registration_closes_at=None,
    )
    response = await post(client, meeting["id"], person(1))
    assert response.status_code == 409
    assert response.json()["code"] == "registration_closed"


async def test_a_cancelled_meeting_409(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    cancelled = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert cancelled.status_code == 200
    response = await post(client, meeting["id"], person(1))
    assert response.status_code == 409
    assert response.json()["code"] == "meeting_cancelled"
    assert response.json()["detail"] == "Cette réunion est annulée."
    assert await Registration.count() == 0


async def test_a_demo_cancelled_meeting_409(client: AsyncClient, demo: None) -> None:
    row = await Meeting.select().where(Meeting.status == "cancelled").first()
    response = await post(client, row["id"], person(1))
    assert response.status_code == 409
    assert response.json()["code"] == "meeting_cancelled"


async def test_a_past_meeting_409(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    now = now_utc()
    await set_meeting(
        meeting["id"],
        starts_at=now - timedelta(days=2, hours=2),
        ends_at=now - timedelta(days=2),
        registration_closes_at=None,
    )
    response = await post(client, meeting["id"], person(1))
    assert response.status_code == 409
    assert response.json()["code"] == "meeting_past"
    assert response.json()["detail"] == "Cette réunion a déjà eu lieu."
    # The demo's past council meetings too.
    demo_past = await Meeting.select().where(Meeting.ends_at < now).first()
    assert (await post(client, demo_past["id"], person(2))).json()["code"] == "meeting_past"
    assert await Registration.count() == 0


# ---------------------------------------------------------------- promotion


async def cancel(client: AsyncClient, manage_url: str):
    return await client.post(f"/inscriptions/{token_of(manage_url)}/annuler")


async def test_a_cancelled_seat_goes_to_the_first_on_the_waiting_list(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    a, b, c, d = [await sign_up(client, meeting["id"], person(n)) for n in "abcd"]
    assert [x["status"] for x in (a, b, c, d)] == ["confirmed"] * 2 + ["waitlisted"] * 2

    page = await cancel(client, a["manage_url"])
    assert page.status_code == 200
    assert "Inscription annulée" in page.text
    rows = {r["id"]: r for r in await registrations(meeting["id"])}
    assert rows[a["id"]]["status"] == "cancelled" and rows[a["id"]]["cancelled_at"] is not None
    assert rows[c["id"]]["status"] == "confirmed" and rows[c["id"]]["confirmed_at"] is not None
    assert rows[d["id"]]["status"] == "waitlisted"
    assert (await registration_of(meeting["id"], "habitante.d@example.org"))["position"] == 1
    await assert_counts_agree(client, meeting["id"])

    [promoted] = await outbox_rows("registration_promoted")
    assert promoted["recipient"] == "habitante.c@example.org"
    method, calendar = invitation(message_of(promoted))
    assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    [cancelled_mail] = await outbox_rows("registration_cancelled")
    assert cancelled_mail["recipient"] == "habitante.a@example.org"

    # Cancelling again: the same page, no second email, nobody else promoted.
    again = await cancel(client, a["manage_url"])
    assert again.status_code == 200
    assert again.text == page.text
    assert len(await outbox_rows("registration_cancelled")) == 1
    assert len(await outbox_rows("registration_promoted")) == 1
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 2

    # A waitlisted person who cancels frees no seat: nobody is promoted.
    await cancel(client, d["manage_url"])
    found = await assert_counts_agree(client, meeting["id"])
    assert [r["id"] for r in found["confirmed"]] == [b["id"], c["id"]]
    assert found["waitlisted"] == []
    assert len(await outbox_rows("registration_promoted")) == 1


async def test_concurrent_cancellations_of_one_registration_free_one_seat(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    a, b, c = [await sign_up(client, meeting["id"], person(n)) for n in "abc"]
    responses = await asyncio.gather(*(cancel(client, a["manage_url"]) for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    found = await assert_counts_agree(client, meeting["id"])
    assert [r["id"] for r in found["confirmed"]] == [b["id"]]
    assert [r["id"] for r in found["waitlisted"]] == [c["id"]]
    assert len(await outbox_rows("registration_cancelled")) == 1
    assert len(await outbox_rows("registration_promoted")) == 1


async def test_more_seats_promote_the_waiting_list_in_order(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    people = [await sign_up(client, meeting["id"], person(n)) for n in range(7)]
    assert [p["position"] for p in people] == [None, None, 1, 2, 3, 4, 5]

    async def patch(capacity: int | None) -> dict:
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"capacity": capacity}, headers=tamaris_auth
        )
        assert response.status_code == 200, response.text
        return response.json()

    view = await patch(4)
    assert (view["seats_left"], view["waitlist_length"]) == (0, 3)
    found = await assert_counts_agree(client, meeting["id"])
    assert [r["id"] for r in found["confirmed"]] == [p["id"] for p in people[:4]]
    promoted = await outbox_rows("registration_promoted")
    assert [r["recipient"] for r in promoted] == [
        "habitante.2@example.org",
        "habitante.3@example.org",
    ]
    # The waiting list moved up: the fifth person is now first.
    assert (await registration_of(meeting["id"], "habitante.5@example.org"))["position"] == 2
    assert (await registration_of(meeting["id"], "habitante.4@example.org"))["position"] == 1

    # Fewer seats than are taken: refused with the number (nobody loses a seat), unchanged.
    refused = await client.patch(
        f"/api/v1/meetings/{meeting['id']}", json={"capacity": 3}, headers=tamaris_auth
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["extra"] == [
        {
            "key": "capacity",
            "message": "ne peut pas être inférieure aux inscriptions confirmées : "
            "déjà 4 places prises",
        }
    ]
    row = await meeting_row(meeting["id"])
    assert (row["capacity"], row["seats_taken"], row["sequence"]) == (4, 4, view["sequence"])
    assert (await sign_up(client, meeting["id"], person(7)))["position"] == 4
    await assert_counts_agree(client, meeting["id"])

    # No limit any more: everyone waiting is confirmed, in order.
    view = await patch(None)
    assert (view["seats_left"], view["waitlist_length"]) == (None, 0)
    found = await assert_counts_agree(client, meeting["id"])
    assert len(found["confirmed"]) == 8
    promoted = await outbox_rows("registration_promoted")
    assert [r["recipient"] for r in promoted] == [f"habitante.{n}@example.org" for n in range(2, 8)]
    assert len({r["idempotency_key"] for r in promoted}) == 6


async def test_a_cancelled_registration_can_sign_up_again_at_the_end_of_the_queue(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    a, b = [await sign_up(client, meeting["id"], person(n)) for n in "ab"]
    await cancel(client, a["manage_url"])
    again = await sign_up(client, meeting["id"], person("a"))
    assert again["id"] == a["id"]
    assert (again["status"], again["position"]) == ("waitlisted", 1)
    # A new sign-up: its waiting-list email, with a manage link of its own.
    [told] = await outbox_rows("registration_waitlisted", recipient="habitante.a@example.org")
    assert "en position 1" in plain_text(message_of(told))
    assert manage_links(message_of(told)) == [again["manage_url"]]
    assert await outbox_rows("registration_link") == []
    found = await assert_counts_agree(client, meeting["id"])
    assert [r["id"] for r in found["confirmed"]] == [b["id"]]
    assert found["waitlisted"][0]["arrival"] == 3


# ---------------------------------------------------------------- facilitators


async def test_facilitators_list_their_meeting_registrations(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    await sign_up(client, meeting["id"], person(1, needs="Interprète LSF"))
    await sign_up(client, meeting["id"], person(2, attending_as="local_actor"))
    third = await sign_up(client, meeting["id"], person(3))
    await cancel(client, third["manage_url"])
    url = f"/api/v1/meetings/{meeting['id']}/registrations"

    response = await client.get(url, headers=tamaris_auth)
    assert response.status_code == 200, response.text
    items = response.json()
    assert [(i["email"], i["status"], i["position"]) for i in items] == [
        ("habitante.1@example.org", "confirmed", None),
        ("habitante.2@example.org", "waitlisted", 1),
        ("habitante.3@example.org", "cancelled", None),
    ]
    assert items[0]["needs"] == "Interprète LSF"
    assert items[1]["attending_as"] == "local_actor"
    assert items[0]["name"] == "Habitante n° 1"
    assert items[0]["phone"] == "06 12 34 56 78"
    assert items[0]["attended"] is None
    assert items[2]["cancelled_at"] is not None
    assert items[0]["created_at"][-6:] in {"+01:00", "+02:00"}  # Paris time
    assert "token" not in items[0]

    assert (await client.get(url, headers=admin_auth)).status_code == 200
    anonymous = await client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    other = await make_facilitator("anim.agglo@ales.fr", "ales-agglo")
    refused = await client.get(url, headers=other)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_your_council"
    assert "habitante" not in refused.text
    csv_refused = await client.get(
        f"{url[: -len('registrations')]}registrations.csv", headers=other
    )
    assert csv_refused.status_code == 403
    assert (await client.get(f"{url}.csv")).status_code == 401
    bad_token = {"Authorization": "Bearer " + "x" * 43}
    assert (await client.get(url, headers=bad_token)).status_code == 401
    for unknown in (999_999, 2**40):
        missing = await client.get(
            f"/api/v1/meetings/{unknown}/registrations", headers=tamaris_auth
        )
        assert missing.status_code == 404


async def test_the_csv_opens_in_a_french_spreadsheet(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    await sign_up(
        client,
        meeting["id"],
        person(1, name="Hélène Côté-Müller", needs="Accès de plain-pied ; garde d'enfants « svp »"),
    )
    await sign_up(client, meeting["id"], person(2, name='=HYPERLINK("http://x.example","clic")'))
    await sign_up(
        client,
        meeting["id"],
        person(3, name="+cmd|' /C calc'!A0", attending_as="other", phone="+33 6 12 34 56 78"),
    )
    await sign_up(client, meeting["id"], person(4, name="@SUM(1+1)", needs="-2+3\nsur deux lignes"))

    response = await client.get(
        f"/api/v1/meetings/{meeting['id']}/registrations.csv", headers=tamaris_auth
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "charset=utf-8" in response.headers["content-type"]
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, *lines = rows
    assert header[:3] == ["Nom", "Courriel", "Téléphone"]
    assert "Besoins" in header and "Statut" in header
    assert len(lines) == 4
    assert all(len(line) == len(header) for line in lines)
    by_name = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    helene = by_name["Hélène Côté-Müller"]
    assert helene["Besoins"] == "Accès de plain-pied ; garde d'enfants « svp »"
    assert helene["Courriel"] == "habitante.1@example.org"
    assert helene["Statut"] == "Confirmé·e"
    assert helene["Vient en tant que"] == "Habitant·e"
    assert '\'=HYPERLINK("http://x.example","clic")' in by_name
    assert "'+cmd|' /C calc'!A0" in by_name
    other = by_name["'@SUM(1+1)"]
    assert other["Besoins"] == "'-2+3\nsur deux lignes"
    assert other["Statut"] == "Liste d'attente"
    assert other["Position d'attente"] == "2"
    assert by_name["'+cmd|' /C calc'!A0"]["Vient en tant que"] == "Autre"
    assert by_name["'+cmd|' /C calc'!A0"]["Téléphone"] == "'+33 6 12 34 56 78"
    # No cell starts a formula.
    assert not any(cell[:1] in "=+-@" for line in lines for cell in line if cell)


async def test_attendance_is_marked_by_the_council_facilitators(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    first = await sign_up(client, meeting["id"], person(1))
    second = await sign_up(client, meeting["id"], person(2))
    url = f"/api/v1/registrations/{first['id']}/attendance"

    marked = await client.post(url, json={"attended": True}, headers=tamaris_auth)
    assert marked.status_code == 200, marked.text
    assert marked.json()["id"] == first["id"]
    assert marked.json()["attended"] is True
    row = await Registration.select().where(Registration.id == first["id"]).first()
    assert row["attended"] is True
    absent = await client.post(
        f"/api/v1/registrations/{second['id']}/attendance",
        json={"attended": False},
        headers=admin_auth,
    )
    assert absent.json()["attended"] is False
    listing = await client.get(
        f"/api/v1/meetings/{meeting['id']}/registrations", headers=tamaris_auth
    )
    assert [i["attended"] for i in listing.json()] == [True, False]
    csv_text = (
        await client.get(
            f"/api/v1/meetings/{meeting['id']}/registrations.csv", headers=tamaris_auth
        )
    ).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(csv_text, newline=""), delimiter=";"))
    assert [line[lines[0].index("Présent·e")] for line in lines[1:]] == ["oui", "non"]

    cleared = await client.post(url, json={"attended": None}, headers=tamaris_auth)
    assert cleared.json()["attended"] is None

    assert (await client.post(url, json={"attended": True})).status_code == 401
    other = await make_facilitator("anim.agglo@ales.fr", "ales-agglo")
    assert (await client.post(url, json={"attended": True}, headers=other)).status_code == 403
    assert (
        await client.post(url, json={"attended": "oui"}, headers=tamaris_auth)
    ).status_code == 400
    assert (await client.post(url, json={}, headers=tamaris_auth)).status_code == 400
    for unknown in (999_999, 2**40):
        missing = await client.post(
            f"/api/v1/registrations/{unknown}/attendance",
            json={"attended": True},
            headers=tamaris_auth,
        )
        assert missing.status_code == 404
    row = await Registration.select().where(Registration.id == first["id"]).first()
    assert row["attended"] is None


async def test_public_api_answers_hold_no_email_address(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    for n in range(3):
        await sign_up(client, meeting["id"], person(n))
    public = [
        await client.get(f"/api/v1/meetings/{meeting['id']}"),
        await client.get("/api/v1/meetings", params={"council": "ales-tamaris"}),
        await client.get("/api/v1/meetings"),
        await client.get(f"/reunions/{meeting['id']}"),
        await client.get(f"/reunions/{meeting['id']}/calendrier.ics"),
        await client.get("/conseils/ales-tamaris/calendrier.ics"),
        await client.get("/conseils/ales-tamaris"),
        await client.get("/"),
    ]
    for response in public:
        assert response.status_code == 200
        assert "@example.org" not in response.text
        assert "Habitante n°" not in response.text
        assert "06 12 34 56 78" not in response.text
    view = public[0].json()
    assert (view["seats_left"], view["waitlist_length"]) == (0, 2)
    # The sign-up answer itself holds no personal data either, nor the manage link.
    answer = await post(client, meeting["id"], person(9))
    assert_received(answer)
    assert "@" not in answer.text and "Habitante" not in answer.text
    assert "/inscriptions/" not in answer.text


async def test_seats_left_follow_sign_ups_and_cancellations(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=3)
    people = []
    expected = [(2, 0), (1, 0), (0, 0), (0, 1), (0, 2)]
    for n, (left, waiting) in enumerate(expected):
        people.append(await sign_up(client, meeting["id"], person(n)))
        view = await public_view(client, meeting["id"])
        assert (view["seats_left"], view["waitlist_length"]) == (left, waiting)
        await assert_counts_agree(client, meeting["id"])
    for who, (left, waiting) in ((0, (0, 1)), (4, (0, 0)), (3, (1, 0)), (1, (2, 0))):
        await cancel(client, people[who]["manage_url"])
        view = await public_view(client, meeting["id"])
        assert (view["seats_left"], view["waitlist_length"]) == (left, waiting), who
        await assert_counts_agree(client, meeting["id"])
    listed = await client.get("/api/v1/meetings", params={"council": "ales-tamaris"})
    [item] = [m for m in listed.json()["items"] if m["id"] == meeting["id"]]
    assert (item["seats_left"], item["waitlist_length"]) == (2, 0)


async def test_no_promotion_once_the_meeting_is_over(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """A stale manage page still posts a cancellation after the meeting: nobody waiting is
    told "a seat is free for you" for a meeting that already took place."""
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await sign_up(client, meeting["id"], person(1))
    second = await sign_up(client, meeting["id"], person(2))
    now = now_utc()
    await set_meeting(
        meeting["id"], starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1)
    )
    response = await cancel(client, first["manage_url"])
    assert response.status_code == 200
    found = await by_status(meeting["id"])
    assert [r["id"] for r in found["waitlisted"]] == [second["id"]]
    assert found["confirmed"] == []
    assert await outbox_rows("registration_promoted") == []
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 0


async def test_no_promotion_to_a_cancelled_meeting(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """Once the meeting is cancelled, a seat given back promotes nobody: the person waiting
    is not told "a seat is free for you" for a meeting that will not take place."""
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first = await sign_up(client, meeting["id"], person(1))
    second = await sign_up(client, meeting["id"], person(2))
    cancelled = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert cancelled.status_code == 200, cancelled.text
    assert (await cancel(client, first["manage_url"])).status_code == 200
    found = await by_status(meeting["id"])
    assert [r["id"] for r in found["waitlisted"]] == [second["id"]]
    assert found["confirmed"] == []
    assert await outbox_rows("registration_promoted") == []
