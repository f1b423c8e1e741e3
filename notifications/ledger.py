"""Recording "sent" on an outbox row as cheaply as possible, since it happens once per email.

The mark must be durable before the next message goes out (a relay that dies then re-sends
at most the message in flight), so it cannot be batched; it can be cheap. On PostgreSQL it
is one prepared UPDATE on a connection held for the whole batch, with `synchronous_commit`
off for that connection (asyncpg's pool resets it on release). On SQLite, where Piccolo
opens a connection per query, it is one UPDATE on a connection kept open for the batch, run
in a worker thread, with `synchronous=NORMAL` on that connection only: in WAL mode a commit
then survives a crash of the process (what matters here); only a power cut could lose the
last marks, and the cost of that is a duplicate email, never a lost one. The same holds on
PostgreSQL: a commit is acknowledged before its WAL reaches the disk, so only a crash of
PostgreSQL itself could forget the last few marks.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from meetings.db import engine, postgres_pool

MARK_SENT = (
    "UPDATE outbox_message SET status = 'sent', sent_at = {0}, lease_until = NULL, "
    "last_error = '' WHERE id = {1} AND leased_by = {2} AND status = 'sending'"
)


class Ledger(Protocol):
    async def mark_sent(self, row_id: int, relay: str, moment: datetime) -> None: ...


class PostgresLedger:
    def __init__(self, connection) -> None:  # an asyncpg connection
        self.connection = connection
        self.sql = MARK_SENT.format("$1", "$2", "$3")

    async def mark_sent(self, row_id: int, relay: str, moment: datetime) -> None:
        await self.connection.execute(self.sql, moment, row_id, relay)


class SQLiteLedger:
    def __init__(self, path: str) -> None:
        # Piccolo registered its adapters globally: datetimes are stored as it stores them.
        self.connection = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.sql = MARK_SENT.format("?", "?", "?")

    def _mark(self, row_id: int, relay: str, moment: datetime) -> None:
        self.connection.execute(self.sql, (moment, row_id, relay))

    async def mark_sent(self, row_id: int, relay: str, moment: datetime) -> None:
        await asyncio.to_thread(self._mark, row_id, relay, moment)

    def close(self) -> None:
        self.connection.close()


class PiccoloLedger:
    """PostgreSQL without a started pool (a script, a test): plain Piccolo queries."""

    async def mark_sent(self, row_id: int, relay: str, moment: datetime) -> None:
        from notifications.tables import OutboxMessage

        await OutboxMessage.raw(MARK_SENT.format("{}", "{}", "{}"), moment, row_id, relay)


@contextlib.asynccontextmanager
async def ledger_for() -> AsyncIterator[Ledger]:
    pool = postgres_pool()
    db = engine()
    if pool is not None:
        async with pool.acquire() as connection:
            await connection.execute("SET synchronous_commit TO off")
            yield PostgresLedger(connection)
    elif hasattr(db, "path"):
        ledger = await asyncio.to_thread(SQLiteLedger, db.path)
        try:
            yield ledger
        finally:
            ledger.close()
    else:
        yield PiccoloLedger()
