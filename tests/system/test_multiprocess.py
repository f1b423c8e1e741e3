"""Two server processes on one database: a change made through one is seen by the other.

Meeting pages and calendar feeds are cached per process; on PostgreSQL the caches are
invalidated by LISTEN/NOTIFY (or, while the LISTEN connection is lost, by reading the
MeetingChange log), on SQLite by PRAGMA data_version and the same log. This drives both real
processes over HTTP.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.dates import LIKE_2027
from tests.support.feed_support import parse
from tests.support.live_server import (
    _run_async,
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    server_env,
    start_server,
    stop,
    suite_is_postgres,
    wait_until_healthy,
)

PASSWORD = "a long enough password"
# Both processes write the same absolute links, so that one feed is the same bytes in both.
SHARED_BASE_URL = "http://conseils.test"


DATABASE: dict[str, str] = {}  # the two servers' database: "url"


def _database_name() -> str:
    """Named after the suite's database: a run on another database never drops this one."""
    suite = os.environ.get("DATABASE_URL", "").split("?")[0].rpartition("/")[2]
    return f"{suite}_multi" if suite_is_postgres() else "multi"


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[str, str]]:
    directory = Path(tempfile.mkdtemp(prefix="conseils-multi-"))
    database_url = fresh_database(_database_name(), directory)
    DATABASE["url"] = database_url
    ports = [free_port(), free_port()]
    envs = [server_env(database_url, port, BASE_URL=SHARED_BASE_URL) for port in ports]
    assert run_cli("demo", env=envs[0]).returncode == 0
    created = run_cli(
        "facilitator",
        "create",
        "--email",
        "admin@ales.fr",
        "--name",
        "Admin",
        "--admin",
        env=envs[0],
        input=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    processes = [
        start_server(env, directory / f"server{i}.log", "--port", str(port))
        for i, (env, port) in enumerate(zip(envs, ports, strict=True))
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, i in zip(urls, processes, range(2), strict=True):
            wait_until_healthy(url, process, directory / f"server{i}.log")
        yield urls[0], urls[1]
    finally:
        for process in processes:
            stop(process)
        drop_database(database_url)


def _eventually(fetch, expected: str, seconds: float = 2.0) -> str:
    """NOTIFY is delivered after commit, asynchronously: allow it a moment, no more."""
    deadline = time.monotonic() + seconds
    while True:
        text = fetch()
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


def test_a_change_through_one_process_shows_on_the_other(two_servers: tuple[str, str]) -> None:
    reader, writer = two_servers
    token = httpx.post(
        f"{writer}/api/v1/auth/token", json={"email": "admin@ales.fr", "password": PASSWORD}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    meeting = httpx.get(f"{reader}/api/v1/meetings", params={"council": "ales-tamaris"}).json()[
        "items"
    ][-1]
    page_url = f"{reader}/reunions/{meeting['id']}"
    first = httpx.get(page_url)
    assert first.status_code == 200
    assert meeting["title"] in first.text
    assert httpx.get(page_url).text == first.text  # served again (from the cache)

    changed = httpx.patch(
        f"{writer}/api/v1/meetings/{meeting['id']}", json={"title": "Titre changé"}, headers=auth
    )
    assert changed.status_code == 200
    after = _eventually(lambda: httpx.get(page_url).text, "Titre changé")
    assert "Titre changé" in after
    assert meeting["title"] not in after

    refused = httpx.patch(
        f"{writer}/api/v1/meetings/{meeting['id']}", json={"title": ""}, headers=auth
    )
    assert refused.status_code == 400
    assert "Titre changé" in httpx.get(page_url).text

    cancelled = httpx.post(f"{writer}/api/v1/meetings/{meeting['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    page = _eventually(lambda: httpx.get(page_url).text, "Cette réunion est annulée")
    assert "Cette réunion est annulée" in page


# ---------------------------------------------------------------- calendar feeds

FEED = "/conseils/ales-tamaris/calendrier.ics"


def _admin(server: str) -> dict[str, str]:
    response = httpx.post(
        f"{server}/api/v1/auth/token", json={"email": "admin@ales.fr", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _until(
    fetch: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool], seconds=3.0
) -> httpx.Response:
    """The first response that is `done`, or the last one after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        response = fetch()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


def _events(response: httpx.Response) -> list[dict]:
    """The events of a feed, read by both parsers (which must agree)."""
    assert response.status_code == 200, response.text
    return parse(response.content)[1]["events"]


def _event(response: httpx.Response, meeting: dict) -> dict | None:
    found = [e for e in _events(response) if e["url"] == meeting["url"]]
    assert len(found) <= 1
    return found[0] if found else None


def _published(server: str, auth: dict[str, str], title: str, day: int, **extra: object) -> dict:
    body = {
        **extra,
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": title,
        "starts_at": f"{LIKE_2027}-03-{day:02d}T18:30:00+01:00",
        "ends_at": f"{LIKE_2027}-03-{day:02d}T20:00:00+01:00",
        "address": "Rue de la Lozère, 30100 Alès",
    }
    created = httpx.post(f"{server}/api/v1/meetings", json=body, headers=auth)
    assert created.status_code == 201, created.text
    published = httpx.post(f"{server}/api/v1/meetings/{created.json()['id']}/publish", headers=auth)
    assert published.status_code == 200, published.text
    return published.json()


def _changed_since(server: str, path: str, etag: str) -> httpx.Response:
    """The feed once `server` no longer answers 304 to `etag` (or its 304 after 3 s)."""
    return _until(
        lambda: httpx.get(f"{server}{path}", headers={"If-None-Match": etag}),
        lambda response: response.status_code != 304,
    )


def test_a_feed_change_through_one_process_shows_on_the_other(
    two_servers: tuple[str, str],
) -> None:
    reader, writer = two_servers
    auth = _admin(writer)
    first = {server: httpx.get(f"{server}{FEED}") for server in (reader, writer)}
    # Nothing from the process or the clock: both processes serve the same bytes.
    assert first[reader].content == first[writer].content
    assert first[reader].headers["etag"] == first[writer].headers["etag"]
    assert _events(first[reader]) == _events(first[writer])
    etag = first[reader].headers["etag"]
    assert httpx.get(f"{reader}{FEED}", headers={"If-None-Match": etag}).status_code == 304
    head = httpx.head(f"{reader}{FEED}")  # through uvicorn: the length of GET, no body
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)
    assert head.headers["content-length"] == str(first[reader].num_bytes_downloaded)

    meeting = _published(writer, auth, "Café entre deux processus", day=4)
    added = _changed_since(reader, FEED, etag)
    assert added.status_code == 200
    assert added.headers["etag"] != etag
    assert _event(added, meeting)["summary"] == "Café citoyen : Café entre deux processus"
    assert len(_events(added)) == len(_events(first[reader])) + 1
    assert parsedate_to_datetime(added.headers["last-modified"]) > parsedate_to_datetime(
        first[reader].headers["last-modified"]
    )
    assert httpx.get(f"{writer}{FEED}").content == added.content  # the same in both again

    single = f"/reunions/{meeting['id']}/calendrier.ics"
    single_first = httpx.get(f"{reader}{single}")  # cached by the reader now
    assert _event(single_first, meeting)["summary"].endswith("Café entre deux processus")

    patched = httpx.patch(
        f"{writer}/api/v1/meetings/{meeting['id']}",
        json={"title": "Café renommé", "starts_at": f"{LIKE_2027}-03-04T19:00:00+01:00"},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    renamed = _changed_since(reader, FEED, added.headers["etag"])
    event = _event(renamed, meeting)
    assert event["summary"] == "Café citoyen : Café renommé"
    assert event["start_utc"] == f"{LIKE_2027}-03-04T18:00:00Z"
    assert event["sequence"] > _event(added, meeting)["sequence"]
    single_after = _changed_since(reader, single, single_first.headers["etag"])
    assert _event(single_after, meeting)["summary"] == "Café citoyen : Café renommé"
    newest = renamed.headers["etag"]
    assert httpx.get(f"{reader}{FEED}", headers={"If-None-Match": newest}).status_code == 304

    deleted = httpx.delete(f"{writer}/api/v1/meetings/{meeting['id']}", headers=auth)
    assert deleted.status_code == 204
    gone = _changed_since(reader, FEED, newest)
    assert _event(gone, meeting) is None
    assert len(_events(gone)) == len(_events(first[reader]))
    assert parsedate_to_datetime(gone.headers["last-modified"]) > parsedate_to_datetime(
        renamed.headers["last-modified"]
    )
    assert httpx.get(f"{reader}{single}").status_code == 404


# ---------------------------------------------------------------- lists (home, council, API)

LISTS = [
    "/",
    "/?conseil=ales-tamaris&type=cafe",
    "/conseils/ales-tamaris",
    "/api/v1/meetings?council=ales-tamaris&kind=cafe",
    "/api/v1/meetings?limit=100",
]


def _card(server: str, path: str, meeting_id: int) -> str | None:
    """What a list shows of a meeting: its card on a page, its object in the API."""
    response = httpx.get(f"{server}{path}")
    assert response.status_code == 200, (path, response.text)
    if path.startswith("/api/"):
        found = [m for m in response.json()["items"] if m["id"] == meeting_id]
        return None if not found else f"{found[0]['title']} seats_left={found[0]['seats_left']}"
    start = response.text.find(f'id="m{meeting_id}"')
    return None if start < 0 else response.text[start : response.text.find("</article>", start)]


def _seen(server: str, path: str, meeting_id: int, expected: str | None) -> str | None:
    """The list's view of the meeting once it shows `expected` (None: no card), or after 3 s."""
    deadline = time.monotonic() + 3.0
    while True:
        card = _card(server, path, meeting_id)
        shown = card is None if expected is None else card is not None and expected in card
        if shown or time.monotonic() > deadline:
            return card
        time.sleep(0.02)


def test_every_cached_list_shows_a_change_made_through_the_other_process(
    two_servers: tuple[str, str],
) -> None:
    """Home (with its filters), the council's page and the list API are kept by each
    process: a meeting published, seats taken, a title changed, a meeting deleted and a
    council renamed through one process all show on the other's lists."""
    reader, writer = two_servers
    auth = _admin(writer)
    before = {path: httpx.get(f"{reader}{path}").text for path in LISTS}
    councils_before = httpx.get(f"{reader}/api/v1/councils").json()
    other_council = httpx.get(
        f"{reader}/conseils/anduze-centre-ville"
    ).text  # another council's page

    meeting = _published(writer, auth, "Café des listes", day=18, capacity=5)
    for path in LISTS:
        card = _seen(reader, path, meeting["id"], "Café des listes")
        assert card is not None and "Café des listes" in card, (path, card)
        assert "Café des listes" not in before[path]
    assert (
        httpx.get(f"{reader}/conseils/anduze-centre-ville").text == other_council
    )  # kept: not its own

    signed = httpx.post(
        f"{writer}/api/v1/meetings/{meeting['id']}/registrations",
        json={"name": "Léa", "email": "lea@example.org", "attending_as": "resident",
              "consent": True},
    )  # fmt: skip
    assert signed.status_code == 202, signed.text
    for path in LISTS:
        expected = "seats_left=4" if path.startswith("/api/") else "4 places restantes"
        card = _seen(reader, path, meeting["id"], expected)
        assert card is not None and expected in card, (path, card)

    patched = httpx.patch(
        f"{writer}/api/v1/meetings/{meeting['id']}", json={"title": "Café renommé"}, headers=auth
    )
    assert patched.status_code == 200, patched.text
    for path in LISTS:
        card = _seen(reader, path, meeting["id"], "Café renommé")
        assert card is not None and "Café renommé" in card, (path, card)

    renamed = httpx.patch(
        f"{writer}/api/v1/councils/ales-tamaris", json={"name": "Conseil des Tamaris"}, headers=auth
    )
    assert renamed.status_code == 200, renamed.text
    councils = _until(
        lambda: httpx.get(f"{reader}/api/v1/councils"),
        lambda response: "Conseil des Tamaris" in response.text,
    ).json()
    assert [c["name"] for c in councils if c["slug"] == "ales-tamaris"] == ["Conseil des Tamaris"]
    assert councils != councils_before
    home = _until(lambda: httpx.get(f"{reader}/"), lambda r: "Conseil des Tamaris" in r.text)
    assert "Conseil des Tamaris" in home.text
    renamed_back = httpx.patch(
        f"{writer}/api/v1/councils/ales-tamaris",
        json={
            "name": councils_before[[c["slug"] for c in councils_before].index("ales-tamaris")][
                "name"
            ]
        },
        headers=auth,
    )
    assert renamed_back.status_code == 200, renamed_back.text

    deleted = httpx.delete(f"{writer}/api/v1/meetings/{meeting['id']}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    for path in LISTS:
        assert _seen(reader, path, meeting["id"], None) is None, path


async def _listeners(database_url: str, *, terminate: bool = False) -> int:
    """How many connections LISTEN on the database (each server holds one); `terminate`
    closes them from the server side, as a restart or a network cut would."""
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(
            f"SELECT count({'pg_terminate_backend(pid)' if terminate else '*'}) "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'"
        )
    finally:
        await connection.close()


def test_feeds_stay_right_while_the_listen_connections_are_lost(
    two_servers: tuple[str, str],
) -> None:
    if not suite_is_postgres():
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite every process reads the log")
    reader, writer = two_servers
    auth = _admin(writer)
    before = httpx.get(f"{reader}{FEED}")
    assert before.status_code == 200
    database_url = (
        f"{os.environ['DATABASE_URL'].split('?')[0].rpartition('/')[0]}/{_database_name()}"
    )
    assert _run_async(_listeners(database_url, terminate=True)) == 2  # one per process
    time.sleep(0.2)  # each process notices its connection is gone

    # The change log stands in for the lost notices.
    meeting = _published(writer, auth, "Café sans LISTEN", day=11)
    after = _changed_since(reader, FEED, before.headers["etag"])
    assert after.status_code == 200
    assert _event(after, meeting)["summary"] == "Café citoyen : Café sans LISTEN"

    # Requests re-open the LISTEN connections within a few seconds; notices work again.
    deadline = time.monotonic() + 15
    while _run_async(_listeners(database_url)) < 2 and time.monotonic() < deadline:
        for server in (reader, writer):
            httpx.get(f"{server}{FEED}")
        time.sleep(0.2)
    assert _run_async(_listeners(database_url)) == 2
    patched = httpx.patch(
        f"{writer}/api/v1/meetings/{meeting['id']}",
        json={"title": "Café avec LISTEN"},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    again = _changed_since(reader, FEED, after.headers["etag"])
    assert _event(again, meeting)["summary"] == "Café citoyen : Café avec LISTEN"


def test_a_back_office_session_opened_on_one_process_works_on_the_other(
    two_servers: tuple[str, str],
) -> None:
    """Sessions live in the store both processes share (files under DATA_DIR here), and
    signing out on one ends the session on the other."""
    first, second = two_servers
    with httpx.Client(base_url=first) as browser:
        form = browser.get("/animation/connexion")
        token = browser.cookies["csrf"]
        assert f'value="{token}"' in form.text
        signed = browser.post(
            "/animation/connexion",
            data={"_csrf_token": token, "email": "admin@ales.fr", "password": PASSWORD},
        )
        assert signed.status_code == 303, signed.text
        cookies = {"animation": browser.cookies["animation"], "csrf": token}
    with httpx.Client(base_url=second, cookies=cookies) as other:
        assert other.get("/animation/").status_code == 200
        out = other.post("/animation/deconnexion", data={"_csrf_token": token})
        assert out.status_code == 303
    with httpx.Client(base_url=first, cookies=cookies) as again:
        assert again.get("/animation/").status_code == 303


# ---------------------------------------------------------------- proposals lists

PROPOSAL_LISTS = [
    "/conseils/ales-tamaris/propositions",
    "/conseils/ales-tamaris/propositions?tri=recentes&theme=mobilite",
    "/api/v1/councils/ales-tamaris/proposals",
    "/api/v1/councils/ales-tamaris/proposals?sort=newest&theme=mobilite",
]
ATOM = "/conseils/ales-tamaris/propositions.atom"
ANSWERED = "/api/v1/councils/ales-tamaris/proposals?sort=answered"


def _sql(statement: str, *args: object) -> list:
    """A statement on the servers' database, outside them (`{}` for each argument)."""
    url = DATABASE["url"]
    if url.startswith("postgresql://"):
        numbered = statement.format(*(f"${n}" for n in range(1, len(args) + 1)))

        async def run() -> list:
            connection = await asyncpg.connect(url)
            try:
                return [tuple(row) for row in await connection.fetch(numbered, *args)]
            finally:
                await connection.close()

        return _run_async(run())
    with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10) as connection:
        return connection.execute(statement.format(*("?" * len(args))), args).fetchall()


def _known_token(table: str, row_id: int) -> str:
    """Give a pending row a link token this test knows (the real one went by email only)."""
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    _sql(f"UPDATE {table} SET token_digest = {{}} WHERE id = {{}}", digest, row_id)
    return token


def _proposal_card(server: str, path: str, proposal_id: int) -> str | None:
    response = httpx.get(f"{server}{path}")
    assert response.status_code == 200, (path, response.text)
    if path.startswith("/api/"):
        found = [p for p in response.json()["items"] if p["id"] == proposal_id]
        return None if not found else f"{found[0]['title']} supports={found[0]['supports']}"
    start = response.text.find(f'href="/propositions/{proposal_id}"')
    return None if start < 0 else response.text[start : response.text.find("</li>", start)]


def _proposal_seen(server: str, path: str, proposal_id: int, expected: str) -> str | None:
    deadline = time.monotonic() + 3.0
    while True:
        card = _proposal_card(server, path, proposal_id)
        if (card is not None and expected in card) or time.monotonic() > deadline:
            return card
        time.sleep(0.02)


def test_cached_proposals_lists_show_what_the_other_process_changed(
    two_servers: tuple[str, str],
) -> None:
    """The proposals page (filtered, sorted), its Atom feed, a proposal's page and the list
    API are kept by each process: a proposal published, a support confirmed and an answer
    written through one process show on the other's."""
    reader, writer = two_servers
    auth = _admin(writer)
    title = "Des bancs entre deux processus"
    before = {path: httpx.get(f"{reader}{path}").text for path in [*PROPOSAL_LISTS, ATOM, ANSWERED]}
    assert all(title not in text for text in before.values())

    sent = httpx.post(
        f"{writer}/api/v1/councils/ales-tamaris/proposals",
        json={"title": title, "body": "Pour s'asseoir.", "theme": "mobilite",
              "email": "autrice@example.org"},
    )  # fmt: skip
    assert sent.status_code == 202, sent.text
    [(proposal_id,)] = _sql("SELECT id FROM proposal WHERE title = {}", title)
    token = _known_token("proposal", proposal_id)
    assert httpx.post(f"{writer}/propositions/confirmer/{token}").status_code == 200
    published = httpx.post(f"{writer}/api/v1/proposals/{proposal_id}/publish", headers=auth)
    assert published.status_code == 200, published.text
    for path in PROPOSAL_LISTS:
        card = _proposal_seen(reader, path, proposal_id, title)
        assert card is not None and title in card, (path, card)
    atom = _until(lambda: httpx.get(f"{reader}{ATOM}"), lambda r: title in r.text)
    assert title in atom.text
    page_url = f"{reader}/propositions/{proposal_id}"
    assert "0 soutien" in httpx.get(page_url).text  # now cached by the reader

    asked = httpx.post(
        f"{writer}/api/v1/proposals/{proposal_id}/supports", json={"email": "sou@example.org"}
    )
    assert asked.status_code == 202, asked.text
    [(support_id,)] = _sql("SELECT id FROM support WHERE proposal = {}", proposal_id)
    token = _known_token("support", support_id)
    assert httpx.post(f"{writer}/soutiens/confirmer/{token}").status_code == 200
    for path in PROPOSAL_LISTS:
        expected = "supports=1" if path.startswith("/api/") else "1 soutien ·"
        card = _proposal_seen(reader, path, proposal_id, expected)
        assert card is not None and expected in card, (path, card)
    page = _until(lambda: httpx.get(page_url), lambda r: "1 soutien<" in r.text)
    assert "1 soutien<" in page.text

    answer = "Les bancs seront posés au printemps."
    answered = httpx.put(
        f"{writer}/api/v1/proposals/{proposal_id}/answer",
        json={"answer": answer, "answer_role": "Le bureau du conseil", "publish": True},
        headers=auth,
    )
    assert answered.status_code == 200, answered.text
    card = _proposal_seen(reader, ANSWERED, proposal_id, title)
    assert card is not None, ANSWERED
    page = _until(lambda: httpx.get(page_url), lambda r: answer in r.text)
    assert answer in page.text
    atom = _until(lambda: httpx.get(f"{reader}{ATOM}"), lambda r: f"Réponse : {title}" in r.text)
    assert f"Réponse : {title}" in atom.text


MINUTES_LISTS = [
    "/comptes-rendus",
    "/conseils/ales-tamaris/comptes-rendus",
    "/comptes-rendus.atom",
    "/conseils/ales-tamaris/comptes-rendus.atom",
    "/conseils/ales-tamaris",
    "/conseils/ales-tamaris/calendrier.ics",
]


def test_cached_minutes_lists_show_what_the_other_process_published(
    two_servers: tuple[str, str],
) -> None:
    """The minutes' lists and feeds, the council's page, the meeting's page and its calendar
    event are kept by each process: minutes published through one show on the other's."""
    reader, writer = two_servers
    auth = _admin(writer)
    rows = _sql(
        "SELECT id, starts_at FROM meeting WHERE status = 'published' "
        "AND council = (SELECT id FROM council WHERE slug = 'ales-tamaris')"
    )
    started = [
        (at if isinstance(at, datetime) else datetime.fromisoformat(at), meeting)
        for meeting, at in rows
    ]
    _, meeting_id = max(pair for pair in started if pair[0] < datetime.now(UTC))
    paths = [*MINUTES_LISTS, f"/reunions/{meeting_id}"]
    link = f"/reunions/{meeting_id}#compte-rendu"
    before = {path: httpx.get(f"{reader}{path}").text for path in paths}  # cached now
    assert all(link not in text for text in before.values()), before

    made = httpx.post(
        f"{writer}/api/v1/minutes",
        json={"meeting": meeting_id, "title": "Compte rendu entre deux processus",
              "summary": "Les composteurs du square"},
        headers=auth,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    minutes_id = made.json()["id"]
    published = httpx.post(f"{writer}/api/v1/minutes/{minutes_id}/publish", headers=auth)
    assert published.status_code == 200, published.text
    for path in paths:
        expected = "Les composteurs du square" if path.startswith("/reunions/") else link
        if path.endswith(".atom") or path == "/conseils/ales-tamaris":
            expected = "Compte rendu entre deux processus"
        if path.endswith(".ics"):
            expected = "compte-rendu"
        seen = _until(
            lambda path=path: httpx.get(f"{reader}{path}"), lambda r, e=expected: e in r.text
        )
        assert expected in seen.text, path
