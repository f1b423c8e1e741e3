"""Engine-aware transactions.

On SQLite a write transaction starts with BEGIN IMMEDIATE so that two writers never both read
then write (the second waits on the busy timeout); on PostgreSQL the services lock the rows
they change with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


def engine() -> Engine:
    found = engine_finder()
    if found is None:
        raise RuntimeError("piccolo_conf.DB is not configured")
    return found


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> lock


@contextlib.asynccontextmanager
async def _sqlite_write(db: SQLiteEngine) -> AsyncIterator[None]:
    """One writer at a time inside this process, then BEGIN IMMEDIATE for the others.

    SQLite's busy handler makes a waiting writer sleep in steps of up to 100 ms; with many
    concurrent requests that, not the work, sets the pace. Queueing the writers of one
    process on an asyncio lock hands the database over at once; only writers of other
    processes still meet the busy timeout.
    """
    loop = asyncio.get_running_loop()
    lock = _writers.get(loop)
    if lock is None:
        lock = _writers[loop] = asyncio.Lock()
    async with lock, db.transaction(transaction_type=TransactionType.immediate):
        yield


def write_transaction() -> Any:
    db = engine()
    if isinstance(db, SQLiteEngine):
        return _sqlite_write(db)
    return db.transaction()


def postgres_pool():
    """The asyncpg pool when serving on PostgreSQL, for the few hottest reads; else None.

    Piccolo's query building costs more than a primary-key lookup itself; the hot paths use
    the pool directly and fall back to Piccolo on SQLite or outside the web app.
    """
    db = engine()
    return db.pool if isinstance(db, PostgresEngine) else None


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        rows = await engine().run_ddl("SELECT 1 AS ok")
    except Exception:  # any driver error means "not answering"
        return False
    return bool(rows)
