"""Calendar feeds over HTTP: validators, conditional requests, HEAD, CORS, and caches that
are never stale (each process caches feeds; change notices drop exactly what changed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from httpx import AsyncClient, Response

from conseils import changes
from meetings.services import calendar, feed_clock
from meetings.tables import Meeting
from tests.support.dates import LIKE_2027
from tests.support.facilitator_support import make_facilitator
from tests.support.feed_support import (
    Feed,
    cancel,
    create,
    create_published,
    fetch,
    parse,
    patch,
    publish,
    row,
)

FEEDS = [
    "/calendrier.ics",
    "/conseils/ales-tamaris/calendrier.ics",
    "/calendrier.ics?type=cafe",
    "/calendrier.ics?quartier=ales-tamaris",
    "/conseils/ales-tamaris/calendrier.ics?type=cafe&quartier=ales-tamaris",
]
STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}(-br|-gzip)?"$')  # one per content coding


def last_modified(response: Response) -> datetime:
    return parsedate_to_datetime(response.headers["last-modified"])


async def get(client: AsyncClient, path: str, **headers: str) -> Response:
    return await client.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})


async def fetch_all(client: AsyncClient) -> dict[str, Feed]:
    return {path: await fetch(client, path) for path in FEEDS}


def summaries(feed: Feed) -> list[str]:
    return [e["summary"] for e in feed.events]


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("path", "filename"),
    [
        ("/calendrier.ics", "conseils-citoyens.ics"),
        ("/conseils/ales-tamaris/calendrier.ics", "ales-tamaris.ics"),
        (
            "/calendrier.ics?type=council&quartier=ales-tamaris",
            "conseils-citoyens-council-ales-tamaris.ics",
        ),
    ],
)
async def test_feed_headers(client: AsyncClient, demo: None, path: str, filename: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert STRONG_ETAG.match(response.headers["etag"])
    assert last_modified(response).tzinfo is not None
    assert response.headers["last-modified"].endswith(" GMT")
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    assert response.headers["content-disposition"] == f'inline; filename="{filename}"'
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded


async def test_refetch_gives_the_same_bytes_even_rebuilt_later(
    client: AsyncClient, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing in a feed comes from the clock: a rebuild gives the same bytes and ETag."""
    first = await fetch_all(client)
    again = await fetch_all(client)
    for path in FEEDS:
        assert again[path].body == first[path].body, path
        assert again[path].etag == first[path].etag, path
        assert again[path].last_modified == first[path].last_modified, path

    changes.reset()  # drop every cache: rebuilt from the database...
    later = datetime.now(UTC) + timedelta(days=30)
    monkeypatch.setattr(calendar, "now_utc", lambda: later)  # ...a month later
    rebuilt = await fetch_all(client)
    for path in FEEDS:
        assert rebuilt[path].body == first[path].body, path
        assert rebuilt[path].etag == first[path].etag, path
        assert rebuilt[path].last_modified == first[path].last_modified, path
    assert len({feed.etag for feed in first.values()}) == len(FEEDS)  # one ETag per content


# ---------------------------------------------------------------- conditional requests


async def test_if_none_match_answers_304(client: AsyncClient, demo: None) -> None:
    path = "/conseils/ales-tamaris/calendrier.ics"
    first = await client.get(path)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"autre", {etag}', f'W/"autre",W/{etag}', "*"):
        response = await get(client, path, if_none_match=header)
        assert response.status_code == 304, header
        assert response.content == b""
        # RFC 9110 §8.6: a 304 never announces a length other than the 200's.
        assert response.headers.get("content-length") in (None, str(first.num_bytes_downloaded))
        assert response.headers["etag"] == etag
        assert response.headers["last-modified"] == first.headers["last-modified"]
        assert response.headers["access-control-allow-origin"] == "*"
    for header in ('"autre"', etag[:-2] + '"', f"{etag}x", ""):
        response = await get(client, path, if_none_match=header)
        assert response.status_code == 200, header
        assert response.content == first.content


async def test_a_304_is_built_once_per_version_and_carries_the_security_headers(
    client: AsyncClient, demo: None
) -> None:
    """Calendar apps revalidate every few minutes: the 304's headers are kept with the
    feed's version, and they are those of every answer (security headers included)."""
    path = "/conseils/ales-tamaris/calendrier.ics"
    etag = (await client.get(path)).headers["etag"]
    answers = [await get(client, path, if_none_match=etag) for _ in range(3)]
    assert [a.status_code for a in answers] == [304] * 3
    assert answers[0].headers == answers[2].headers
    assert answers[0].headers["x-frame-options"] == "DENY"
    assert "content-type" not in answers[0].headers
    document = await calendar.feed("ales-tamaris")
    assert list(document.answers) == [(304, etag, "public, max-age=300")]


