"""Registrations on the French pages: the sign-up form on the meeting page and its answers
(a redirect to one page, the same for everyone; the rest goes by email), the manage link's
page (status, position, cancel, the feed's address), each registration's private calendar
feed, and the seats left shown on the (per-process cached) meeting page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import icalendar
import pytest
from httpx import AsyncClient, Response

from conseils.timefmt import now_utc
from meetings.tables import Meeting, Registration
from tests.support.dates import LIKE_2031
from tests.support.icaljs import parse_with_icaljs
from tests.support.registration_support import (
    by_status,
    feed_path,
    feed_token_of,
    form_of,
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


def text(response: Response) -> str:
    """The page as a reader sees its words (entities decoded, whitespace collapsed)."""
    words = re.sub(r"<[^>]*>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words)).replace(" .", ".").replace(" ,", ",")


async def submit(client: AsyncClient, meeting_id: int, form: dict[str, str]) -> Response:
    return await client.post(f"/reunions/{meeting_id}/inscription", data=form)


async def submit_and_follow(client: AsyncClient, meeting_id: int, form: dict[str, str]) -> Response:
    """Send the form as a browser does: a 303 to the result page, then that page."""
    answer = await submit(client, meeting_id, form)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/reunions/{meeting_id}/inscription/enregistree"
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    return page


def assert_tells_nothing_personal(page: Response) -> None:
    """The result page says the same to everyone: no name, no address, no status, no link."""
    words = text(page)
    assert "Votre demande est enregistrée" in words
    assert "/inscriptions/" not in page.text
    assert "@example.org" not in page.text and "Habitante" not in page.text
    assert "Votre inscription est confirmée" not in words
    assert "position" not in words


# ---------------------------------------------------------------- the form


async def test_the_form_confirms_then_waitlists(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    page = await client.get(f"/reunions/{meeting['id']}")
    assert 'action="/reunions/{}/inscription"'.format(meeting["id"]) in page.text
    assert 'name="consent" value="oui"' in page.text

    first = await submit_and_follow(client, meeting["id"], form_of(person(1)))
    assert_tells_nothing_personal(first)
    [row] = await registrations(meeting["id"])
    assert row["status"] == "confirmed"
    # The seat and the manage link are told by email, to the address only.
    [mail] = await outbox_rows("registration_confirmed", recipient="habitante.1@example.org")
    assert "Votre inscription est confirmée : une place vous attend" in plain_text(message_of(mail))
    assert manage_links(message_of(mail)) == [f"{BASE}/inscriptions/{row['token']}"]

    second = await submit_and_follow(
        client, meeting["id"], form_of(person(2, attending_as="other"))
    )
    assert second.text == first.text  # the waiting list looks the same as a seat
    mine = await registration_of(meeting["id"], "habitante.2@example.org")
    assert (mine["status"], mine["position"]) == ("waitlisted", 1)
    [mail] = await outbox_rows("registration_waitlisted", recipient="habitante.2@example.org")
    assert "en position 1" in plain_text(message_of(mail))
    assert manage_links(message_of(mail)) == [mine["manage_url"]]
    found = await by_status(meeting["id"])
    assert [r["email"] for r in found["waitlisted"]] == ["habitante.2@example.org"]
    assert found["waitlisted"][0]["attending_as"] == "other"


async def test_the_form_again_with_the_same_address_changes_nothing_and_emails_the_link(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    first = await submit_and_follow(client, meeting["id"], form_of(person(1)))
    mine = await registration_of(meeting["id"], "habitante.1@example.org")
    again_form = form_of(person(1, email=" HABITANTE.1@example.org", name="Autre nom"))
    again = await submit_and_follow(client, meeting["id"], again_form)
    assert again.text == first.text  # nothing tells that the address was known
    assert_tells_nothing_personal(again)
    assert await outbox_rows("registration_link") == []  # the confirmation went just now
    await link_sent_long_ago(meeting["id"])
    for _ in range(3):
        assert (await submit_and_follow(client, meeting["id"], again_form)).text == first.text
    [link] = await outbox_rows("registration_link")  # once within ten minutes
    assert link["recipient"] == "habitante.1@example.org"
    assert manage_links(message_of(link)) == [mine["manage_url"]]
    assert await registration_of(meeting["id"], "habitante.1@example.org") == mine
    [row] = await registrations(meeting["id"])
    assert row["name"] == "Habitante n° 1"
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
    # The answer everyone gets (a robot learns nothing), and nothing stored or sent.
    assert response.status_code == 303
    assert response.headers["location"] == f"/reunions/{meeting['id']}/inscription/enregistree"
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
    (_not_open, "Les inscriptions ne sont pas encore ouvertes : elles ouvriront le "),
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
            "starts_at": f"{LIKE_2031}-05-01T18:00:00+02:00",
            "ends_at": f"{LIKE_2031}-05-01T20:00:00+02:00",
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
    cancel_link = f'href="/inscriptions/{token_of(first["manage_url"])}/annuler"'
    cancel_action = f'action="/inscriptions/{token_of(first["manage_url"])}/annuler"'
    assert cancel_link in page.text and cancel_action not in page.text  # it asks first
    asking = await client.get(f"/inscriptions/{token_of(first['manage_url'])}/annuler")
    assert asking.status_code == 200 and asking.headers["cache-control"] == "no-store"
    assert cancel_action in asking.text and "Oui, annuler mon inscription" in text(asking)
    assert "Votre place ira à la première personne de la liste d'attente." in text(asking)
    assert (await registration_of(meeting["id"], person(0)["email"]))["status"] == "confirmed"
    feed = await feed_token_of(meeting["id"], "habitante.0@example.org")
    assert f"{BASE}{feed_path(feed)}" in page.text  # its own feed, by a token of its own
    assert f"{first['manage_url']}/calendrier.ics" not in page.text
    assert f'action="/inscriptions/{token_of(first["manage_url"])}/agenda"' in page.text
    assert "webcal://" in page.text
    assert "habitante.0@example.org" not in page.text

    third_page = await client.get(third["manage_url"].removeprefix(BASE))
    assert "Liste d'attente : vous êtes en position 2" in text(third_page)

    cancelled = await client.post(f"/inscriptions/{token_of(first['manage_url'])}/annuler")
    assert cancelled.status_code == 200
    words = text(cancelled)
    assert "Inscription annulée. C'est noté ; merci d'avoir prévenu." in words
    assert cancel_action not in cancelled.text and cancel_link not in cancelled.text
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
    feed = await feed_token_of(meeting["id"], "habitante.1@example.org")
    for response in (
        await client.get(f"/inscriptions/{token}"),
        await client.post(f"/inscriptions/{token}/annuler"),
        await client.post(f"/inscriptions/{token}/agenda"),
        await client.get(feed_path(token)),
    ):
        assert response.status_code == 404, response.text
    [row] = await registrations(meeting["id"])
    assert row["status"] == "confirmed"
    assert row["feed_token"] == feed


async def test_a_token_differing_by_one_character_is_404(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    token = token_of((await sign_up(client, meeting["id"], person(1)))["manage_url"])
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await client.get(f"/inscriptions/{forged}")).status_code == 404
    assert (await client.post(f"/inscriptions/{forged}/annuler")).status_code == 404
    assert (await client.post(f"/inscriptions/{forged}/agenda")).status_code == 404
    if token.upper() != token:  # tokens are case-sensitive
        assert (await client.get(f"/inscriptions/{token.upper()}")).status_code == 404
    feed = await feed_token_of(meeting["id"], "habitante.1@example.org")
    forged_feed = feed[:-1] + ("A" if feed[-1] != "A" else "B")
    assert (await client.get(feed_path(forged_feed))).status_code == 404
    [row] = await registrations(meeting["id"])
    assert (row["status"], row["feed_token"]) == ("confirmed", feed)


# ---------------------------------------------------------------- the private feed


async def feed(client: AsyncClient, meeting_id: int, address: str) -> Response:
    """A registration's own feed, by the feed token its manage page shows."""
    response = await client.get(feed_path(await feed_token_of(meeting_id, address)))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    cache_control = response.headers["cache-control"]
    assert "public" not in cache_control
    assert "private" in cache_control or "no-store" in cache_control
    assert "@example.org" not in response.text
    return response


