"""The per-process caches of lists (`RenderedLists`) and pages (`RenderedPages`): what each
change drops, what a rollback keeps, a render begun before a change, the clock, and
`changes.reset()`. Changes go through `changes.changed()` in real write transactions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conseils import changes
from conseils.db import write_transaction
from conseils.tables import MeetingChange
from conseils.timefmt import next_paris_midnight, now_utc
from conseils.web.page_cache import (
    MEETINGS_AND_SEATS,
    DependsOn,
    Page,
    RenderedLists,
    RenderedPages,
)


def page(body: str, depends_on: DependsOn, expires_in: timedelta | None = None) -> Page:
    expires = None if expires_in is None else now_utc() + expires_in
    return Page(expires, body.encode(), depends_on)


def filled() -> RenderedLists:
    lists = RenderedLists()
    entries = {
        "home": DependsOn(MEETINGS_AND_SEATS),
        "council 1": DependsOn(MEETINGS_AND_SEATS, {1}),
        "council 2": DependsOn(MEETINGS_AND_SEATS, {2}),
        "proposals 1": DependsOn({"proposal", "support"}, {1}),
        "councils": DependsOn({changes.COUNCIL}),
    }
    for key, depends_on in entries.items():
        lists.put(key, page(key, depends_on), lists.generation)
    return lists


def kept(lists: RenderedLists) -> set[str]:
    keys = ("home", "council 1", "council 2", "proposals 1", "councils")
    return {key for key in keys if lists.get(key) is not None}


async def announce(kind: str, object_id: int, council_id: int, **extra: int) -> None:
    async with write_transaction():
        await changes.changed(kind, object_id, council_id, **extra)


async def test_a_change_drops_the_lists_of_its_kind_and_council_only() -> None:
    lists = filled()
    await announce(changes.SEATS, 7, 2)  # a sign-up at a meeting of council 2
    assert kept(lists) == {"council 1", "proposals 1", "councils"}

    lists = filled()
    await announce("support", 3, 1)  # a resident supports a proposal of council 1
    assert kept(lists) == {"home", "council 1", "council 2", "councils"}

    lists = filled()
    await announce("minutes", 4, 1, meeting_id=9)  # shown by nothing here
    assert kept(lists) == {"home", "council 1", "council 2", "proposals 1", "councils"}

    lists = filled()
    await announce(changes.COUNCIL, 2, 2)
    assert kept(lists) == set()  # a council itself: everything may show its name


async def test_the_old_announcements_keep_their_meaning() -> None:
    lists, pages = filled(), RenderedPages()
    pages.put(9, page("meeting 9", DependsOn()), pages.generation)
    pages.put(10, page("meeting 10", DependsOn()), pages.generation)
    async with write_transaction():
        await changes.meeting_changed(9, 1, seats_only=True)
    assert kept(lists) == {"council 2", "proposals 1", "councils"}
    assert (pages.get(9), pages.get(10) is not None) == (None, True)
    async with write_transaction():
        await changes.council_changed(1)
    assert kept(lists) == set() and pages.get(10) is None
    logged = await MeetingChange.select(
        MeetingChange.kind, MeetingChange.object_id, MeetingChange.meeting_id,
        MeetingChange.seats_only,
    ).order_by(MeetingChange.id)  # fmt: skip
    assert logged == [
        {"kind": "seats", "object_id": 9, "meeting_id": 9, "seats_only": True},
        {"kind": "council", "object_id": 1, "meeting_id": 0, "seats_only": False},
    ]


async def test_what_a_feature_shows_on_a_meeting_page_drops_that_page() -> None:
    pages = RenderedPages()
    pages.put(9, page("meeting 9", DependsOn()), pages.generation)
    await announce("minutes", 4, 1, meeting_id=9)
    assert pages.get(9) is None


async def test_a_rolled_back_change_drops_nothing() -> None:
    lists = filled()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await changes.changed(changes.MEETING, 1, 1, meeting_id=1)
            raise RuntimeError("refused")
    assert len(kept(lists)) == 5
    assert await MeetingChange.count() == 0


async def test_a_render_begun_before_a_change_it_shows_is_not_kept() -> None:
    lists = RenderedLists()
    began = lists.generation
    await announce(changes.SEATS, 7, 2)  # committed while council 2's page was rendering
    lists.put("council 2", page("old seats", DependsOn(MEETINGS_AND_SEATS, {2})), began)
    lists.put("council 1", page("council 1", DependsOn(MEETINGS_AND_SEATS, {1})), began)
    assert lists.get("council 2") is None
    assert lists.get("council 1") is not None  # the change was not about it

    began = lists.generation
    changes.reset()  # "forget everything" concerns every render
    lists.put("council 1", page("council 1", DependsOn(MEETINGS_AND_SEATS, {1})), began)
    assert lists.get("council 1") is None


async def test_a_render_older_than_the_changes_remembered_is_not_kept() -> None:
    lists = RenderedLists()
    began = lists.generation
    for n in range(600):  # more than RECENT_KEPT, none about council 1
        lists.drop(changes.Change(n + 1, 2, kind=changes.MEETING, object_id=n + 1))
    lists.put("council 1", page("council 1", DependsOn(MEETINGS_AND_SEATS, {1})), began)
    assert lists.get("council 1") is None  # unsure what changed: not kept


async def test_an_entry_expires_with_the_clock() -> None:
    lists = RenderedLists()
    lists.put("soon", page("soon", DependsOn(), timedelta(seconds=-1)), lists.generation)
    lists.put("later", page("later", DependsOn(), timedelta(hours=1)), lists.generation)
    assert lists.get("soon") is None
    assert lists.get("later") is not None


async def test_reset_makes_every_cache_forget_everything() -> None:
    lists, pages = filled(), RenderedPages()
    pages.put(9, page("meeting 9", DependsOn()), pages.generation)
    changes.reset()
    assert kept(lists) == set()
    assert pages.get(9) is None and len(pages) == 0


async def test_fetch_renders_once_then_serves_the_kept_copy() -> None:
    lists, renders = RenderedLists(), []

    async def render() -> Page:
        renders.append(1)
        return page(f"render {len(renders)}", DependsOn({"proposal"}, {1}))

    assert (await lists.fetch("k", render)).body == b"render 1"
    assert (await lists.fetch("k", render)).body == b"render 1"
    await announce("proposal", 5, 1)
    assert (await lists.fetch("k", render)).body == b"render 2"


@pytest.mark.parametrize("kind", ["", "x" * 33, "a:b"])
async def test_a_kind_is_a_short_word(kind: str) -> None:
    with pytest.raises(ValueError, match="short word"):
        async with write_transaction():
            await changes.changed(kind, 1, 1)
    assert await MeetingChange.count() == 0


def test_notices_and_log_rows_read_back_as_the_change_sent() -> None:
    parse = changes._parse
    assert parse("9:1:seats:seats:9") == changes.Change(9, 1, True, changes.SEATS, 9)
    assert parse("0:3::proposal:5") == changes.Change(0, 3, False, "proposal", 5)
    # As written before kinds: a meeting's change, its seats, a council's.
    assert parse("9:1") == changes.Change(9, 1, False, changes.MEETING, 9)
    assert parse("9:1:seats") == changes.Change(9, 1, True, changes.SEATS, 9)
    assert parse("0:1") == changes.Change(0, 1, False, changes.MEETING, 0)
    assert parse("garbage") is None


@pytest.mark.parametrize(
    "path", ["/", "/conseils/ales-tamaris", "/api/v1/meetings", "/api/v1/councils"]
)
async def test_a_kept_page_keeps_its_compressed_copies(client, demo: None, path: str) -> None:
    """Browsers ask for br or gzip: the copy is made once and kept with the page, and
    decodes to the plain body; the answer still varies by Accept-Encoding."""
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    for coding in ("br", "gzip"):
        answers = [await client.get(path, headers={"Accept-Encoding": coding}) for _ in range(2)]
        for answer in answers:
            assert answer.headers["content-encoding"] == coding
            assert "accept-encoding" in answer.headers["vary"].lower()
            assert answer.content == plain.content  # httpx decodes it
        assert answers[0].headers["content-length"] == answers[1].headers["content-length"]
    assert "accept-encoding" in plain.headers["vary"].lower()


async def test_a_group_keeps_at_most_its_share_the_least_recently_asked_going_first() -> None:
    lists = RenderedLists(group=lambda key: key[0], per_group=3)
    for n in range(3):
        lists.put(("a", n), page(f"a{n}", DependsOn()), lists.generation)
    lists.put(("b", 0), page("b0", DependsOn()), lists.generation)
    assert lists.get(("a", 0)) is not None  # asked again: now the most recent of "a"
    lists.put(("a", 3), page("a3", DependsOn()), lists.generation)
    assert lists.get(("a", 1)) is None  # the least recently asked of its group
    assert all(lists.get(key) is not None for key in [("a", 0), ("a", 2), ("a", 3), ("b", 0)])
    assert len(lists) == 4


def test_the_next_paris_midnight_follows_summer_time() -> None:
    # 29 March 2026, 00:30 in Paris (winter time); midnight after is in summer time.
    assert next_paris_midnight(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == datetime(
        2026, 3, 29, 22, 0, tzinfo=UTC
    )
    # 25 October 2026 at midnight (summer time) is 22:00 UTC the day before.
    assert next_paris_midnight(datetime(2026, 10, 24, 21, 59, tzinfo=UTC)) == datetime(
        2026, 10, 24, 22, 0, tzinfo=UTC
    )
    assert next_paris_midnight(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)) == datetime(
        2026, 10, 25, 23, 0, tzinfo=UTC
    )