async def test_if_modified_since_answers_304_when_nothing_changed_since(
    client: AsyncClient, demo: None
) -> None:
    path = "/calendrier.ics"
    first = await client.get(path)
    modified = last_modified(first)
    for since in (modified, modified + timedelta(days=1)):
        response = await get(client, path, if_modified_since=format_datetime(since, usegmt=True))
        assert response.status_code == 304
        assert response.content == b""
    for since in (modified - timedelta(seconds=1), modified - timedelta(days=400)):
        response = await get(client, path, if_modified_since=format_datetime(since, usegmt=True))
        assert response.status_code == 200
        assert response.content == first.content
    unreadable = await get(client, path, if_modified_since="hier soir")
    assert unreadable.status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    current = format_datetime(modified, usegmt=True)
    response = await get(client, path, if_none_match='"autre"', if_modified_since=current)
    assert response.status_code == 200
    old = format_datetime(modified - timedelta(days=1), usegmt=True)
    etag = first.headers["etag"]
    response = await get(client, path, if_none_match=etag, if_modified_since=old)
    assert response.status_code == 304


async def test_after_a_change_the_old_validators_get_a_200_and_a_new_etag(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    path = "/conseils/ales-tamaris/calendrier.ics"
    first = await client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (await get(client, path, if_none_match=etag)).status_code == 304
    assert (await get(client, path, if_modified_since=modified)).status_code == 304

    await patch(client, tamaris_auth, meeting["id"], title="Le marché du dimanche")
    by_etag = await get(client, path, if_none_match=etag)
    assert by_etag.status_code == 200
    assert by_etag.headers["etag"] != etag
    assert "Café citoyen : Le marché du dimanche" in summaries(
        Feed(by_etag, *parse(by_etag.content))
    )
    by_date = await get(client, path, if_modified_since=modified)
    assert by_date.status_code == 200
    assert by_date.content == by_etag.content
    assert last_modified(by_date) > last_modified(first)
    # And the new validators match again.
    assert (await get(client, path, if_none_match=by_etag.headers["etag"])).status_code == 304
    new_date = by_etag.headers["last-modified"]
    assert (await get(client, path, if_modified_since=new_date)).status_code == 304


# ---------------------------------------------------------------- HEAD


@pytest.mark.parametrize(
    "path", ["/calendrier.ics?type=cafe", "/conseils/ales-tamaris/calendrier.ics"]
)
async def test_head_gives_the_headers_of_get_without_the_body(
    client: AsyncClient, demo: None, path: str
) -> None:
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("etag", "last-modified", "content-type", "content-disposition", "cache-control"):
        assert head.headers[name] == got.headers[name], name
    assert head.headers["content-length"] == str(got.num_bytes_downloaded)  # as sent
    conditional = await client.head(path, headers={"If-None-Match": got.headers["etag"]})
    assert conditional.status_code == 304
    assert conditional.content == b""
    assert (await client.head("/conseils/nulle-part/calendrier.ics")).status_code == 404


async def test_head_of_one_meeting_calendar(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    path = f"/reunions/{meeting['id']}/calendrier.ics"
    got = await client.get(path)
    head = await client.head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(got.num_bytes_downloaded)  # as sent
    assert head.headers["content-disposition"].startswith("attachment;")


# ---------------------------------------------------------------- no stale cache


async def test_every_cached_feed_shows_each_change_at_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    before = await fetch_all(client)
    draft = await create(client, tamaris_auth, title="La fête des voisins")
    drafted = await fetch_all(client)
    for path in FEEDS:  # a draft changes nothing public
        assert drafted[path].body == before[path].body, path

    await publish(client, tamaris_auth, draft["id"])
    uid = (await row(draft["id"]))["uid"]
    single = f"/reunions/{draft['id']}/calendrier.ics"
    published = await fetch_all(client)
    for path in FEEDS:
        assert published[path].etag != before[path].etag, path
        assert len(published[path].events) == len(before[path].events) + 1, path
        assert published[path].event(uid)["summary"] == "Café citoyen : La fête des voisins"
    assert (await fetch(client, single)).events[0]["status"] == "CONFIRMED"

    await patch(client, tamaris_auth, draft["id"], title="La fête des voisins (déplacée)")
    renamed = await fetch_all(client)
    for path in FEEDS:
        event = renamed[path].event(uid)
        assert event["summary"] == "Café citoyen : La fête des voisins (déplacée)", path
    assert (await fetch(client, single)).events[0]["summary"].endswith("(déplacée)")

    await cancel(client, tamaris_auth, draft["id"])
    cancelled = await fetch_all(client)
    for path in FEEDS:
        assert cancelled[path].event(uid)["status"] == "CANCELLED", path
        assert cancelled[path].etag != renamed[path].etag, path
    assert (await fetch(client, single)).events[0]["status"] == "CANCELLED"

    # A kind change takes the meeting out of the cafés' feeds.
    other = await create_published(client, tamaris_auth, title="Café devenu réunion")
    await patch(client, tamaris_auth, other["id"], kind="council")
    other_uid = (await row(other["id"]))["uid"]
    regrouped = await fetch_all(client)
    assert other_uid in regrouped["/calendrier.ics"].uids
    assert other_uid not in regrouped["/calendrier.ics?type=cafe"].uids


async def test_a_change_leaves_other_councils_feeds_as_they_were(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    elsewhere = "/conseils/ales-rive-droite/calendrier.ics"
    other_quartier = "/calendrier.ics?quartier=ales-moulinet"
    before = {path: await client.get(path) for path in (elsewhere, other_quartier)}
    await patch(client, tamaris_auth, meeting["id"], title="Autre titre")
    for path, response in before.items():
        after = await client.get(path)
        assert after.content == response.content, path
        assert after.headers["etag"] == response.headers["etag"], path
        assert after.headers["last-modified"] == response.headers["last-modified"], path
        conditional = await get(client, path, if_none_match=response.headers["etag"])
        assert conditional.status_code == 304


# ---------------------------------------------------------------- Last-Modified


async def test_last_modified_moves_forward_at_each_change_and_after_a_delete(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    paths = ["/calendrier.ics", "/conseils/ales-tamaris/calendrier.ics"]

    async def dates() -> list[datetime]:
        return [last_modified(await client.get(path)) for path in paths]

    seen = [await dates()]
    meeting = await create_published(client, tamaris_auth)
    seen.append(await dates())
    await patch(client, tamaris_auth, meeting["id"], title="Nouveau titre")
    seen.append(await dates())
    await cancel(client, tamaris_auth, meeting["id"])
    seen.append(await dates())

    # A facilitator cannot delete a public meeting: cancelling is the way.
    refused = await client.delete(f"/api/v1/meetings/{meeting['id']}", headers=tamaris_auth)
    assert refused.status_code == 403
    assert refused.json()["code"] == "cancel_instead"
    assert await dates() == seen[-1]

    # The cancelled meeting had the latest updated_at: deleting it must not take the
    # feeds' date back to the one before.
    deleted = await client.delete(f"/api/v1/meetings/{meeting['id']}", headers=admin_auth)
    assert deleted.status_code == 204
    seen.append(await dates())
    assert not await Meeting.exists().where(Meeting.id == meeting["id"])
    for feed in range(len(paths)):
        series = [moments[feed] for moments in seen]
        assert series == sorted(series) and len(set(series)) == len(series), series
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    assert (await row_count_public("ales-tamaris")) == len(feed.events)


async def row_count_public(slug: str) -> int:
    return await Meeting.count().where(
        (Meeting.council.slug == slug) & Meeting.status.is_in(["published", "cancelled"])
    )


async def test_deleting_a_draft_changes_no_feed(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    draft = await create(client, tamaris_auth)
    before = await client.get("/conseils/ales-tamaris/calendrier.ics")
    deleted = await client.delete(f"/api/v1/meetings/{draft['id']}", headers=tamaris_auth)
    assert deleted.status_code == 204
    after = await client.get("/conseils/ales-tamaris/calendrier.ics")
    assert after.headers["etag"] == before.headers["etag"]
    assert after.headers["last-modified"] == before.headers["last-modified"]
    # Another council's facilitator does not even see it.
    other = await make_facilitator("anim.rive@ales.fr", "ales-rive-droite")
    draft = await create(client, tamaris_auth, title="Second brouillon")
    response = await client.delete(f"/api/v1/meetings/{draft['id']}", headers=other)
    assert response.status_code == 404


async def test_two_changes_within_one_second_give_two_last_modified(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = await create_published(client, tamaris_auth)
    path = "/conseils/ales-tamaris/calendrier.ics"
    # The feed clock sees one frozen instant: every change happens "in the same second".
    frozen = datetime.now(UTC)
    monkeypatch.setattr(feed_clock, "now_utc", lambda: frozen)
    dates = [last_modified(await client.get(path))]
    for title in ("Premier titre", "Deuxième titre", "Troisième titre"):
        await patch(client, tamaris_auth, meeting["id"], title=title)
        response = await client.get(path)
        dates.append(last_modified(response))
        assert title in response.content.decode()
    assert dates == sorted(dates) and len(set(dates)) == len(dates), dates
    since = format_datetime(dates[-2], usegmt=True)
    assert (await get(client, path, if_modified_since=since)).status_code == 200


async def test_first_change_in_the_second_the_demo_was_loaded_moves_last_modified(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's meetings come without a feed clock: the feeds are dated by their
    updated_at. A change in that same second must still give a later Last-Modified."""
    path = "/conseils/ales-tamaris/calendrier.ics"
    first = await client.get(path)
    newest = Meeting.select(Meeting.updated_at).order_by(Meeting.updated_at, ascending=False)
    same_second = (await newest.first())["updated_at"]
    monkeypatch.setattr(feed_clock, "now_utc", lambda: same_second)
    meeting = (await client.get("/api/v1/meetings", params={"council": "ales-tamaris"})).json()
    await patch(client, tamaris_auth, meeting["items"][-1]["id"], title="Changé aussitôt")
    after = await get(client, path, if_modified_since=first.headers["last-modified"])
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert last_modified(after) > last_modified(first)


async def test_a_feed_rebuilt_change_by_change_is_the_feed_built_afresh(
    client: AsyncClient,
    tamaris_auth: dict[str, str],
    admin_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change re-joins only the segments it touches (meetings moved between segments,
    segments split and merged as their last meetings come and go): the bytes, the ETag and
    the Last-Modified must be those of the same feed built from nothing."""
    monkeypatch.setattr(calendar, "SEGMENT", 2)  # segments of two meetings, on average
    paths = ["/calendrier.ics", "/conseils/ales-tamaris/calendrier.ics"]
    meetings = []
    for day in range(10, 22):
        starts = f"{LIKE_2027}-01-{day}T18:30:00+01:00"
        ends = f"{LIKE_2027}-01-{day}T20:30:00+01:00"
        meetings.append(
            await create_published(
                client, tamaris_auth, title=f"Réunion {day}", starts_at=starts, ends_at=ends
            )
        )
    ids = [m["id"] for m in meetings]

    async def same_as_afresh() -> None:
        rebuilt = {path: await fetch(client, path) for path in paths}
        changes.reset()
        for path in paths:
            afresh = await fetch(client, path)
            assert afresh.body == rebuilt[path].body, path
            assert afresh.etag == rebuilt[path].etag, path
            assert afresh.last_modified == rebuilt[path].last_modified, path

    await same_as_afresh()
    steps = [
        lambda: patch(client, tamaris_auth, ids[0], title="Titre changé"),
        lambda: patch(  # the first meeting moves after all the others
            client,
            tamaris_auth,
            ids[0],
            starts_at=f"{LIKE_2027}-02-01T18:30:00+01:00",
            ends_at=f"{LIKE_2027}-02-01T20:30:00+01:00",
        ),
        lambda: patch(  # and one from the end to the middle
            client,
            tamaris_auth,
            ids[11],
            starts_at=f"{LIKE_2027}-01-15T19:00:00+01:00",
            ends_at=f"{LIKE_2027}-01-15T21:00:00+01:00",
        ),
        lambda: cancel(client, tamaris_auth, ids[5]),
        lambda: client.delete(f"/api/v1/meetings/{ids[6]}", headers=admin_auth),
        lambda: client.delete(f"/api/v1/meetings/{ids[7]}", headers=admin_auth),
        lambda: create_published(client, tamaris_auth, title="Nouvelle réunion"),
    ]
    for step in steps:
        before = {path: (await client.get(path)).headers["etag"] for path in paths}
        await step()
        for path in paths:
            feed = await fetch(client, path)  # rebuilt from the cached segments
            assert feed.etag != before[path], path
        await same_as_afresh()
    titles = {e["summary"] for e in (await fetch(client, "/calendrier.ics")).events}
    assert "Café citoyen : Titre changé" in titles and "Café citoyen : Réunion 16" not in titles
