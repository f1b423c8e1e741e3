"""Registrations on the French pages: the sign-up form on the meeting page and its answers,
the manage link's page (status, position, cancel) and its private calendar feed, and the
seats left shown on the (per-process cached) meeting page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import icalendar
import pytest
from httpx import AsyncClient, Response

from conseils.timefmt import now_utc
from meetings.tables import Meeting, Registration
from tests.support.icaljs import parse_with_icaljs
from tests.support.registration_support import (
    by_status,
    form_of,
    meeting_row,
    outbox_rows,
    person,
    published_meeting,
    registrations,
    set_meeting,
    sign_up,
    token_of,
)

BASE = "http://testserver.local"


def text(response: Response) -> str:
    """The page as a reader sees its words (entities decoded, whitespace collapsed)."""
    words = re.sub(r"<[^>]*>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words)).replace(" .", ".").replace(" ,", ",")


async def submit(client: AsyncClient, meeting_id: int, form: dict[str, str]) -> Response:
    return await client.post(f"/reunions/{meeting_id}/inscription", data=form)


# ---------------------------------------------------------------- the form


async def test_the_form_confirms_then_waitlists(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    page = await client.get(f"/reunions/{meeting['id']}")
    assert 'action="/reunions/{}/inscription"'.format(meeting["id"]) in page.text
    assert 'name="consent" value="oui"' in page.text

    first = await submit(client, meeting["id"], form_of(person(1)))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/html")
    words = text(first)
    assert "Votre inscription est confirmée" in words
    assert "Une place vous attend" in words
    [row] = await registrations(meeting["id"])
    assert f'href="{BASE}/inscriptions/{row["token"]}"' in first.text
    assert "habitante.1@example.org" not in first.text

    second = await submit(client, meeting["id"], form_of(person(2, attending_as="other")))
    assert second.status_code == 200
    words = text(second)
    assert "Vous êtes sur la liste d'attente" in words
    assert "position 1" in words
    found = await by_status(meeting["id"])
    assert [r["email"] for r in found["waitlisted"]] == ["habitante.2@example.org"]
    assert found["waitlisted"][0]["attending_as"] == "other"


async def test_the_form_again_with_the_same_address(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    assert (await submit(client, meeting["id"], form_of(person(1)))).status_code == 200
    again = await submit(
        client, meeting["id"], form_of(person(1, email=" HABITANTE.1@example.org"))
    )
    assert again.status_code == 200
    assert "Vous étiez déjà inscrit·e avec cette adresse" in text(again)
    assert len(await registrations(meeting["id"])) == 1
    assert (await meeting_row(meeting["id"]))["seats_taken"] == 1


BAD_FORMS = [
    # (changes to a good form, the field, what the page says)
    ({"email": "pas-une-adresse"}, "email", "Adresse électronique invalide"),
    ({"email": ""}, "email", "Indiquez votre adresse électronique"),
    ({"name": "x" * 121}, "name", "Ne doit pas dépasser 120 caractères"),
    ({"name": ""}, "name", "Ne doit pas être vide"),
    ({"needs": "x" * 2001}, "needs", "Ne doit pas dépasser 2000 caractères"),
    ({"consent": "non"}, "consent", "Votre accord est nécessaire"),
    ({"consent": None}, "consent", "Votre accord est nécessaire"),
    ({"attending_as": "elu"}, "attending_as", "Choisissez : habitant·e"),
    ({"attending_as": None}, "attending_as", "Choisissez : habitant·e"),
    ({"phone": "06 12 AB 56 78"}, "phone", "Numéro de téléphone invalide"),
]


@pytest.mark.parametrize(
    ("change", "field", "why"), BAD_FORMS, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_FORMS)]
)
async def test_the_form_names_the_bad_field_in_french(
    client: AsyncClient, tamaris_auth: dict[str, str], change: dict, field: str, why: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    form = form_of(person(1, name="Hélène <b>Côté</b>"))
    form.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        form.pop(key, None)
    response = await submit(client, meeting["id"], form)
    assert response.status_code == 400, response.text
    words = text(response)
    assert "L'inscription n'est pas enregistrée" in words
    assert why in words
    assert f'id="{field}-erreur"' in response.text
    assert 'aria-invalid="true"' in response.text
    if field != "name":  # what was typed is kept, escaped
        assert 'value="Hélène &lt;b&gt;Côté&lt;/b&gt;"' in response.text
    assert "<b>Côté</b>" not in response.text
    assert await Registration.count() == 0


async def test_the_honeypot_registers_no_one(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    form = {**form_of(person(1)), "site_web": "http://spam.example"}
    response = await submit(client, meeting["id"], form)
    assert response.status_code == 400
    assert await Registration.count() == 0
    assert await outbox_rows() == []


async def _not_open(meeting_id: int) -> None:
    await set_meeting(meeting_id, registration_opens_at=now_utc() + timedelta(days=2))


async def _closed(meeting_id: int) -> None:
    await set_meeting(meeting_id, registration_closes_at=now_utc() - timedelta(minutes=5))


async def _past(meeting_id: int) -> None:
    now = now_utc()
    await set_meeting(
        meeting_id,
        starts_at=now - timedelta(hours=3),
        ends_at=now - timedelta(hours=1),
        registration_closes_at=None,
    )


async def _cancelled(meeting_id: int) -> None:
    await set_meeting(meeting_id, status="cancelled", cancelled_at=now_utc(), sequence=1)


WINDOW = [
    (_not_open, "Les inscriptions ne sont pas encore ouvertes."),
    (_closed, "Les inscriptions sont closes."),
    (_past, "Cette réunion a déjà eu lieu."),
    (_cancelled, "Cette réunion est annulée."),
]


@pytest.mark.parametrize(
    ("setup", "sentence"), WINDOW, ids=["not-open", "closed", "past", "cancelled"]
)
async def test_the_form_outside_the_window_is_a_409_page_in_french(
    client: AsyncClient, tamaris_auth: dict[str, str], setup, sentence: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await setup(meeting["id"])
    response = await submit(client, meeting["id"], form_of(person(1)))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert sentence in text(response)
    assert "<form" not in response.text.split("<main", 1)[-1]
    assert await Registration.count() == 0
    # The meeting page says it too, in place of the form (or marks the meeting as over).
    page = await client.get(f"/reunions/{meeting['id']}")
    assert page.status_code == 200
    assert 'name="consent"' not in page.text
    if setup in (_not_open, _closed):
        assert sentence in text(page)


async def test_the_form_of_a_draft_or_unknown_meeting_is_404(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    draft = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-tamaris",
            "kind": "cafe",
            "title": "Brouillon",
            "starts_at": "2031-05-01T18:00:00+02:00",
            "ends_at": "2031-05-01T20:00:00+02:00",
            "address": "Rue de la Lozère, 30100 Alès",
        },
        headers=tamaris_auth,
    )
    for meeting_id in (draft.json()["id"], 999_999, 2**40):
        response = await submit(client, meeting_id, form_of(person(1)))
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
    assert await Registration.count() == 0


# ---------------------------------------------------------------- the manage link


async def test_the_manage_page_shows_status_and_position_and_cancels(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    first, second, third = [await sign_up(client, meeting["id"], person(n)) for n in range(3)]

    page = await client.get(first["manage_url"].removeprefix(BASE))
    assert page.status_code == 200
    words = text(page)
    assert "Inscription confirmée" in words
    assert "Habitante n° 0" in words
    assert meeting["title"] in words
    assert "Conseil citoyen Alès Tamaris" in words
    cancel_action = f'action="/inscriptions/{token_of(first["manage_url"])}/annuler"'
    assert cancel_action in page.text
    assert f"{first['manage_url']}/calendrier.ics" in page.text
    assert "webcal://" in page.text
    assert "habitante.0@example.org" not in page.text

    third_page = await client.get(third["manage_url"].removeprefix(BASE))
    assert "Liste d'attente : vous êtes en position 2" in text(third_page)

    cancelled = await client.post(f"/inscriptions/{token_of(first['manage_url'])}/annuler")
    assert cancelled.status_code == 200
    words = text(cancelled)
    assert "Inscription annulée. C'est noté ; merci d'avoir prévenu." in words
    assert cancel_action not in cancelled.text
    later = await client.get(first["manage_url"].removeprefix(BASE))
    assert "Inscription annulée." in text(later)
    assert "merci d'avoir prévenu" not in text(later)
    assert cancel_action not in later.text

    # The seat went to the second person; the third moved up.
    assert "Inscription confirmée" in text(
        await client.get(second["manage_url"].removeprefix(BASE))
    )
    third_page = await client.get(third["manage_url"].removeprefix(BASE))
    assert "Liste d'attente : vous êtes en position 1" in text(third_page)


async def test_the_manage_page_of_a_cancelled_or_past_meeting(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    mine = await sign_up(client, meeting["id"], person(1))
    path = mine["manage_url"].removeprefix(BASE)
    await _past(meeting["id"])
    page = await client.get(path)
    assert page.status_code == 200
    assert "/annuler" not in page.text  # nothing to cancel after the meeting
    await set_meeting(meeting["id"], status="cancelled")
    page = await client.get(path)
    assert "Cette réunion est annulée." in text(page)


TOKENS = [
    "x" * 42,
    "x" * 44,
    "x" * 43,  # the right length, but no such registration
    "a" * 200,
    "!" * 43,
    "abc",
    "%00" * 15,
]


@pytest.mark.parametrize("token", TOKENS)
async def test_a_bad_token_is_404(
    client: AsyncClient, tamaris_auth: dict[str, str], token: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    for response in (
        await client.get(f"/inscriptions/{token}"),
        await client.post(f"/inscriptions/{token}/annuler"),
        await client.get(f"/inscriptions/{token}/calendrier.ics"),
    ):
        assert response.status_code == 404, response.text
    [row] = await registrations(meeting["id"])
    assert row["status"] == "confirmed"


async def test_a_token_differing_by_one_character_is_404(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    token = token_of((await sign_up(client, meeting["id"], person(1)))["manage_url"])
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await client.get(f"/inscriptions/{forged}")).status_code == 404
    assert (await client.post(f"/inscriptions/{forged}/annuler")).status_code == 404
    if token.upper() != token:  # tokens are case-sensitive
        assert (await client.get(f"/inscriptions/{token.upper()}")).status_code == 404
    assert (await registrations(meeting["id"]))[0]["status"] == "confirmed"


# ---------------------------------------------------------------- the private feed


async def test_the_private_feed_lists_every_meeting_the_address_is_confirmed_for(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    first = await published_meeting(client, tamaris_auth, title="Café du lundi", capacity=5)
    second = await published_meeting(
        client,
        tamaris_auth,
        title="Café du jeudi",
        starts_at="2031-10-02T18:00:00+02:00",
        ends_at="2031-10-02T20:00:00+02:00",
    )
    full = await published_meeting(client, tamaris_auth, title="Café complet", capacity=1)
    dropped = await published_meeting(client, tamaris_auth, title="Café abandonné")
    await sign_up(client, full["id"], person("autre"))

    mine = [
        await sign_up(client, m["id"], person("moi", email=e))
        for m, e in (
            (first, "moi@example.org"),
            (second, "MOI@example.org"),
            (full, "moi@example.org "),
            (dropped, "moi@example.org"),
        )
    ]
    assert [m["status"] for m in mine] == ["confirmed", "confirmed", "waitlisted", "confirmed"]
    cancelled = await client.post(f"/inscriptions/{token_of(mine[3]['manage_url'])}/annuler")
    assert cancelled.status_code == 200
    uids = {
        row["id"]: row["uid"]
        for row in await Meeting.select(Meeting.id, Meeting.uid).where(
            Meeting.id.is_in([first["id"], second["id"], full["id"], dropped["id"]])
        )
    }

    feeds = []
    for sign in mine:  # every manage link of the address gives the same feed
        response = await client.get(f"{sign['manage_url'].removeprefix(BASE)}/calendrier.ics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        assert "private" in response.headers["cache-control"]
        assert "@example.org" not in response.text
        feeds.append(response)
    calendar = icalendar.Calendar.from_ical(feeds[0].content)
    events = calendar.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {uids[first["id"]], uids[second["id"]]}
    assert {str(e["URL"]) for e in events} == {first["url"], second["url"]}
    assert sorted(str(e["SUMMARY"]) for e in events) == [
        "Café citoyen : Café du jeudi",
        "Café citoyen : Café du lundi",
    ]
    parsed = parse_with_icaljs(feeds[0].content)
    assert {e["uid"] for e in parsed["events"]} == {uids[first["id"]], uids[second["id"]]}
    by_uid = {e["uid"]: e for e in parsed["events"]}
    assert by_uid[uids[second["id"]]]["start_utc"] == "2031-10-02T16:00:00Z"
    assert by_uid[uids[first["id"]]]["start_utc"] == "2031-09-18T16:00:00Z"
    assert "Europe/Paris" in parsed["timezones"]

    # Another address's feed is its own.
    other = await sign_up(client, first["id"], person("autre-bis"))
    theirs = await client.get(f"{other['manage_url'].removeprefix(BASE)}/calendrier.ics")
    assert [str(e["UID"]) for e in icalendar.Calendar.from_ical(theirs.content).walk("VEVENT")] == [
        uids[first["id"]]
    ]

    # Promoted from the waiting list: the meeting joins the feed; cancelled: it leaves it.
    await client.post(f"/inscriptions/{token_of(mine[0]['manage_url'])}/annuler")
    autre = next(
        r for r in await registrations(full["id"]) if r["email"] == "habitante.autre@example.org"
    )
    await client.post(f"/inscriptions/{autre['token']}/annuler")
    response = await client.get(f"{mine[2]['manage_url'].removeprefix(BASE)}/calendrier.ics")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {uids[second["id"]], uids[full["id"]]}
    assert {e["uid"] for e in parse_with_icaljs(response.content)["events"]} == {
        uids[second["id"]],
        uids[full["id"]],
    }


# ---------------------------------------------------------------- seats on the meeting page


def places(response: Response) -> str:
    words = text(response)
    match = re.search(r"Places (.*?) (?:Ajouter|S'inscrire)", words)
    assert match, words
    return match.group(1)


async def test_the_meeting_page_shows_seats_left_and_the_waiting_list(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    path = f"/reunions/{meeting['id']}"
    first = await client.get(path)
    assert places(first) == "2 places — 2 encore libres"
    assert (await client.get(path)).content == first.content  # cached, unchanged

    people = [await sign_up(client, meeting["id"], person(0))]
    assert places(await client.get(path)) == "2 places — 1 encore libre"
    people.append(await sign_up(client, meeting["id"], person(1)))
    full = await client.get(path)
    assert places(full) == "2 places — complet"
    assert "La réunion est complète" in text(full)  # the form says sign-ups now wait
    for n, expected in ((2, "1 personne"), (3, "2 personnes")):
        people.append(await sign_up(client, meeting["id"], person(n)))
        assert (
            places(await client.get(path)) == f"2 places — complet, {expected} en liste d'attente"
        )
        assert f"(déjà {expected})" in text(await client.get(path))

    # Cancellations through the manage page: the cached page follows.
    await client.post(f"/inscriptions/{token_of(people[0]['manage_url'])}/annuler")
    assert places(await client.get(path)) == "2 places — complet, 1 personne en liste d'attente"
    await client.post(f"/inscriptions/{token_of(people[3]['manage_url'])}/annuler")
    assert places(await client.get(path)) == "2 places — complet"
    await client.post(f"/inscriptions/{token_of(people[1]['manage_url'])}/annuler")
    assert places(await client.get(path)) == "2 places — 1 encore libre"
    # Sign-ups through the form too.
    await submit(client, meeting["id"], form_of(person(9)))
    page = await client.get(path)
    assert places(page) == "2 places — complet"
    row = await meeting_row(meeting["id"])
    found = await by_status(meeting["id"])
    assert row["seats_taken"] == len(found["confirmed"]) == 2
    assert found["waitlisted"] == []
    assert "@example.org" not in page.text
    assert "Habitante n°" not in page.text

    # More seats from the facilitator: the page follows too.
    await client.patch(
        path.replace("/reunions", "/api/v1/meetings"), json={"capacity": 5}, headers=tamaris_auth
    )
    assert places(await client.get(path)) == "5 places — 3 encore libres"


async def test_a_meeting_without_limit_says_so(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    await sign_up(client, meeting["id"], person(1))
    page = await client.get(f"/reunions/{meeting['id']}")
    assert "Entrée libre, sans limite de places" in text(page)
    assert 'name="consent"' in page.text


async def test_a_cancelled_meeting_stays_in_the_private_feed_marked_cancelled(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    other = await published_meeting(client, tamaris_auth, title="Café maintenu")
    mine = await sign_up(client, meeting["id"], person("moi", email="moi@example.org"))
    await sign_up(client, other["id"], person("moi", email="moi@example.org"))
    feed_path = f"{mine['manage_url'].removeprefix(BASE)}/calendrier.ics"
    before = await client.get(feed_path)
    response = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    after = await client.get(feed_path)
    assert after.headers["etag"] != before.headers["etag"]
    events = {e["url"]: e for e in parse_with_icaljs(after.content)["events"]}
    assert events[meeting["url"]]["status"] == "CANCELLED"
    assert events[other["url"]]["status"] != "CANCELLED"
    assert events[meeting["url"]]["sequence"] > 1
    unchanged = await client.get(feed_path, headers={"If-None-Match": after.headers["etag"]})
    assert unchanged.status_code == 304
