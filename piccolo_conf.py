"""Piccolo configuration: the engine named by DATABASE_URL, and every app's tables.

The engine itself (SQLite's WAL and busy timeout, PostgreSQL's pool) is made by
`conseils.db.engine_for`, the one module that knows how the two engines differ.
"""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry

from conseils.db import engine_for
from conseils.settings import get_settings

DB = engine_for(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "meetings.piccolo_app",
        "conseils.piccolo_app",
        "accounts.piccolo_app",
        "notifications.piccolo_app",
        "privacy.piccolo_app",
        "proposals.piccolo_app",
        "minutes.piccolo_app",
    ]
)
