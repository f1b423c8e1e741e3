"""Calendar feeds: what they hold, read back as calendar apps read them.

Every feed fetched here goes through `fetch()` (tests/support/feed_support.py), which checks
the raw text (CRLF, 75 octets, UTF-8 never split) and parses it with the icalendar library and
with ical.js (Thunderbird's parser), and checks that both read the same events. HTTP behaviour
(validators, 304, HEAD, caching) is in test_feeds_http.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from httpx import AsyncClient

from conseils import changes
from meetings.services import calendar
from meetings.tables import Council, Meeting
from tests.support.dates import LIKE_2027
from tests.support.feed_support import (
    cancel,
    create,
    create_published,
    fetch,
    patch,
    payload,
    row,
    z,
)

BASE = "http://testserver.local"
TAMARIS = "Conseil citoyen Alès Tamaris"
AGGLO = "Conseil citoyen « Alès Agglo »"
PUBLIC = ["published", "cancelled"]


# ---------------------------------------------------------------- what a feed should hold


async def public_uids(*conditions: Any) -> set[str]:
    query = Meeting.select(Meeting.uid).where(Meeting.status.is_in(PUBLIC))
    for condition in conditions:
        query = query.where(condition)
    return {r["uid"] for r in await query}


def expected_description(text: str, meeting_id: int, *, council: str = TAMARIS) -> str:
    page = f"{BASE}/reunions/{meeting_id}"
    details = (
        f"Organisé par : {council}\n"
        "Lieu : Maison de quartier de Tamaris, Rue de la Lozère, 30100 Alès\n"
        f"Page de la réunion : {page}\n"
        f"Inscription : {page}#inscription"
    )
    return f"{text}\n\n{details}" if text else details


# ---------------------------------------------------------------- what a feed holds


async def test_feed_holds_every_public_meeting_and_no_draft(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    draft = await create(client, tamaris_auth, title="Brouillon à ne pas montrer")
    feed = await fetch(client, "/calendrier.ics")
    public = await public_uids()
    assert len(public) == 20  # the demo's: 19 published, 1 cancelled
    assert len(feed.uids) == len(public)
    assert set(feed.uids) == public
    assert len(feed.calendar.walk("VEVENT")) == len(public)
    assert (await row(draft["id"]))["uid"] not in feed.uids
    assert all("Brouillon" not in (e["summary"] or "") for e in feed.events)
    # Soonest first, whatever the council.
    starts = [e["start_utc"] for e in feed.events]
    assert starts == sorted(starts)


async def test_each_council_feed_holds_that_council_public_meetings(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await create(client, tamaris_auth, title="Brouillon de Tamaris")
    councils = await Council.select(Council.id, Council.slug, Council.name)
    assert len(councils) == 7
    for council in councils:
        feed = await fetch(client, f"/conseils/{council['slug']}/calendrier.ics")
        expected = await public_uids(Meeting.council == council["id"])
        assert expected
        assert sorted(feed.uids) == sorted(expected), council["slug"]
        assert {e["categories"][1] for e in feed.events} == {council["name"]}
        assert {e["organizer_cn"] for e in feed.events} == {council["name"]}
        assert feed.js["calendar"]["x-wr-calname"] == council["name"]


async def test_calendar_properties(client: AsyncClient, demo: None) -> None:
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    calendar_props = feed.js["calendar"]
    assert calendar_props["version"] == "2.0"
    assert calendar_props["prodid"] == calendar.PRODID
    assert calendar_props["calscale"] == "GREGORIAN"
    assert calendar_props["method"] == "PUBLISH"
    assert calendar_props["name"] == TAMARIS
    assert calendar_props["x-wr-calname"] == TAMARIS
    assert calendar_props["x-wr-timezone"] == "Europe/Paris"
    assert calendar_props["x-published-ttl"] == "PT1H"
    assert calendar_props["source"] == f"{BASE}/conseils/ales-tamaris/calendrier.ics"
    assert calendar_props["url"] == f"{BASE}/conseils/ales-tamaris"
    text = feed.body.decode()
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    assert "\r\nMETHOD:PUBLISH\r\n" in text
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert [str(tz["TZID"]) for tz in feed.calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert str(feed.calendar["X-WR-CALNAME"]) == TAMARIS
    assert str(feed.calendar["REFRESH-INTERVAL"].to_ical().decode()) == "PT1H"


async def test_every_field_of_an_event(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create_published(client, tamaris_auth)
    stored = await row(meeting["id"])
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    event = feed.event(stored["uid"])
    page = f"{BASE}/reunions/{meeting['id']}"
    assert event == {
        **event,
        "summary": "Café citoyen : Le marché du samedi",
        "location": "Maison de quartier de Tamaris, Rue de la Lozère, 30100 Alès",
        "description": expected_description("Ordre du jour : le marché.", meeting["id"]),
        "url": page,
        "status": "CONFIRMED",
        "sequence": stored["sequence"],
        "categories": ["Café citoyen", TAMARIS],
        "organizer": "mailto:conseil.ales-tamaris@ville-ales.fr",
        "organizer_cn": TAMARIS,
        "dtstamp": z(stored["updated_at"]),
        "last_modified": z(stored["updated_at"]),
        "created": z(stored["created_at"]),
        "dtstart_tzid": "Europe/Paris",
        "dtend_tzid": "Europe/Paris",
        "start_utc": f"{LIKE_2027}-01-14T17:30:00Z",
        "end_utc": f"{LIKE_2027}-01-14T19:30:00Z",
        "start_local": f"{LIKE_2027}-01-14T18:30:00",
        "end_local": f"{LIKE_2027}-01-14T20:30:00",
    }
    assert stored["sequence"] == 1  # publishing is a change of status
    # The UID is the meeting's own UUID, not derived from its id or the host.
    assert len(stored["uid"]) == 36 and stored["uid"].count("-") == 4
    vevent = feed.vevent(stored["uid"])
    assert str(vevent["TRANSP"]) == "OPAQUE" and str(vevent["CLASS"]) == "PUBLIC"


async def test_winter_and_summer_times_have_the_right_utc_offset(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    winter = await create_published(client, tamaris_auth, title="Hiver")
    summer = await create_published(
        client,
        tamaris_auth,
        title="Été",
        starts_at=f"{LIKE_2027}-07-01T18:30:00+02:00",
        ends_at=f"{LIKE_2027}-07-01T20:30:00+02:00",
    )
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    for meeting, utc_start, offset in (
        (winter, f"{LIKE_2027}-01-14T17:30:00Z", timedelta(hours=1)),
        (summer, f"{LIKE_2027}-07-01T16:30:00Z", timedelta(hours=2)),
    ):
        uid = (await row(meeting["id"]))["uid"]
        event = feed.event(uid)
        assert event["start_utc"] == utc_start
        assert event["start_local"][11:] == "18:30:00"
        assert event["end_local"][11:] == "20:30:00"
        assert event["dtstart_tzid"] == "Europe/Paris"
        start = feed.vevent(uid).decoded("DTSTART")
        assert start.utcoffset() == offset
        assert (start.hour, start.minute) == (18, 30)
        assert z(start) == utc_start


async def test_uid_stable_across_fetches_and_edits_and_sequence_grows(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    uid = (await row(meeting["id"]))["uid"]
    first = await fetch(client, "/calendrier.ics")
    second = await fetch(client, "/calendrier.ics")
    assert first.uids == second.uids
    before = first.event(uid)
    assert before["start_utc"] == f"{LIKE_2027}-01-14T17:30:00Z"

    await patch(
        client,
        tamaris_auth,
        meeting["id"],
        starts_at=f"{LIKE_2027}-01-21T19:00:00+01:00",
        ends_at=f"{LIKE_2027}-01-21T21:00:00+01:00",
    )
    moved = await fetch(client, "/calendrier.ics")
    assert sorted(moved.uids) == sorted(first.uids)  # same UIDs, nothing added or lost
    after = moved.event(uid)
    assert after["sequence"] > before["sequence"]
    assert after["start_utc"] == f"{LIKE_2027}-01-21T18:00:00Z"
    assert after["end_utc"] == f"{LIKE_2027}-01-21T20:00:00Z"
    updated_at = (await row(meeting["id"]))["updated_at"]
    assert after["last_modified"] == after["dtstamp"] == z(updated_at)  # whole seconds
    assert after["created"] == before["created"]

    # The description is not a change attendees must be told about: SEQUENCE stays.
    await patch(client, tamaris_auth, meeting["id"], description="Nouvel ordre du jour.")
    described = (await fetch(client, "/calendrier.ics")).event(uid)
    assert described["sequence"] == after["sequence"]
    assert described["description"].startswith("Nouvel ordre du jour.\n\n")
    assert (await row(meeting["id"]))["updated_at"] > updated_at
    assert described["last_modified"] == z((await row(meeting["id"]))["updated_at"])
    assert described["uid"] == uid


async def test_cancelled_meeting_stays_90_days_with_status_cancelled(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    recent = await create_published(client, tamaris_auth, title="Annulé hier")
    old = await create_published(client, tamaris_auth, title="Annulé il y a longtemps")
    nearly = await create_published(client, tamaris_auth, title="Annulé il y a 89 jours")
    for meeting in (recent, old, nearly):
        await cancel(client, tamaris_auth, meeting["id"])
    # Cancelled long ago (set before this test's first fetch, so no cache holds them).
    await Meeting.update({Meeting.cancelled_at: now - timedelta(days=91)}).where(
        Meeting.id == old["id"]
    )
    await Meeting.update({Meeting.cancelled_at: now - timedelta(days=89)}).where(
        Meeting.id == nearly["id"]
    )
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    uid = {m["id"]: (await row(m["id"]))["uid"] for m in (recent, old, nearly)}
    assert uid[old["id"]] not in feed.uids
    for meeting in (recent, nearly):
        event = feed.event(uid[meeting["id"]])
        assert event["status"] == "CANCELLED"
        assert event["summary"] == f"Annulé — Café citoyen : {meeting['title']}"
        assert event["description"].startswith("Cette réunion est annulée.\n\n")
        assert "#inscription" not in event["description"]
        assert str(feed.vevent(uid[meeting["id"]])["TRANSP"]) == "TRANSPARENT"
    # The demo's cancelled café is in its council's feed too.
    nord = await fetch(client, "/conseils/ales-couronne-nord/calendrier.ics")
    assert [e["status"] for e in nord.events].count("CANCELLED") == 1
    # Its own .ics keeps a cancelled meeting however old, so a download still says so.
    single = await fetch(client, f"/reunions/{old['id']}/calendrier.ics")
    assert single.uids == [uid[old["id"]]]
    assert single.events[0]["status"] == "CANCELLED"


async def test_a_cancelled_meeting_leaves_a_cached_feed_after_90_days(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No change notice when the 90 days are over: the cached feed must notice by itself."""
    meeting = await create_published(client, tamaris_auth, title="Bientôt oublié")
    await cancel(client, tamaris_auth, meeting["id"])
    await Meeting.update({Meeting.cancelled_at: datetime.now(UTC) - timedelta(days=89)}).where(
        Meeting.id == meeting["id"]
    )
    changes.reset()  # the direct update above sent no notice
    uid = (await row(meeting["id"]))["uid"]
    path = "/conseils/ales-tamaris/calendrier.ics"
    before = await fetch(client, path)
    assert uid in before.uids
    assert (await fetch(client, path)).body == before.body  # cached

    two_days_later = datetime.now(UTC) + timedelta(days=2)
    monkeypatch.setattr(calendar, "now_utc", lambda: two_days_later)
    after = await fetch(client, path)
    assert uid not in after.uids
    assert len(after.uids) == len(before.uids) - 1
    assert after.etag != before.etag
    assert parsedate_to_datetime(after.last_modified) > parsedate_to_datetime(before.last_modified)