def feed_uids(response: Response) -> list[str]:
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")]


async def test_a_registrations_feed_holds_its_meeting_only_while_confirmed(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    first = await published_meeting(client, tamaris_auth, title="Café du lundi", capacity=5)
    second = await published_meeting(
        client,
        tamaris_auth,
        title="Café du jeudi",
        starts_at=f"{LIKE_2031}-10-02T18:00:00+02:00",
        ends_at=f"{LIKE_2031}-10-02T20:00:00+02:00",
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

    # Each registration of the address has a feed of its own, and no manage link is one.
    tokens = [await feed_token_of(m["id"], "moi@example.org") for m in (first, second, full)]
    assert len(set(tokens)) == 3
    assert not {token_of(m["manage_url"]) for m in mine} & set(tokens)
    for sign in mine:  # the manage link's old address-wide feed is gone
        old = await client.get(f"{sign['manage_url'].removeprefix(BASE)}/calendrier.ics")
        assert old.status_code == 404
    # The manage page shows the feed's address.
    page = await client.get(mine[0]["manage_url"].removeprefix(BASE))
    assert f"{BASE}{feed_path(tokens[0])}" in page.text

    monday = await feed(client, first["id"], "moi@example.org")
    thursday = await feed(client, second["id"], "moi@example.org")
    calendar = icalendar.Calendar.from_ical(monday.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == uids[first["id"]]
    assert str(event["URL"]) == first["url"]
    assert str(event["SUMMARY"]) == "Café citoyen : Café du lundi"
    [event] = icalendar.Calendar.from_ical(thursday.content).walk("VEVENT")
    assert (str(event["UID"]), str(event["SUMMARY"])) == (
        uids[second["id"]],
        "Café citoyen : Café du jeudi",
    )
    parsed = parse_with_icaljs(monday.content)
    assert [e["uid"] for e in parsed["events"]] == [uids[first["id"]]]
    assert parsed["events"][0]["start_utc"] == f"{LIKE_2031}-09-18T16:00:00Z"
    assert "Europe/Paris" in parsed["timezones"]
    parsed = parse_with_icaljs(thursday.content)
    assert [(e["uid"], e["start_utc"]) for e in parsed["events"]] == [
        (uids[second["id"]], f"{LIKE_2031}-10-02T16:00:00Z")
    ]
    # Waiting, or cancelled: an empty calendar.
    assert feed_uids(await feed(client, full["id"], "moi@example.org")) == []
    assert feed_uids(await feed(client, dropped["id"], "moi@example.org")) == []

    # Another address's feed is its own.
    await sign_up(client, first["id"], person("autre-bis"))
    theirs = await feed(client, first["id"], "habitante.autre-bis@example.org")
    assert feed_uids(theirs) == [uids[first["id"]]]
    assert await feed_token_of(first["id"], "habitante.autre-bis@example.org") != tokens[0]

    # Promoted from the waiting list: the meeting joins the feed; cancelled: it leaves it.
    await client.post(f"/inscriptions/{token_of(mine[0]['manage_url'])}/annuler")
    assert feed_uids(await feed(client, first["id"], "moi@example.org")) == []
    autre = await registration_of(full["id"], "habitante.autre@example.org")
    await client.post(f"/inscriptions/{token_of(autre['manage_url'])}/annuler")
    response = await feed(client, full["id"], "moi@example.org")
    assert feed_uids(response) == [uids[full["id"]]]
    assert [e["uid"] for e in parse_with_icaljs(response.content)["events"]] == [uids[full["id"]]]
    assert feed_uids(await feed(client, second["id"], "moi@example.org")) == [uids[second["id"]]]


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


async def test_a_cancelled_meeting_stays_in_its_registrations_feed_marked_cancelled(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    other = await published_meeting(client, tamaris_auth, title="Café maintenu")
    await sign_up(client, meeting["id"], person("moi", email="moi@example.org"))
    await sign_up(client, other["id"], person("moi", email="moi@example.org"))
    feed_url = feed_path(await feed_token_of(meeting["id"], "moi@example.org"))
    before = await client.get(feed_url)
    response = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    after = await client.get(feed_url)
    assert after.headers["etag"] != before.headers["etag"]
    [event] = parse_with_icaljs(after.content)["events"]
    assert event["url"] == meeting["url"]
    assert event["status"] == "CANCELLED"
    assert event["sequence"] > 1
    # The other meeting, in its own registration's feed, goes on.
    kept = await feed(client, other["id"], "moi@example.org")
    [event] = parse_with_icaljs(kept.content)["events"]
    assert event["url"] == other["url"] and event["status"] != "CANCELLED"
    unchanged = await client.get(feed_url, headers={"If-None-Match": after.headers["etag"]})
    assert unchanged.status_code == 304
