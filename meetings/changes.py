"""Change notices between server processes, so per-process caches stay correct.

Every write that changes a meeting calls `meeting_changed()` inside its transaction. On
PostgreSQL that is a `pg_notify` delivered to every process at commit (and never on
rollback); each process keeps one LISTEN connection and drops what its caches hold for that
meeting. While that connection is down (or on SQLite) `listening()` is False and caches must
check the database on every hit instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg

from meetings.db import engine, is_postgres
from meetings.tables import Meeting

CHANNEL = "conseils_changes"
log = logging.getLogger("conseils.changes")

_subscribers: list[Callable[[int | None], None]] = []
_connection: asyncpg.Connection | None = None


def subscribe(drop: Callable[[int | None], None]) -> None:
    """`drop(meeting_id)` is called on each change; `drop(None)` means forget everything."""
    _subscribers.append(drop)


def listening() -> bool:
    return _connection is not None and not _connection.is_closed()


def _dispatch(meeting_id: int | None) -> None:
    for drop in _subscribers:
        drop(meeting_id)


async def meeting_changed(meeting_id: int) -> None:
    """Announce a change; call it inside the write transaction so a rollback says nothing."""
    if is_postgres():
        await Meeting.raw("SELECT pg_notify({}, {})", CHANNEL, str(meeting_id))
    else:
        _dispatch(meeting_id)


def _on_notice(_conn: object, _pid: int, _channel: str, payload: str) -> None:
    _dispatch(int(payload) if payload.isdigit() else None)


def _on_lost(_conn: object) -> None:
    global _connection
    log.warning("change listener lost: caches fall back to checking the database")
    _connection = None
    _dispatch(None)


async def start_listening() -> None:
    global _connection
    if not is_postgres():
        return
    _connection = await asyncpg.connect(engine().config["dsn"])
    await _connection.add_listener(CHANNEL, _on_notice)
    _connection.add_termination_listener(_on_lost)


async def stop_listening() -> None:
    global _connection
    connection, _connection = _connection, None
    if connection is not None and not connection.is_closed():
        await connection.close(timeout=5)
    _dispatch(None)