async def test_one_meeting_calendar(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create_published(client, tamaris_auth)
    feed = await fetch(client, f"/reunions/{meeting['id']}/calendrier.ics")
    assert feed.uids == [(await row(meeting["id"]))["uid"]]
    assert feed.events[0]["summary"] == "Café citoyen : Le marché du samedi"
    assert feed.js["calendar"]["x-wr-calname"] == "Le marché du samedi"
    assert feed.js["calendar"]["method"] == "PUBLISH"
    disposition = feed.response.headers["content-disposition"]
    assert disposition == f'attachment; filename="reunion-{meeting["id"]}.ics"'

    draft = await create(client, tamaris_auth, title="Pas encore publié")
    for path in (
        f"/reunions/{draft['id']}/calendrier.ics",
        "/reunions/999999/calendrier.ics",
        "/reunions/0/calendrier.ics",
        "/reunions/2147483648/calendrier.ics",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_an_online_meeting(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    link = "https://visio.example.fr/salle?id=1,2;mode=audio&nom=caf%C3%A9#" + "x" * 120
    meeting = await create_published(
        client,
        tamaris_auth,
        title="café citoyen en ligne",  # begins with the kind: no "Café citoyen : " prefix
        venue="",
        address="",
        online_url=link,
    )
    feed = await fetch(client, f"/reunions/{meeting['id']}/calendrier.ics")
    event = feed.events[0]
    assert event["summary"] == "café citoyen en ligne"
    assert event["location"] == link
    assert event["description"] == (
        f"Ordre du jour : le marché.\n\nOrganisé par : {TAMARIS}\nEn ligne : {link}\n"
        f"Page de la réunion : {BASE}/reunions/{meeting['id']}\n"
        f"Inscription : {BASE}/reunions/{meeting['id']}#inscription"
    )
    conference = feed.calendar.walk("VEVENT")[0]["CONFERENCE"]
    assert str(conference) == link
    assert conference.params["FEATURE"] == "VIDEO"


# ---------------------------------------------------------------- hostile text

NASTY_TITLE = 'Réunion ; budget, travaux \\ « quartier » "Tamaris" ☕🌱\tfin'
NASTY_DESCRIPTION = (
    "Première ligne ; avec, des \\ barres\r\n"
    "deuxième ligne\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\n"
    "SUMMARY:Faux événement\r\nEND:VEVENT\r\n"
    "\nLigne après un LF seul\n\n"
    "C:\\new\\temp et \\n littéral, émojis 👩‍👩‍👧 🇫🇷 et séparateur\u2028de ligne Unicode"
)


def long_description() -> str:
    """About 9,000 characters mixing every kind of character a fold could cut."""
    pieces = ["é", "🌱", "\\", ";", ",", "\n", "€", "a", " ", "ü", "’", "\t"]
    text = "".join(pieces[(i * 7 + i // 13) % len(pieces)] for i in range(9_000))
    return text.strip()


async def test_hostile_text_round_trips_and_adds_no_event(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    before = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    nasty = await create_published(
        client,
        tamaris_auth,
        title=NASTY_TITLE,
        description=NASTY_DESCRIPTION,
        venue="Salle « A ; B, C »",
        address="1 rue de l'Égalité \\ bâtiment 2, 30100 Alès",
    )
    long = await create_published(
        client, tamaris_auth, title="Très longue description", description=long_description()
    )
    assert len(long_description()) == len((await row(long["id"]))["description"]) >= 8_990

    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    assert len(feed.events) == len(before.events) + 2
    assert len(feed.calendar.walk("VEVENT")) == len(feed.events)
    assert "evil" not in feed.uids
    assert feed.body.count(b"\r\nBEGIN:VEVENT\r\n") == len(feed.events)
    assert feed.body.count(b"\r\nEND:VEVENT\r\n") == len(feed.events)

    nasty_uid = (await row(nasty["id"]))["uid"]
    event = feed.event(nasty_uid)
    assert event["summary"] == f"Café citoyen : {NASTY_TITLE}"
    # What the API stored, CR LF read as LF, comes back exactly.
    stored = (await row(nasty["id"]))["description"]
    assert stored == NASTY_DESCRIPTION.replace("\r\n", "\n")
    assert event["description"] == (
        f"{stored}\n\nOrganisé par : {TAMARIS}\n"
        "Lieu : Salle « A ; B, C », 1 rue de l'Égalité \\ bâtiment 2, 30100 Alès\n"
        f"Page de la réunion : {BASE}/reunions/{nasty['id']}\n"
        f"Inscription : {BASE}/reunions/{nasty['id']}#inscription"
    )
    assert event["location"] == "Salle « A ; B, C », 1 rue de l'Égalité \\ bâtiment 2, 30100 Alès"

    long_event = feed.event((await row(long["id"]))["uid"])
    assert long_event["description"] == expected_description(long_description(), long["id"])
    # The long description alone takes well over a hundred folded lines.
    assert feed.body.count(b"\r\n ") > 150


@pytest.mark.parametrize(
    "title",
    [
        "Titre\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil",
        "Titre\nsur deux lignes",
        "Titre\rretour chariot",
        "Titre avec NUL \x00",
        "Titre \x1b[31m",
        "Titre\u2028séparé",
    ],
)
async def test_titles_the_api_refuses_never_reach_the_feed(
    client: AsyncClient, tamaris_auth: dict[str, str], title: str
) -> None:
    before = await fetch(client, "/calendrier.ics")
    response = await client.post(
        "/api/v1/meetings", json=payload(title=title), headers=tamaris_auth
    )
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["title"]
    after = await fetch(client, "/calendrier.ics")
    assert after.body == before.body


@pytest.mark.parametrize("description", ["Bip \x07", "Échappement \x1b", "CR seul\rici", "NUL\x00"])
async def test_descriptions_with_control_characters_are_refused(
    client: AsyncClient, tamaris_auth: dict[str, str], description: str
) -> None:
    response = await client.post(
        "/api/v1/meetings", json=payload(description=description), headers=tamaris_auth
    )
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["description"]


# ---------------------------------------------------------------- filters and errors


async def test_type_filter(client: AsyncClient, demo: None) -> None:
    cafes = await fetch(client, "/calendrier.ics", type="cafe")
    assert set(cafes.uids) == await public_uids(Meeting.kind == "cafe")
    assert len(cafes.uids) == 6
    assert {e["categories"][0] for e in cafes.events} == {"Café citoyen"}
    assert cafes.js["calendar"]["x-wr-calname"] == "Conseils citoyens — Cafés citoyens"
    assert cafes.response.headers["content-disposition"] == (
        'inline; filename="conseils-citoyens-cafe.ics"'
    )
    councils = await fetch(client, "/calendrier.ics", type="council")
    assert set(councils.uids) == await public_uids(Meeting.kind == "council")
    assert len(councils.uids) == 14
    assert {e["categories"][0] for e in councils.events} == {"Réunion du conseil"}
    assert councils.js["calendar"]["x-wr-calname"] == "Conseils citoyens — Réunions du conseil"
    # An empty filter is no filter.
    assert len((await fetch(client, "/calendrier.ics", type="")).uids) == 20


async def test_quartier_filter_adds_the_agglomeration_wide_council(
    client: AsyncClient, demo: None
) -> None:
    tamaris = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    agglo = await Council.select(Council.id).where(Council.slug == "ales-agglo").first()
    feed = await fetch(client, "/calendrier.ics", quartier="ales-tamaris")
    expected = await public_uids(Meeting.council.is_in([tamaris["id"], agglo["id"]]))
    assert set(feed.uids) == expected
    assert len(expected) == 3 + 2
    assert {e["categories"][1] for e in feed.events} == {TAMARIS, AGGLO}
    assert feed.js["calendar"]["x-wr-calname"] == "Conseils citoyens — Tamaris (Alès)"

    # Couronne Nord runs three quartiers: each one's feed holds its meetings.
    moulinet = await fetch(client, "/calendrier.ics", quartier="ales-moulinet")
    assert {e["categories"][1] for e in moulinet.events} == {
        "Conseil citoyen Alès « Couronne Nord »", AGGLO,
    }  # fmt: skip

    cafes = await fetch(client, "/calendrier.ics", quartier="ales-tamaris", type="cafe")
    assert set(cafes.uids) == expected & await public_uids(Meeting.kind == "cafe")
    assert len(cafes.uids) == 1

    # A council's feed narrowed to a quartier it does not serve is empty, not an error.
    elsewhere = await fetch(
        client, "/conseils/ales-tamaris/calendrier.ics", quartier="ales-moulinet"
    )
    assert elsewhere.uids == []
    served = await fetch(client, "/conseils/ales-tamaris/calendrier.ics", quartier="ales-tamaris")
    assert set(served.uids) == await public_uids(Meeting.council == tamaris["id"])


async def test_council_and_type_filters_together(client: AsyncClient, demo: None) -> None:
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics", type="council")
    tamaris = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    expected = await public_uids(Meeting.council == tamaris["id"], Meeting.kind == "council")
    assert set(feed.uids) == expected and len(expected) == 2
    assert feed.js["calendar"]["x-wr-calname"] == f"{TAMARIS} — Réunions du conseil"


@pytest.mark.parametrize(
    "path",
    [
        "/conseils/nulle-part/calendrier.ics",
        "/calendrier.ics?quartier=nulle-part",
        "/conseils/ales-tamaris/calendrier.ics?quartier=nulle-part",
        "/conseils/nulle-part/calendrier.ics?type=cafe",
        "/conseils/%00/calendrier.ics",
        "/calendrier.ics?quartier=%00",
    ],
)
async def test_unknown_council_or_quartier_is_a_404(
    client: AsyncClient, demo: None, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/calendrier.ics?type=bogus",
        "/calendrier.ics?type=CAFE",
        "/conseils/ales-tamaris/calendrier.ics?type=cafes",
        "/calendrier.ics?quartier=ales-tamaris&type=%00",
    ],
)
async def test_unknown_type_is_a_400_naming_the_field(
    client: AsyncClient, demo: None, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Requête invalide" in response.text
    assert "type" in response.text
    assert "cafe ou council" in response.text


async def test_overlong_filters_are_400_not_500(client: AsyncClient, demo: None) -> None:
    for params in ({"type": "c" * 500}, {"quartier": "q" * 500}):
        response = await client.get("/calendrier.ics", params=params)
        assert response.status_code == 400, params


async def test_an_empty_database_gives_an_empty_but_valid_feed(client: AsyncClient) -> None:
    feed = await fetch(client, "/calendrier.ics")
    assert feed.events == []
    assert feed.js["calendar"]["x-wr-calname"] == "Conseils citoyens"
