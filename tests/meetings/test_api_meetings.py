"""The meetings API: listing, visibility of drafts, and the facilitator's write flow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.tables import Meeting
from tests.support.dates import LIKE_2031
from tests.support.facilitator_support import make_facilitator

BASE = "http://testserver.local"
DEMO_TOTAL = 20  # 7 past council meetings and 13 upcoming ones, one of them cancelled


def payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": "Café citoyen : le marché du samedi",
        "starts_at": f"{LIKE_2031}-01-15T18:00:00+01:00",
        "ends_at": f"{LIKE_2031}-01-15T20:00:00+01:00",
        "venue": "Maison de quartier de Tamaris",
        "address": "Rue de la Lozère, 30100 Alès",
        "capacity": 30,
    }
    body.update(overrides)
    return body


async def create(client: AsyncClient, auth: dict[str, str], **overrides: object) -> dict:
    response = await client.post("/api/v1/meetings", json=payload(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def create_published(client: AsyncClient, auth: dict[str, str], **overrides: object) -> dict:
    meeting = await create(client, auth, **overrides)
    response = await client.post(f"/api/v1/meetings/{meeting['id']}/publish", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def ours() -> int:
    """How many meetings exist outside the demo's."""
    return await Meeting.count() - DEMO_TOTAL


