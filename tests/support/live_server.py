"""A real `conseils serve` process on a free port, with the demo data, for CLI and browser tests.

Loaded as a pytest plugin by tests/conftest.py (`pytest_plugins`), so every module shares one
server. The server gets its own database: a temporary SQLite file, or, when the suite runs on
PostgreSQL, the `<suite database>_live` database on the same server (dropped and created afresh).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]  # the checkout (this is tests/support/…)
CONSEILS = Path(sys.executable).parent / "conseils"
if not CONSEILS.exists():
    CONSEILS = ROOT / ".venv" / "bin" / "conseils"
# Named after the suite's database, so that two suites on one PostgreSQL never share it.
SUITE_DATABASE = os.environ.get("DATABASE_URL", "").split("?")[0].rpartition("/")[2] or "conseils"
LIVE_DATABASE = f"{SUITE_DATABASE}_live"
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def suite_is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgresql://", "postgres://"))


def _run_async(coro) -> object:
    """Run a coroutine on a fresh loop in another thread: the test session's loop is untouched."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _postgres_url(name: str) -> str:
    base = os.environ["DATABASE_URL"].split("?")[0].rpartition("/")[0]
    return f"{base}/{name}"


async def _recreate(url: str, *, create: bool = True) -> None:
    base, _, name = url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def fresh_database(name: str, directory: Path) -> str:
    """A DATABASE_URL for a new, empty database of the suite's engine."""
    if suite_is_postgres():
        url = _postgres_url(name)
        _run_async(_recreate(url))
        return url
    return f"sqlite:///{directory / f'{name}.sqlite'}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql://"):
        _run_async(_recreate(url, create=False))


# The key of the advisory lock by which the suites of several checkouts take turns.
HEAVY_TESTS_LOCK = int.from_bytes(b"conseils", "big")


@contextlib.contextmanager
def one_suite_at_a_time(timeout_min: int = 10) -> Iterator[None]:
    """On PostgreSQL, hold a lock of the whole server for the block: the heaviest tests of two
    suites running at once (two checkouts on one PostgreSQL) take turns instead of opening more
    connections together than max_connections allows. On SQLite every suite has its own file.

    A PostgreSQL advisory lock, held by a connection to the `postgres` database (the lock
    belongs to a database, and that one is everyone's) in a thread of its own; it goes with
    the connection, so a suite that dies never leaves it taken."""
    if not suite_is_postgres():
        yield
        return
    acquired, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        connection = await asyncpg.connect(_postgres_url("postgres"))
        try:
            await connection.execute(f"SET lock_timeout = '{timeout_min}min'")
            await connection.execute("SELECT pg_advisory_lock($1)", HEAVY_TESTS_LOCK)
            acquired.set()
            await asyncio.to_thread(release.wait)
        finally:
            await connection.close()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:
            failure.append(exc)
        finally:
            acquired.set()

    thread = threading.Thread(target=run, name="one-suite-at-a-time", daemon=True)
    thread.start()
    acquired.wait()
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=30)


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SECRET_KEY", "DEVELOPMENT", "PORT", "BASE_URL"}
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="live-server-secret-key-for-tests",
        BASE_URL=f"http://127.0.0.1:{port}",
        # Served on http://127.0.0.1, which production (DEVELOPMENT unset) refuses; the
        # SECRET_KEY is set all the same, as production's would be.
        DEVELOPMENT="1",
        LOG_LEVEL="WARNING",
        PICCOLO_CONF="piccolo_conf",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess:
    """`conseils ARGS...`; `input` goes to its standard input (a password, say)."""
    return subprocess.run(
        [str(CONSEILS), *args],
        env=env,
        input=input if input is not None else "",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"server not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text(errors='replace')}"
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def start_server(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(CONSEILS), "serve", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]
    database_url: str
    directory: Path


@contextlib.contextmanager
def demo_server(name: str) -> Iterator[LiveServer]:
    """A server process on a database of its own (`<suite database>_<name>`, or `<name>`
    on SQLite) loaded with the demo data; dropped on leaving. Tests that change what the
    public pages show (a back-office journey) use one of their own, so that the pages the
    other modules count stay as the demo made them."""
    directory = Path(tempfile.mkdtemp(prefix=f"conseils-{name}-"))
    database_url = fresh_database(
        f"{SUITE_DATABASE}_{name}" if suite_is_postgres() else name, directory
    )
    port = free_port()
    env = server_env(database_url, port)
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    assert "demo data loaded" in demo.stdout
    log = directory / "server.log"
    process = start_server(env, log, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield LiveServer(url=url, env=env, database_url=database_url, directory=directory)
    finally:
        stop(process)
        drop_database(database_url)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with demo_server("live") as server:
        yield server
