"""A database that does not answer gives 503 with Retry-After (a French page, or JSON on the
API), one log line per kind of failure and minute, and no more; real bugs stay 500s.
In-process, on the suite's engine; tests/system/test_database_outage.py takes the database
away from a real server process."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import sqlite3
from pathlib import Path

import asyncpg
import httpx
import pytest

from conseils import changes, db
from conseils.db import engine, is_postgres, outage
from tests.support.mail_support import mail_settings, make_relay


def _raised_in_driver(exc: Exception) -> Exception:
    """`exc` as asyncpg would raise it: from inside the driver's own frames."""
    namespace = {"__name__": "asyncpg.connect_utils", "exc": exc}
    exec("def connect():\n    raise exc\n", namespace)
    try:
        namespace["connect"]()
    except Exception as raised:
        return raised
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("database is locked"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
    ],
)
def test_outages_of_both_engines_are_recognised(exc: Exception) -> None:
    assert outage(exc) is not None


@pytest.mark.parametrize(
    ("kind", "args"),
    [(ConnectionRefusedError, (111, "Connect call failed")), (socket.gaierror, (-2, "Inconnu"))],
)
def test_network_errors_count_when_the_driver_raised_them(kind: type, args: tuple) -> None:
    assert outage(_raised_in_driver(kind(*args))) == kind.__name__
    try:
        raise kind(*args)
    except OSError as ours:
        assert outage(ours) is None  # the same error from our own code is a bug


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("no such column: nom"),
        asyncpg.UndefinedColumnError("column nom does not exist"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        FileNotFoundError(2, "No such file or directory"),
        KeyError("id"),
    ],
)
def test_real_bugs_are_not_outages(exc: Exception) -> None:
    assert outage(exc) is None


def test_an_outage_wrapped_by_a_later_error_is_still_one() -> None:
    try:
        try:
            raise sqlite3.OperationalError("unable to open database file")
        except sqlite3.OperationalError as inner:
            raise RuntimeError("rollback failed") from inner
    except RuntimeError as outer:
        assert outage(outer) == "sqlite: unable to open database file"


@pytest.fixture
def database_away(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every query fails as an unreachable database does: on SQLite a file whose folder is
    gone (the real error), on PostgreSQL the driver's lost connection."""
    db = engine()
    if is_postgres():

        async def lost(*args: object, **kwargs: object) -> object:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed")

        monkeypatch.setattr(type(db), "run_querystring", lost)
        monkeypatch.setattr(type(db), "run_ddl", lost)
    else:
        monkeypatch.setattr(db, "path", str(tmp_path / "gone" / "conseils.sqlite"))


async def test_requests_get_503_with_retry_after_and_the_log_one_line(
    demo: None, client: httpx.AsyncClient, database_away: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    api = [await client.get("/api/v1/meetings") for _ in range(10)]
    pages = [await client.get("/conseils/ales-tamaris") for _ in range(10)]
    health = await client.get("/healthz")

    for response in api:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert response.json()["code"] == "database_unavailable"
    for response in pages:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert "momentanément indisponible" in response.text
        assert '<html lang="fr">' in response.text
    assert health.status_code == 503 and health.headers["retry-after"] == "30"
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None  # no traceback
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]


async def test_service_resumes_when_the_database_is_back(
    demo: None, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with monkeypatch.context() as away:
        db = engine()
        if is_postgres():

            async def lost(*args: object, **kwargs: object) -> object:
                raise asyncpg.ConnectionDoesNotExistError("connection was closed")

            away.setattr(type(db), "run_querystring", lost)
        else:
            away.setattr(db, "path", str(tmp_path / "gone" / "conseils.sqlite"))
        assert (await client.get("/api/v1/meetings")).status_code == 503
    assert (await client.get("/api/v1/meetings")).status_code == 200
    assert (await client.get("/conseils/ales-tamaris")).status_code == 200


async def test_a_real_bug_is_still_a_500_with_its_traceback(
    demo: None,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def wrong(*args: object, **kwargs: object) -> object:
        raise (asyncpg.UndefinedColumnError if is_postgres() else sqlite3.OperationalError)(
            "no such column: nom"
        )

    monkeypatch.setattr(type(engine()), "run_querystring", wrong)
    caplog.set_level(logging.ERROR)
    response = await client.get("/api/v1/meetings")
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert any(r.exc_info for r in caplog.records if "unhandled error" in r.getMessage())


async def test_the_change_listener_retries_with_backoff_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [1000.0]
    attempts: list[float] = []
    back = False

    async def listen() -> None:
        attempts.append(clock[0])
        if not back:
            raise _raised_in_driver(ConnectionRefusedError(111, "Connect call failed"))
        monkeypatch.setattr(changes, "_close_listener", lambda: None)

    async def nothing() -> None:
        return None

    monkeypatch.setattr(changes.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(db, "notices_supported", lambda: True)
    monkeypatch.setattr(changes, "_watcher", None)  # as on PostgreSQL: no SQLite watcher
    monkeypatch.setattr(changes, "_listen", listen)
    monkeypatch.setattr(changes, "_poll_log", nothing)
    monkeypatch.setattr(changes, "_listener_wanted", True)
    monkeypatch.setattr(changes, "_close_listener", None)
    monkeypatch.setattr(changes, "_last_attempt", 0.0)
    monkeypatch.setattr(changes, "_failed_attempts", 0)
    caplog.set_level(logging.WARNING, logger="conseils.changes")
    for _ in range(200):  # a request every half second for 100 s
        await changes.refresh()
        clock[0] += 0.5
    # 10 s after the first failure, then 20, 40: backing off, not at every request.
    assert [b - a for a, b in itertools.pairwise(attempts)] == [10.5, 20.5, 40.5]
    downs = [r for r in caplog.records if "still down" in r.getMessage()]
    assert len(downs) == 2  # once a minute
    assert all(r.exc_info is None for r in downs)
    back = True
    clock[0] += 120
    await changes.refresh()
    assert changes.listening()
    assert any("listener back" in r.getMessage() for r in caplog.records)


async def test_the_relay_survives_an_outage_and_logs_it_without_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    relay = make_relay(mail_settings())

    async def away() -> int:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed")

    monkeypatch.setattr(relay, "deliver_once", away)
    monkeypatch.setattr(relay, "purge_old", away)
    caplog.set_level(logging.ERROR, logger="conseils.relay")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.02))
    await asyncio.sleep(0.5)
    assert not task.done()  # still running, backing off
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    lines = [r for r in caplog.records if "ConnectionDoesNotExistError" in r.getMessage()]
    assert len(lines) == 2  # the batch and the retention scan, once each
    assert all(r.exc_info is None for r in lines)
