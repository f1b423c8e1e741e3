"""Test fixtures: a real database (SQLite file or PostgreSQL, from DATABASE_URL), migrated once.

`make test` runs the suite twice, once per engine (tests marked engine_independent once). Each
test starts from empty tables.

The suite owns its database and drops it at the end. Without DATABASE_URL it is a temporary
SQLite file. A PostgreSQL URL that names no database (`postgresql://postgres@127.0.0.1:5432`,
as `make test-postgres` passes it) gets a database of its own, `conseils_test_<pid>_<random>`,
so that two checkouts can run the suite at once on one PostgreSQL; a URL that names one
(`…/conseils_test`) uses that one, dropped and created afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

# The helpers' asserts are rewritten too (pytest only rewrites test modules and plugins by
# itself): register them before anything imports them.
pytest.register_assert_rewrite("tests.support")


def _suite_database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{tmp / 'test.sqlite'}"
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres") and parts.path in ("", "/"):
        name = f"conseils_test_{os.getpid()}_{secrets.token_hex(4)}"
        return urlunsplit(parts._replace(path=f"/{name}"))
    return url


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


async def _reset_postgres_database(url: str, *, create: bool) -> None:
    """Drop the test database (and create it afresh): every run starts from nothing."""
    base, _, name = url.split("?")[0].rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


# Settings are read at import time by piccolo_conf: fix them before anything imports it.
# The live server and the other processes the tests start inherit this DATABASE_URL and
# name their own databases after it (`<suite database>_live`, `_multi`, ...).
_TMP = Path(tempfile.mkdtemp(prefix="conseils-tests-"))
os.environ["DATABASE_URL"] = DATABASE_URL = _suite_database_url(_TMP)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ["BASE_URL"] = "http://testserver.local"
# An http BASE_URL is for development only: production refuses anything but https.
os.environ["DEVELOPMENT"] = "1"
os.environ["PICCOLO_CONF"] = "piccolo_conf"
os.environ.setdefault("LOG_LEVEL", "WARNING")
# argon2's cheapest parameters (development only): the suite makes hundreds of accounts, and
# each hash or check costs a core for 0.1-0.4 s with the real ones. The tests of the login's
# protection under a flood start their servers with the real ones.
os.environ.setdefault("PASSWORD_HASHING", "cheapest")
# Per-client limits off, but for the tests of limits (tests/support/limits_support.py): the
# suite posts hundreds of sign-ups from one address. Their counters live under a prefix of
# this run's own, so that two runs sharing the machine's Redis do not count each other.
os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "0")
os.environ.setdefault("REDIS_PREFIX", f"conseils-test-{os.getpid()}-{secrets.token_hex(4)}:")
# Whatever the tests and the processes they start write at run time stays out of the checkout.
os.environ.setdefault("DATA_DIR", str(_TMP / "data"))

# piccolo_conf makes the engine on import, and Piccolo asks the server its version then: the
# database must exist by now. A PostgreSQL that does not answer fails the run here.
if _is_postgres(DATABASE_URL):
    asyncio.run(_reset_postgres_database(DATABASE_URL, create=True))

# Fixtures for every test module: `live_server` (session) and `smtp_sink` (per test).
pytest_plugins = ["tests.support.live_server", "tests.support.smtp_sink"]

import httpx  # noqa: E402
from litestar import Litestar  # noqa: E402
from piccolo.apps.migrations.commands.forwards import run_forwards  # noqa: E402

from accounts.piccolo_app import APP_CONFIG as ACCOUNTS_APP  # noqa: E402
from conseils import changes  # noqa: E402
from conseils.app import create_app, install_features  # noqa: E402
from conseils.counters import counters  # noqa: E402
from conseils.db import close_pool, engine, is_postgres, open_pool  # noqa: E402
from conseils.piccolo_app import APP_CONFIG as CORE_APP  # noqa: E402
from conseils.settings import Settings, get_settings  # noqa: E402
from meetings.demo import load_demo  # noqa: E402
from meetings.piccolo_app import APP_CONFIG as MEETINGS_APP  # noqa: E402
from minutes.piccolo_app import APP_CONFIG as MINUTES_APP  # noqa: E402
from notifications.piccolo_app import APP_CONFIG as NOTIFICATIONS_APP  # noqa: E402
from privacy.piccolo_app import APP_CONFIG as PRIVACY_APP  # noqa: E402
from proposals.piccolo_app import APP_CONFIG as PROPOSALS_APP  # noqa: E402
from tests.support.facilitator_support import make_facilitator  # noqa: E402

install_features()  # services called directly emit events: their handlers must listen


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_independent: a slow system test whose point does not depend on the database "
        "engine; `make test` runs it once, on PostgreSQL (the SQLite run deselects it with "
        "-m 'not engine_independent'), `make test-sqlite` alone runs it too",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite's database goes with the suite (the servers it started dropped theirs)."""
    if _is_postgres(DATABASE_URL):
        asyncio.run(_reset_postgres_database(DATABASE_URL, create=False))
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
async def migrated_database() -> AsyncIterator[None]:
    result = await run_forwards(app_name="all")
    assert result.success, result.message
    # The app's lifespan opens the pool in production (PostgreSQL's, or SQLite's readers);
    # in tests httpx's ASGI transport skips the lifespan, so it lives here, on the session's
    # event loop, which every test shares. SQLite's readers make 153 tests of pages and
    # proposals take 37 s instead of 50 (each read would open a connection and its thread).
    await open_pool(min_size=1, max_size=10)
    yield
    await close_pool()  # before the database is dropped, at the end of the session


