"""Piccolo configuration: choose the engine from DATABASE_URL.

The default is an embedded SQLite file under var/ (WAL journal, a busy timeout so concurrent
writers wait instead of failing); `postgresql://...` selects asyncpg, whose pool the web app
opens and closes in its lifespan.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from meetings.settings import DEFAULT_DATABASE_URL

ROOT = Path(__file__).resolve().parent
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str) -> Engine:
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL is a property of the file: set it once here, every later connection inherits it.
        with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")


DB = make_engine(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)

APP_REGISTRY = AppRegistry(
    apps=[
        "meetings.piccolo_app",
        "notifications.piccolo_app",
    ]
)
