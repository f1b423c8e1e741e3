"""Test fixtures: a real database (SQLite file or PostgreSQL, from DATABASE_URL), migrated once.

`make test` runs the suite twice, once per engine. Each test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

# Settings are read at import time by piccolo_conf: fix them before anything imports it.
_TMP = Path(tempfile.mkdtemp(prefix="conseils-tests-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite'}")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ["BASE_URL"] = "http://testserver.local"
os.environ["PICCOLO_CONF"] = "piccolo_conf"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402
from litestar import Litestar  # noqa: E402
from piccolo.apps.migrations.commands.forwards import run_forwards  # noqa: E402

from accounts.piccolo_app import APP_CONFIG as ACCOUNTS_APP  # noqa: E402
from accounts.services import create_facilitator, issue_token  # noqa: E402
from conseils import changes  # noqa: E402
from conseils.app import create_app, install_features  # noqa: E402
from conseils.db import engine, is_postgres  # noqa: E402
from conseils.piccolo_app import APP_CONFIG as CORE_APP  # noqa: E402
from meetings.demo import load_demo  # noqa: E402
from meetings.piccolo_app import APP_CONFIG as MEETINGS_APP  # noqa: E402
from notifications.piccolo_app import APP_CONFIG as NOTIFICATIONS_APP  # noqa: E402

DATABASE_URL = os.environ["DATABASE_URL"]
install_features()  # services called directly emit events: their handlers must listen
PASSWORD = "un mot de passe solide"


async def _recreate_postgres_database(url: str) -> None:
    """Drop and create the test database itself, so every run starts from nothing."""
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session", autouse=True)
async def migrated_database() -> AsyncIterator[None]:
    if is_postgres():
        await _recreate_postgres_database(DATABASE_URL)
    result = await run_forwards(app_name="all")
    assert result.success, result.message
    # The app's lifespan opens the pool in production; in tests httpx's ASGI transport skips
    # the lifespan, so the pool lives here, on the session's event loop.
    if is_postgres():
        await engine().start_connection_pool(min_size=1, max_size=10)
    yield
    if is_postgres():
        await engine().close_connection_pool()


def table_names() -> list[str]:
    tables = [
        *MEETINGS_APP.table_classes,
        *CORE_APP.table_classes,
        *ACCOUNTS_APP.table_classes,
        *NOTIFICATIONS_APP.table_classes,
    ]
    return [table._meta.tablename for table in tables]


@pytest.fixture(autouse=True)
async def clean_tables(migrated_database: None) -> None:
    """Empty every table before each test (and reset ids, so tests stay readable)."""
    names = table_names()
    if is_postgres():
        await engine().run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        for name in reversed(names):  # the notifications tables refer to the meetings ones
            await engine().run_ddl(f"DELETE FROM {name}")
    changes.reset()  # the emptied tables sent no change notices


@pytest.fixture
def app() -> Litestar:
    return create_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process, on the test's own event loop."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def demo() -> None:
    assert await load_demo()


async def make_facilitator(email: str, *councils: str, admin: bool = False) -> dict[str, str]:
    """Create a facilitator and return the Authorization header of a fresh token."""
    await create_facilitator(
        email=email,
        name=email.split("@")[0],
        password=PASSWORD,
        admin=admin,
        council_slugs=list(councils),
    )
    token = await issue_token(email, PASSWORD)
    return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture
async def tamaris_auth(demo: None) -> dict[str, str]:
    """A facilitator of the Tamaris council only."""
    return await make_facilitator("anim.tamaris@ales.fr", "ales-tamaris")


@pytest.fixture
async def admin_auth(demo: None) -> dict[str, str]:
    return await make_facilitator("admin@ales.fr", admin=True)