def table_names() -> list[str]:
    tables = [
        *MEETINGS_APP.table_classes,
        *CORE_APP.table_classes,
        *ACCOUNTS_APP.table_classes,
        *NOTIFICATIONS_APP.table_classes,
        *PRIVACY_APP.table_classes,
        *PROPOSALS_APP.table_classes,
        *MINUTES_APP.table_classes,
    ]
    return [table._meta.tablename for table in tables]


@pytest.fixture(autouse=True)
async def clean_tables(migrated_database: None) -> None:
    """Empty every table before each test (and reset ids, so tests stay readable)."""
    names = table_names()
    if is_postgres():
        await engine().run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        # One connection, one transaction: through the ORM each DELETE opened a connection of
        # its own, 190 ms a test for 28 tables (4 minutes of the suite); this takes 13 ms.
        # The notifications tables refer to the meetings ones: dependents go first.
        script = "".join(f"DELETE FROM {name};" for name in reversed(names))
        with contextlib.closing(sqlite3.connect(engine().path, timeout=30)) as connection:
            connection.executescript(f"BEGIN IMMEDIATE;{script}COMMIT;")
    changes.reset()  # the emptied tables sent no change notices
    await counters().clear()  # nor did earlier tests' failed logins or posts count


# The application the `app` fixture hands out, with the settings it was built from.
_shared_app: tuple[Settings, Litestar] | None = None


@pytest.fixture
def app() -> Litestar:
    """The application, built once for each distinct set of settings and shared by the tests.

    Building one costs Litestar 0.4–1 s on this machine (it registers and checks every route),
    and about a thousand tests ask for it: built afresh per test it was a third of the suite's
    time, and each build left a logging thread behind. Nothing per request lives in it (pages'
    caches are per process and `clean_tables` resets them; sessions are in the shared store), and
    a test that changes the settings (`with_limits`, BASE_URL, …) gets an application of its
    own, as it did before.
    """
    global _shared_app
    settings = get_settings()
    if _shared_app is None or _shared_app[0] != settings:
        _shared_app = (settings, create_app(settings))
    return _shared_app[1]


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process, on the test's own event loop."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def demo() -> None:
    assert await load_demo()


@pytest.fixture
async def tamaris_auth(demo: None) -> dict[str, str]:
    """A facilitator of the Tamaris council only."""
    return await make_facilitator("anim.tamaris@ales.fr", "ales-tamaris")


@pytest.fixture
async def admin_auth(demo: None) -> dict[str, str]:
    return await make_facilitator("admin@ales.fr", admin=True)