async def listing(client: AsyncClient, headers: dict[str, str] | None = None, **params) -> dict:
    response = await client.get("/api/v1/meetings", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- reading


async def test_list_empty(client: AsyncClient) -> None:
    assert await listing(client) == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_list_demo_meetings_soonest_first(client: AsyncClient, demo: None) -> None:
    page = await listing(client)
    assert page["total"] == DEMO_TOTAL
    assert page["limit"] == 50 and page["offset"] == 0
    items = page["items"]
    assert len(items) == DEMO_TOTAL
    starts = [datetime.fromisoformat(m["starts_at"]) for m in items]
    assert starts == sorted(starts)
    assert {m["status"] for m in items} == {"published", "cancelled"}
    for meeting in items:
        assert meeting["url"] == f"{BASE}/reunions/{meeting['id']}"
        assert meeting["calendar_url"] == f"{BASE}/reunions/{meeting['id']}/calendrier.ics"
        # Shown in Paris time: +01:00 in winter, +02:00 in summer.
        assert meeting["starts_at"][-6:] in {"+01:00", "+02:00"}


async def test_pagination(client: AsyncClient, demo: None) -> None:
    everything = (await listing(client, limit=100))["items"]
    assert len(everything) == DEMO_TOTAL
    first = await listing(client, limit=7)
    assert first["total"] == DEMO_TOTAL
    assert (first["limit"], first["offset"]) == (7, 0)
    assert [m["id"] for m in first["items"]] == [m["id"] for m in everything[:7]]
    second = await listing(client, limit=7, offset=7)
    assert [m["id"] for m in second["items"]] == [m["id"] for m in everything[7:14]]
    last = await listing(client, limit=7, offset=14)
    assert [m["id"] for m in last["items"]] == [m["id"] for m in everything[14:]]
    assert len(last["items"]) == 6
    beyond = await listing(client, limit=7, offset=1000)
    assert beyond["items"] == [] and beyond["total"] == DEMO_TOTAL
    # Pages never overlap and cover everything.
    ids = [m["id"] for page in (first, second, last) for m in page["items"]]
    assert len(set(ids)) == DEMO_TOTAL


async def test_filter_by_council(client: AsyncClient, demo: None) -> None:
    page = await listing(client, council="ales-tamaris")
    assert page["total"] == 3  # one past, two upcoming
    assert {m["council"] for m in page["items"]} == {"ales-tamaris"}
    titles = {m["title"] for m in page["items"]}
    assert "Café citoyen : les jeux pour enfants" in titles
    assert (await listing(client, council="ales-couronne-nord"))["total"] == 3
    assert (await listing(client, council="ales-agglo"))["total"] == 2


async def test_filter_by_kind_and_status(client: AsyncClient, demo: None) -> None:
    cafes = await listing(client, kind="cafe")
    assert cafes["total"] == 6
    assert {m["kind"] for m in cafes["items"]} == {"cafe"}
    councils = await listing(client, kind="council")
    assert councils["total"] == DEMO_TOTAL - 6
    assert {m["kind"] for m in councils["items"]} == {"council"}
    cancelled = await listing(client, status="cancelled")
    assert cancelled["total"] == 1
    assert cancelled["items"][0]["title"] == "Café citoyen au Moulinet : bus et horaires"
    assert cancelled["items"][0]["sequence"] == 1
    assert (await listing(client, status="published"))["total"] == DEMO_TOTAL - 1
    assert (await listing(client, status="draft"))["total"] == 0
    both = await listing(client, kind="cafe", status="cancelled", council="ales-couronne-nord")
    assert both["total"] == 1
    assert (await listing(client, kind="council", status="cancelled"))["total"] == 0


async def test_filter_by_dates(client: AsyncClient, admin_auth: dict[str, str]) -> None:
    # Three meetings of our own at known moments (the demo's move with today's date).
    jan = await create_published(
        client,
        admin_auth,
        starts_at=f"{LIKE_2031}-01-10T18:00:00+01:00",
        ends_at=f"{LIKE_2031}-01-10T20:00:00+01:00",
    )
    feb = await create_published(
        client,
        admin_auth,
        starts_at=f"{LIKE_2031}-02-10T18:00:00+01:00",
        ends_at=f"{LIKE_2031}-02-10T20:00:00+01:00",
    )
    jul = await create_published(
        client,
        admin_auth,
        starts_at=f"{LIKE_2031}-07-10T18:00:00+02:00",
        ends_at=f"{LIKE_2031}-07-10T20:00:00+02:00",
    )
    ids = lambda page: [m["id"] for m in page["items"]]  # noqa: E731
    assert ids(await listing(client, **{"from": f"{LIKE_2031}-01-01T00:00:00+01:00"})) == [
        jan["id"], feb["id"], jul["id"],
    ]  # fmt: skip
    assert ids(await listing(client, **{"from": f"{LIKE_2031}-02-01T00:00:00+01:00"})) == [
        feb["id"], jul["id"],
    ]  # fmt: skip
    # `to` alone: the demo's meetings (all within weeks of today) and January's.
    before_feb = await listing(client, to=f"{LIKE_2031}-02-01T00:00:00+01:00", limit=100)
    assert before_feb["total"] == DEMO_TOTAL + 1
    assert ids(before_feb)[-1] == jan["id"]
    assert feb["id"] not in ids(before_feb) and jul["id"] not in ids(before_feb)
    window = await listing(
        client,
        **{"from": f"{LIKE_2031}-01-11T00:00:00+01:00", "to": f"{LIKE_2031}-07-01T00:00:00+02:00"},
    )
    assert ids(window) == [feb["id"]] and window["total"] == 1
    # `from` is inclusive, `to` exclusive, whatever the offset the instant is written in.
    assert ids(await listing(client, **{"from": f"{LIKE_2031}-02-10T17:00:00Z"})) == [
        feb["id"],
        jul["id"],
    ]
    assert ids(await listing(client, **{"from": f"{LIKE_2031}-02-10T17:00:01Z"})) == [jul["id"]]
    assert ids(
        await listing(
            client,
            **{"from": f"{LIKE_2031}-01-01T00:00:00Z", "to": f"{LIKE_2031}-02-10T12:00:00-05:00"},
        )
    ) == [jan["id"]]
    assert ids(
        await listing(
            client,
            **{"from": f"{LIKE_2031}-01-01T00:00:00Z", "to": f"{LIKE_2031}-02-10T12:00:01-05:00"},
        )
    ) == [jan["id"], feb["id"]]


async def test_filter_from_now_hides_past_demo_meetings(client: AsyncClient, demo: None) -> None:
    now = datetime.now(UTC).isoformat()
    page = await listing(client, **{"from": now})
    assert page["total"] == 13
    assert all(datetime.fromisoformat(m["starts_at"]) >= datetime.fromisoformat(now)
               for m in page["items"])  # fmt: skip
    past = await listing(client, to=now)
    assert past["total"] == 7
    assert {m["council"] for m in past["items"]} == {
        "ales-agglo", "ales-rive-droite", "ales-tamaris", "ales-couronne-nord",
        "ales-pres-saint-jean", "ales-centre-ville", "anduze-centre-ville",
    }  # fmt: skip


async def test_get_one_meeting(client: AsyncClient, demo: None) -> None:
    first = (await listing(client, limit=1))["items"][0]
    response = await client.get(f"/api/v1/meetings/{first['id']}")
    assert response.status_code == 200
    assert response.json() == first
    missing = await client.get("/api/v1/meetings/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "meeting_not_found"
    assert (await client.get("/api/v1/meetings/0")).status_code == 404


# ---------------------------------------------------------------- drafts


async def test_drafts_hidden_from_public_visible_to_facilitators(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    other_auth = await make_facilitator("anim.rive@ales.fr", "ales-rive-droite")
    draft = await create(client, tamaris_auth)
    assert draft["status"] == "draft"

    public = await listing(client)
    assert public["total"] == DEMO_TOTAL
    assert draft["id"] not in {m["id"] for m in public["items"]}
    assert (await listing(client, status="draft"))["total"] == 0
    assert (await client.get(f"/api/v1/meetings/{draft['id']}")).status_code == 404

    for auth in (tamaris_auth, admin_auth):
        mine = await listing(client, auth, limit=100)
        assert mine["total"] == DEMO_TOTAL + 1
        assert draft["id"] in {m["id"] for m in mine["items"]}
        drafts = await listing(client, auth, status="draft")
        assert [m["id"] for m in drafts["items"]] == [draft["id"]]
        response = await client.get(f"/api/v1/meetings/{draft['id']}", headers=auth)
        assert response.status_code == 200
        assert response.json()["status"] == "draft"

    # The public answer is kept per process, but never given to a token, nor a token's kept.
    assert draft["id"] in {m["id"] for m in (await listing(client, tamaris_auth))["items"]}
    assert await listing(client) == public

    # A facilitator of another council does not see it.
    theirs = await listing(client, other_auth, limit=100)
    assert theirs["total"] == DEMO_TOTAL
    assert (
        await client.get(f"/api/v1/meetings/{draft['id']}", headers=other_auth)
    ).status_code == 404
    # Nor may they publish, change or cancel it: it does not exist for them.
    for action in ("publish", "cancel"):
        response = await client.post(f"/api/v1/meetings/{draft['id']}/{action}", headers=other_auth)
        assert response.status_code == 404
    response = await client.patch(
        f"/api/v1/meetings/{draft['id']}", json={"title": "Pris"}, headers=other_auth
    )
    assert response.status_code == 404
    assert (await client.get(f"/api/v1/meetings/{draft['id']}", headers=tamaris_auth)).json()[
        "title"
    ] == draft["title"]


async def test_published_meeting_becomes_public(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    draft = await create(client, tamaris_auth)
    published = await client.post(f"/api/v1/meetings/{draft['id']}/publish", headers=tamaris_auth)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    response = await client.get(f"/api/v1/meetings/{draft['id']}")
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert (await listing(client))["total"] == DEMO_TOTAL + 1


# ---------------------------------------------------------------- creating


async def test_create_draft(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    response = await client.post("/api/v1/meetings", json=payload(), headers=tamaris_auth)
    assert response.status_code == 201
    meeting = response.json()
    assert meeting["status"] == "draft"
    assert meeting["sequence"] == 0
    assert meeting["council"] == "ales-tamaris"
    assert meeting["kind"] == "cafe"
    assert meeting["title"] == "Café citoyen : le marché du samedi"
    assert meeting["starts_at"] == f"{LIKE_2031}-01-15T18:00:00+01:00"
    assert meeting["ends_at"] == f"{LIKE_2031}-01-15T20:00:00+01:00"
    assert meeting["capacity"] == 30
    assert meeting["description"] == ""
    assert meeting["online_url"] is None
    assert meeting["registration_opens_at"] is None
    assert meeting["url"] == f"{BASE}/reunions/{meeting['id']}"
    assert meeting["calendar_url"] == f"{BASE}/reunions/{meeting['id']}/calendrier.ics"
    assert await Meeting.count() == DEMO_TOTAL + 1
    row = await Meeting.select().where(Meeting.id == meeting["id"]).first()
    assert row["starts_at"] == datetime(LIKE_2031, 1, 15, 17, tzinfo=UTC)
    assert row["status"] == "draft"


async def test_create_returns_paris_time_whatever_the_input_offset(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    winter = await create(
        client,
        tamaris_auth,
        starts_at=f"{LIKE_2031}-01-15T17:00:00Z",
        ends_at=f"{LIKE_2031}-01-15T14:00:00-05:00",
    )
    assert winter["starts_at"] == f"{LIKE_2031}-01-15T18:00:00+01:00"
    assert winter["ends_at"] == f"{LIKE_2031}-01-15T20:00:00+01:00"
    summer = await create(
        client,
        tamaris_auth,
        starts_at=f"{LIKE_2031}-07-15T16:00:00Z",
        ends_at=f"{LIKE_2031}-07-15T18:30:00Z",
        online_url="https://visio.example.org/tamaris",
        address="",
        registration_opens_at=f"{LIKE_2031}-06-01T00:00:00+02:00",
        registration_closes_at=f"{LIKE_2031}-07-15T12:00:00+02:00",
    )
    assert summer["starts_at"] == f"{LIKE_2031}-07-15T18:00:00+02:00"
    assert summer["ends_at"] == f"{LIKE_2031}-07-15T20:30:00+02:00"
    assert summer["online_url"] == "https://visio.example.org/tamaris"
    assert summer["registration_opens_at"] == f"{LIKE_2031}-06-01T00:00:00+02:00"
    assert summer["registration_closes_at"] == f"{LIKE_2031}-07-15T12:00:00+02:00"


async def test_create_trims_text(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create(
        client, tamaris_auth, title="  Café du lundi  ", description="Ligne 1\r\nLigne 2\n"
    )
    assert meeting["title"] == "Café du lundi"
    assert meeting["description"] == "Ligne 1\nLigne 2"


async def test_idempotency_key_returns_the_same_meeting(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    headers = {**tamaris_auth, "Idempotency-Key": "clic-1234"}
    first = await client.post("/api/v1/meetings", json=payload(), headers=headers)
    assert first.status_code == 201
    again = await client.post("/api/v1/meetings", json=payload(), headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await ours() == 1
    # Another key, same content: an exact duplicate, refused.
    other = await client.post(
        "/api/v1/meetings", json=payload(), headers={**tamaris_auth, "Idempotency-Key": "clic-5678"}
    )
    assert other.status_code == 409
    assert await ours() == 1


async def test_idempotency_key_belongs_to_its_facilitator(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    key = {"Idempotency-Key": "same-key"}
    mine = await client.post("/api/v1/meetings", json=payload(), headers={**tamaris_auth, **key})
    assert mine.status_code == 201
    theirs = await client.post(
        "/api/v1/meetings", json=payload(title="Autre réunion"), headers={**admin_auth, **key}
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert await ours() == 2


async def test_idempotency_key_concurrent_repeats(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """A burst of retries with one key (a flaky network) creates one meeting, never a 500."""
    headers = {**tamaris_auth, "Idempotency-Key": "rafale"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/meetings", json=payload(), headers=headers) for _ in range(8))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 7 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await ours() == 1


async def test_concurrent_duplicates_without_key(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    """Two people saving the same meeting at once: one is created, the others get 409."""
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/meetings", json=payload(), headers=auth)
            for auth in (tamaris_auth, admin_auth) * 3
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert await ours() == 1


async def test_duplicate_without_key_is_409(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await create(client, tamaris_auth)
    response = await client.post("/api/v1/meetings", json=payload(), headers=tamaris_auth)
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_meeting"
    assert await ours() == 1
    # The same instant written with another offset is the same meeting.
    response = await client.post(
        "/api/v1/meetings",
        json=payload(
            starts_at=f"{LIKE_2031}-01-15T17:00:00Z", ends_at=f"{LIKE_2031}-01-15T19:00:00Z"
        ),
        headers=tamaris_auth,
    )
    assert response.status_code == 409
    # Another title or another time is not a duplicate.
    await create(client, tamaris_auth, title="Un autre café")
    await create(client, tamaris_auth, starts_at=f"{LIKE_2031}-01-15T18:30:00+01:00")
    assert await ours() == 3


async def test_duplicate_of_a_cancelled_meeting_is_allowed(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    first = await create(client, tamaris_auth)
    cancel = await client.post(f"/api/v1/meetings/{first['id']}/cancel", headers=tamaris_auth)
    assert cancel.status_code == 200
    again = await create(client, tamaris_auth)
    assert again["id"] != first["id"]


async def test_facilitator_cannot_write_for_another_council(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/meetings", json=payload(council="ales-rive-droite"), headers=tamaris_auth
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_council"
    assert await Meeting.count() == DEMO_TOTAL
    # An admin may; then the Tamaris facilitator still may not change it once published.
    theirs = await create_published(client, admin_auth, council="ales-rive-droite")
    for request in (
        client.patch(f"/api/v1/meetings/{theirs['id']}", json={"title": "X"}, headers=tamaris_auth),
        client.post(f"/api/v1/meetings/{theirs['id']}/cancel", headers=tamaris_auth),
        client.post(f"/api/v1/meetings/{theirs['id']}/publish", headers=tamaris_auth),
    ):
        response = await request
        assert response.status_code == 403
    unchanged = (await client.get(f"/api/v1/meetings/{theirs['id']}")).json()
    assert unchanged == theirs


async def test_facilitator_cannot_change_demo_meetings_of_other_councils(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    others = await listing(client, council="ales-agglo")
    meeting_id = others["items"][0]["id"]
    response = await client.post(f"/api/v1/meetings/{meeting_id}/cancel", headers=tamaris_auth)
    assert response.status_code == 403
    assert (await client.get(f"/api/v1/meetings/{meeting_id}")).json()["status"] == "published"


# ---------------------------------------------------------------- changing


@pytest.mark.parametrize(
    "field",
    ["starts_at", "ends_at", "title", "venue", "address", "online_url"],
)
async def test_each_change_attendees_must_hear_of_raises_sequence_alone(
    client: AsyncClient, tamaris_auth: dict[str, str], field: str
) -> None:
    """SEQUENCE grows when only this field changes, in the API and in the meeting's .ics
    (calendar apps ignore an event whose SEQUENCE did not grow)."""
    starts = now_utc().replace(microsecond=0) + timedelta(days=40)
    meeting = await create_published(
        client,
        tamaris_auth,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    change = {
        "starts_at": (starts - timedelta(minutes=30)).isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "title": "Un autre titre",
        "venue": "Salle des fêtes",
        "address": "2 place de la Mairie, 30100 Alès",
        "online_url": "https://visio.example.fr/conseil",
    }[field]
    response = await client.patch(
        f"/api/v1/meetings/{meeting['id']}", json={field: change}, headers=tamaris_auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["sequence"] == meeting["sequence"] + 1
    ics = await client.get(f"/reunions/{meeting['id']}/calendrier.ics")
    [event] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert int(event["SEQUENCE"]) == meeting["sequence"] + 1


async def test_patch_sequence_rules(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}"

    async def patch(body: dict) -> dict:
        response = await client.patch(url, json=body, headers=tamaris_auth)
        assert response.status_code == 200, response.text
        return response.json()

    changed = await patch({"title": "Nouveau titre"})
    assert changed["title"] == "Nouveau titre"
    assert changed["sequence"] == 1

    described = await patch({"description": "Un ordre du jour détaillé."})
    assert described["description"] == "Un ordre du jour détaillé."
    assert described["sequence"] == 1

    assert (await patch({"capacity": 12}))["sequence"] == 1
    assert (await patch({"capacity": None}))["capacity"] is None

    # Nothing at all, or the same values again: nothing changes.
    assert await patch({}) == await patch({"title": "Nouveau titre"})
    same = await patch({"title": "Nouveau titre", "kind": "cafe", "capacity": None})
    assert same["sequence"] == 1
    # The same instant in another offset is no change either.
    same_time = await patch({"starts_at": f"{LIKE_2031}-01-15T17:00:00Z"})
    assert same_time["sequence"] == 1
    assert same_time["starts_at"] == f"{LIKE_2031}-01-15T18:00:00+01:00"

    moved = await patch({"starts_at": f"{LIKE_2031}-01-15T18:30:00+01:00"})
    assert moved["sequence"] == 2
    assert moved["starts_at"] == f"{LIKE_2031}-01-15T18:30:00+01:00"
    assert moved["ends_at"] == f"{LIKE_2031}-01-15T20:00:00+01:00"

    relocated = await patch({"venue": "Salle B", "address": "1 rue Neuve, 30100 Alès"})
    assert relocated["sequence"] == 3
    assert (relocated["venue"], relocated["address"]) == ("Salle B", "1 rue Neuve, 30100 Alès")

    row = (
        await Meeting.select(Meeting.sequence, Meeting.title)
        .where(Meeting.id == meeting["id"])
        .first()
    )
    assert row == {"sequence": 3, "title": "Nouveau titre"}


async def test_patch_checks_the_whole_meeting(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}"
    # Moving the end before the (unchanged) start is refused.
    response = await client.patch(
        url, json={"ends_at": f"{LIKE_2031}-01-15T17:00:00+01:00"}, headers=tamaris_auth
    )
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["ends_at"]
    # Removing the only address without a link is refused.
    response = await client.patch(url, json={"address": ""}, headers=tamaris_auth)
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["address"]
    # Nothing was saved.
    after = (await client.get(url, headers=tamaris_auth)).json()
    assert after == meeting


async def test_patch_unknown_meeting_is_404(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    response = await client.patch(
        "/api/v1/meetings/424242", json={"title": "X"}, headers=tamaris_auth
    )
    assert response.status_code == 404
    for action in ("publish", "cancel"):
        response = await client.post(f"/api/v1/meetings/424242/{action}", headers=tamaris_auth)
        assert response.status_code == 404


async def test_publish_and_cancel(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}"

    published = await client.post(f"{url}/publish", headers=tamaris_auth)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["sequence"] == 1
    # Publishing again (a double click) is harmless.
    again = await client.post(f"{url}/publish", headers=tamaris_auth)
    assert again.status_code == 200
    assert again.json() == published.json()

    cancelled = await client.post(f"{url}/cancel", headers=tamaris_auth)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["sequence"] == 2
    again = await client.post(f"{url}/cancel", headers=tamaris_auth)
    assert again.status_code == 200
    assert again.json() == cancelled.json()

    # Still public, marked cancelled.
    public = await client.get(url)
    assert public.status_code == 200
    assert public.json()["status"] == "cancelled"
    assert public.json()["sequence"] == 2
    assert meeting["id"] in {m["id"] for m in (await listing(client, status="cancelled"))["items"]}

    # A cancelled meeting cannot be published again nor changed.
    response = await client.post(f"{url}/publish", headers=tamaris_auth)
    assert response.status_code == 409
    assert response.json()["code"] == "meeting_cancelled"
    response = await client.patch(url, json={"title": "Reprise"}, headers=tamaris_auth)
    assert response.status_code == 409
    assert response.json()["code"] == "meeting_cancelled"
    response = await client.patch(url, json={}, headers=tamaris_auth)
    assert response.status_code == 409
    final = (await client.get(url)).json()
    assert final == public.json()
    assert final["title"] == meeting["title"]


async def test_admin_may_write_for_any_council(
    client: AsyncClient, admin_auth: dict[str, str]
) -> None:
    for slug in ("ales-agglo", "anduze-centre-ville"):
        meeting = await create_published(client, admin_auth, council=slug)
        assert meeting["council"] == slug
        assert meeting["status"] == "published"


# ---------------------------------------------------------------- unauthenticated


async def test_writes_without_token_are_401(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}"
    attempts = [
        ("POST", "/api/v1/meetings", payload(title="Sans jeton")),
        ("PATCH", url, {"title": "Sans jeton"}),
        ("POST", f"{url}/publish", None),
        ("POST", f"{url}/cancel", None),
    ]
    refused = [
        {},
        {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-token"},
    ]
    for headers in refused:
        for method, path, body in attempts:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["status_code"] == 401
    stored = await Meeting.select(Meeting.title, Meeting.status).where(Meeting.id == meeting["id"])
    assert stored == [{"title": meeting["title"], "status": "draft"}]
    assert await Meeting.count() == DEMO_TOTAL + 1


async def test_bad_token_on_a_read_is_refused_not_ignored(client: AsyncClient, demo: None) -> None:
    response = await client.get("/api/v1/meetings", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_meeting_times_are_stored_in_utc(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create(
        client,
        tamaris_auth,
        starts_at=f"{LIKE_2031}-03-30T09:00:00+02:00",
        ends_at=f"{LIKE_2031}-03-30T10:00:00+02:00",
    )
    row = (
        await Meeting.select(Meeting.starts_at, Meeting.ends_at)
        .where(Meeting.id == meeting["id"])
        .first()
    )
    assert row["starts_at"] == datetime(LIKE_2031, 3, 30, 7, tzinfo=UTC)
    assert row["ends_at"] - row["starts_at"] == timedelta(hours=1)
