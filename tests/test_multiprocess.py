"""Two server processes on one database: a change made through one is seen by the other.

Meeting pages are cached per process (meetings/controllers/page_cache.py); on PostgreSQL the
cache is invalidated by LISTEN/NOTIFY, on SQLite by an updated_at check on every hit. This
drives both real processes over HTTP.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import (
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    server_env,
    start_server,
    stop,
    wait_until_healthy,
)

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[str, str]]:
    directory = Path(tempfile.mkdtemp(prefix="conseils-multi-"))
    database_url = fresh_database("conseils_multi_test", directory)
    ports = [free_port(), free_port()]
    envs = [server_env(database_url, port) for port in ports]
    assert run_cli("demo", env=envs[0]).returncode == 0
    created = run_cli(
        "facilitator",
        "create",
        "--email",
        "admin@ales.fr",
        "--name",
        "Admin",
        "--password",
        PASSWORD,
        "--admin",
        env=envs[0],
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
