"""A real server whose database goes away and comes back.

On PostgreSQL the server reaches the database through a TCP proxy that this test owns and
cuts (the shared PostgreSQL itself is never stopped); on SQLite the folder of the database
file is renamed away and back. While the database is away: 503 with Retry-After for pages,
the API and /healthz, one log line per kind of failure and no traceback; a sign-up attempted
then leaves nothing behind. Once it is back the server serves again by itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import asyncpg
import httpx

from tests.support.live_server import (
    SUITE_DATABASE,
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
from tests.support.registration_support import person
from tests.support.tcp_proxy import TcpProxy

ADDRESS = "pendant.la.panne@example.org"


class SqliteOutage:
    """The database file's folder, renamed away (SQLite opens a connection per query)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.away = folder, folder.with_name(folder.name + "-away")

    def cut(self) -> None:
        self.folder.rename(self.away)

    def restore(self) -> None:
        self.away.rename(self.folder)


async def _leftovers(database_url: str) -> tuple[int, int]:
    """Registrations and outbox messages of ADDRESS."""
    if database_url.startswith("postgresql://"):
        connection = await asyncpg.connect(database_url)
        try:
            registrations = await connection.fetchval(
                "SELECT count(*) FROM registration WHERE email = $1", ADDRESS
            )
            messages = await connection.fetchval(
                "SELECT count(*) FROM outbox_message WHERE recipient = $1", ADDRESS
            )
        finally:
            await connection.close()
        return registrations, messages
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        return tuple(
            connection.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ?", (ADDRESS,)
            ).fetchone()[0]
            for table, column in (("registration", "email"), ("outbox_message", "recipient"))
        )


def _eventually(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the server did not recover")
        time.sleep(0.3)


def test_a_server_survives_its_database_going_away_and_coming_back(tmp_path: Path) -> None:
    proxy: TcpProxy | None = None
    if suite_is_postgres():
        database_url = fresh_database(f"{SUITE_DATABASE}_outage", tmp_path)
        proxy = TcpProxy("127.0.0.1", 5432)
        proxy.start()
        server_url = database_url.replace(":5432/", f":{proxy.port}/")
        assert server_url != database_url
        outage = proxy
    else:
        (tmp_path / "db").mkdir()
        database_url = server_url = f"sqlite:///{tmp_path / 'db' / 'outage.sqlite'}"
        outage = SqliteOutage(tmp_path / "db")
    port = free_port()
    env = server_env(server_url, port, DATA_DIR=str(tmp_path / "data"))
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    log = tmp_path / "server.log"
    process = start_server(env, log, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        meetings = httpx.get(f"{url}/api/v1/meetings?status=published").json()["items"]
        meeting_id = meetings[0]["id"]
        before = log.stat().st_size

        outage.cut()
        answers = [httpx.get(f"{url}/api/v1/meetings", timeout=20) for _ in range(10)]
        answers += [httpx.get(f"{url}/conseils/ales-tamaris", timeout=20) for _ in range(10)]
        signup = httpx.post(
            f"{url}/api/v1/meetings/{meeting_id}/registrations",
            json=person(1, email=ADDRESS),
            timeout=20,
        )
        health = httpx.get(f"{url}/healthz", timeout=20)

        for response in [*answers, signup, health]:
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "30"
        assert answers[0].json()["code"] == "database_unavailable"
        assert "momentanément indisponible" in answers[-1].text
        assert signup.json()["code"] == "database_unavailable"
        during = log.read_bytes()[before:].decode(errors="replace")
        assert "Traceback" not in during, during
        assert 1 <= during.count("database unavailable") <= 3, during  # a line per kind

        outage.restore()
        _eventually(lambda: httpx.get(f"{url}/healthz").status_code == 200)
        _eventually(lambda: httpx.get(f"{url}/conseils/ales-tamaris").status_code == 200)
        assert httpx.get(f"{url}/api/v1/meetings").status_code == 200
        assert asyncio.run(_leftovers(database_url)) == (0, 0)  # nothing half-written
        after = httpx.post(
            f"{url}/api/v1/meetings/{meeting_id}/registrations", json=person(2), timeout=20
        )
        assert after.status_code not in (500, 503), after.text
        assert process.poll() is None
    finally:
        stop(process)
        if proxy is not None:
            proxy.close()
        drop_database(database_url)
