"""Engine-aware transactions.

On SQLite a write transaction starts with BEGIN IMMEDIATE so that two writers never both read
then write (the second waits on the busy timeout); on PostgreSQL the services lock the rows
they change with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

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


def write_transaction():
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
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
