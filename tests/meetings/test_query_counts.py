"""No N+1: an uncached render of the lists residents arrive on runs as many SQL statements
with 50 meetings shown as with 5.

Each request is measured right after `changes.reset()`, which drops every per-process cache
(pages, lists, feeds) as a "forget everything" notice does: what is counted is the render,
not a cache hit.
"""

from __future__ import annotations

from httpx import AsyncClient

from conseils import changes
from tests.support.backoffice_registrants_support import counted_queries
from tests.support.bulk_support import insert_meetings
from tests.support.registration_support import person, sign_up

LISTS_OF_MEETINGS = [
    "/",
    "/?type=cafe",
    "/?conseil=ales-tamaris",
    "/?conseil=ales-tamaris&type=council",
    "/conseils/ales-tamaris",
    "/api/v1/meetings",
    "/api/v1/meetings?council=ales-tamaris&kind=cafe",
    "/api/v1/meetings?limit=100&offset=1",
]
PATHS = [*LISTS_OF_MEETINGS, "/api/v1/councils"]


async def statements(client: AsyncClient, path: str) -> list[str]:
    changes.reset()
    with counted_queries() as seen:
        response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    table = "council" if path.endswith("/councils") else "meeting"
    assert any(table in statement.lower() for statement in seen), (path, seen)  # not a hit
    return seen


async def shown(client: AsyncClient, path: str) -> int:
    response = await client.get(path)
    if path.startswith("/api/v1/meetings"):
        return len(response.json()["items"])
    return response.text.count("/reunions/")


async def test_an_uncached_render_runs_as_many_queries_for_50_meetings_as_for_5(
    client: AsyncClient, demo: None
) -> None:
    ids = await insert_meetings(5, council="ales-tamaris")
    await insert_meetings(5, council="ales-tamaris", upcoming=False)
    for meeting_id in ids[:2]:  # seats taken on some
        await sign_up(client, meeting_id, person(meeting_id))
    few = {path: await statements(client, path) for path in PATHS}
    shown_few = {path: await shown(client, path) for path in LISTS_OF_MEETINGS}

    await insert_meetings(45, council="ales-tamaris")
    await insert_meetings(45, council="ales-tamaris", upcoming=False)
    many = {path: await statements(client, path) for path in PATHS}
    shown_many = {path: await shown(client, path) for path in LISTS_OF_MEETINGS}

    for path in PATHS:
        extra = [statement[:200] for statement in many[path] if statement not in few[path]]
        assert len(many[path]) == len(few[path]), (path, len(few[path]), len(many[path]), extra)
        # A handful, whatever the engine (the council page: its sections, proposals and
        # documents, included)
        assert len(few[path]) <= 16, (path, few[path])
    for path, count in shown_many.items():
        assert count > shown_few[path], (path, shown_few[path], count)  # more rows, same queries


async def test_a_cached_list_is_served_without_reading_what_it_shows(
    client: AsyncClient, demo: None
) -> None:
    """Once rendered, a list is answered from this process's cache: at most the change log
    is read (PostgreSQL without its LISTEN connection), never the meetings or councils."""
    await insert_meetings(5, council="ales-tamaris")
    for path in PATHS:
        first = await client.get(path)
        with counted_queries() as seen:
            again = await client.get(path)
        assert again.status_code == 200
        assert again.content == first.content, path
        assert [s for s in seen if "meeting_change" not in s] == [], (path, seen)
