"""Everything that differs between SQLite and PostgreSQL, and nowhere else.

- **Write transactions** (`write_transaction`): on SQLite, one writer at a time per process
  (an asyncio lock), then `BEGIN IMMEDIATE` against other processes; on PostgreSQL, a plain
  transaction whose rows are locked as they are read (`locked`). Callbacks registered with
  `on_commit` run once it has committed, never after a rollback.
- **Row locks** (`locked`): `SELECT ... FOR UPDATE` (or a weaker mode) on PostgreSQL; on
  SQLite the write transaction itself is exclusive.
- **Claiming** (`skip_locked`): `FOR UPDATE SKIP LOCKED` in a claim's sub-select on
  PostgreSQL; on SQLite the exclusive write transaction makes the plain sub-select safe.
- **Notices** (`notify`, `listen`, `commit_counter`): `LISTEN/NOTIFY` on PostgreSQL;
  `PRAGMA data_version` on SQLite tells a process cheaply that another one committed.
- **A dedicated connection for tiny, frequent writes** (`quick_writer`), as the outbox
  relay's "sent" marks need.

Each helper that only makes sense inside a transaction refuses to run outside one, as
pretix's `lock_objects` does: a lock taken outside a transaction protects nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import socket
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

SQLITE_BUSY_TIMEOUT_S = 30
MAX_ID = 2**31 - 1  # an integer primary key's range on PostgreSQL: beyond it, nothing exists
POOL_SIZE = 20
POOL_CLOSE_TIMEOUT_S = 10
PING_TIMEOUT_S = 5
OUTAGE_REPORT_EVERY_S = 60.0
log = logging.getLogger("conseils.db")


def sqlite_timestamptz(value: bytes) -> datetime:
    """A TIMESTAMPTZ column's value as SQLite stores it ("2027-01-09 09:00:00+00:00", UTC,
    as Piccolo writes it): the same datetime Piccolo's own converter gives, ten times
    faster (a 100,000-meeting feed reads 500,000 of them: 0.9 s saved on a cold build).
    SQLite's converters are global: every query of the process uses this one."""
    moment = datetime.fromisoformat(value.decode())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


sqlite3.register_converter("TIMESTAMPTZ", sqlite_timestamptz)


class OutsideTransaction(RuntimeError):
    """A helper that needs the caller's write transaction was called without one."""


# ---------------------------------------------------------------- the engine


def engine_for(url: str) -> Engine:
    """The Piccolo engine of a DATABASE_URL (checked by the settings)."""
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL is a property of the file: set it once here, every later connection inherits it.
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    return PooledReadsSQLite(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)


READERS = 4  # long-lived read-only SQLite connections per process (`open_pool`)


class PooledReadsSQLite(SQLiteEngine):
    """Piccolo's SQLite engine, whose SELECTs outside a transaction go to a few long-lived
    read-only connections once `open_pool()` has opened them (the server and the worker).

    Piccolo opens a connection, with its own thread, for every query outside a transaction:
    3.5 ms for a one-row select on this two-core machine, so a back-office page of fifteen
    small queries spent most of its time opening connections. A reader in WAL mode sees
    every commit of other connections as soon as its statement starts, so nothing reads
    staler than before; `PRAGMA query_only` refuses any write that would come this way.
    Writes, DDL and transactions keep Piccolo's connections."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._readers: dict[asyncio.AbstractEventLoop, asyncio.Queue[Any]] = {}
        self._opened: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        self._readers_file: tuple[str, int, int] | None = None

    async def open_readers(self, count: int = READERS) -> None:
        loop = asyncio.get_running_loop()
        if loop in self._opened:
            return
        readers: asyncio.Queue[Any] = asyncio.Queue()
        self._opened[loop] = []
        for _ in range(count):
            connection = await aiosqlite.connect(**self.connection_kwargs)
            self._opened[loop].append(connection)
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA query_only = 1")
            readers.put_nowait(connection)
        # The file they read. Once the path names another file, or none (a backup put in
        # its place, a volume gone), reads go through Piccolo's own connections again: they
        # see the new file, or fail as an outage does, instead of the file left open here.
        self._readers_file = self._file()
        self._readers[loop] = readers

    def _file(self) -> tuple[str, int, int] | None:
        """The database file the path names now (a stat: microseconds), None if none."""
        path = self.connection_kwargs.get("database")
        try:
            found = os.stat(path)
        except (OSError, TypeError):
            return None
        return (path, found.st_dev, found.st_ino)

    async def close_readers(self) -> None:
        loop = asyncio.get_running_loop()
        self._readers.pop(loop, None)
        for connection in self._opened.pop(loop, []):  # lent ones too: each ends its thread
            await connection.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        readers = self._readers.get(asyncio.get_running_loop()) if self._readers else None
        if (
            readers is None
            or query_type != "generic"
            or not _a_select(query)
            or self._file() != self._readers_file
        ):
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await readers.get()
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            readers.put_nowait(connection)


def _a_select(sql: str) -> bool:
    """One SELECT statement (a WITH may hide a write: it keeps Piccolo's connection)."""
    return sql.lstrip()[:6].upper() == "SELECT"


def engine() -> Engine:
    found = engine_finder()
    if found is None:
        raise RuntimeError("piccolo_conf.DB is not configured")
    return found


def is_postgres() -> bool:
    """For tests and tools that prepare a database; the application's modules ask the
    helpers below instead."""
    return isinstance(engine(), PostgresEngine)


async def open_pool(min_size: int = 2, max_size: int = POOL_SIZE) -> None:
    """PostgreSQL's connection pool for this process; on SQLite, the long-lived readers of
    this event loop (`PooledReadsSQLite`). `close_pool()` must follow: an open SQLite
    connection keeps a thread that holds the process at exit."""
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is None:
        await db.start_connection_pool(min_size=min_size, max_size=max_size)
    elif isinstance(db, PooledReadsSQLite):
        await db.open_readers()


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PooledReadsSQLite):
        await db.close_readers()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        # A connection still held (a request cut short) must not stall shut-down for ever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(db.close_connection_pool(), timeout=POOL_CLOSE_TIMEOUT_S)


async def ping() -> bool:
    """True when the database answers a trivial query (within PING_TIMEOUT_S)."""
    try:
        rows = await asyncio.wait_for(engine().run_ddl("SELECT 1 AS ok"), PING_TIMEOUT_S)
    except Exception:  # any driver error means "not answering"
        return False
    return bool(rows)


# ---------------------------------------------------------------- outages

# SQLite's errors that mean the file cannot be reached, not that a query is wrong.
_SQLITE_OUTAGES = (
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
    "database is locked",  # still busy after the 30 s busy timeout
)
_POSTGRES_OUTAGES = (
    asyncpg.PostgresConnectionError,  # 08xxx: connection failed, lost, rejected
    asyncpg.CannotConnectNowError,  # starting up, shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
_NETWORK_ERRORS = (ConnectionError, TimeoutError, socket.gaierror)
_DRIVERS = ("asyncpg", "piccolo.engine", "aiosqlite", "conseils.db")


def _raised_by_driver(exc: BaseException) -> bool:
    """Whether `exc` came out of the database driver (not from a socket of our own code)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVERS):
            return True
        tb = tb.tb_next
    return False


def outage(exc: BaseException) -> str | None:
    """The kind of database outage `exc` is (`"ConnectionRefusedError"`, `"sqlite: disk I/O
    error"`, ...), or None when it is anything else: a real bug stays a 500.

    PostgreSQL: asyncpg's connection-class errors, and network errors (refused, reset,
    timed out, unknown host) raised inside the driver or the pool. An `InterfaceError`
    ("connection is closed") also counts when it comes out of the driver. SQLite: the
    `OperationalError`s of a file that cannot be opened, read or written."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _POSTGRES_OUTAGES):
            return type(current).__name__
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return "InterfaceError: connection closed"
        if isinstance(current, sqlite3.OperationalError):
            message = str(current).lower()
            if message.startswith(_SQLITE_OUTAGES):
                return f"sqlite: {message}"
            return None
        if isinstance(current, _NETWORK_ERRORS) and _raised_by_driver(current):
            return type(current).__name__
        current = current.__cause__ or current.__context__
    return None


class _PoolOutages(logging.Filter):
    """asyncpg's pool logs every failed attempt to keep its minimum of connections with a
    traceback: during an outage, say it once a minute per kind, without the traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        kind = outage(exc) if exc is not None else None
        if kind is None:
            return True
        now = time.monotonic()
        if now - self._last.get(kind, -OUTAGE_REPORT_EVERY_S) < OUTAGE_REPORT_EVERY_S:
            return False
        self._last[kind] = now
        record.msg = f"{record.getMessage()} (database unavailable: {kind}: {exc})"
        record.args, record.exc_info, record.exc_text = None, None, None
        return True


logging.getLogger("asyncpg.pool").addFilter(_PoolOutages())


# ---------------------------------------------------------------- write transactions

_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> lock
_on_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "on_commit", default=None
)


def in_transaction() -> bool:
    return _on_commit.get() is not None


def require_transaction(what: str) -> None:
    if not in_transaction():
        raise OutsideTransaction(f"{what} must run inside write_transaction()")


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback()` once the current write transaction has committed (not on rollback):
    what must not see pre-commit data, or must not act on a change that may not happen."""
    callbacks = _on_commit.get()
    if callbacks is None:
        raise OutsideTransaction("on_commit() must run inside write_transaction()")
    callbacks.append(callback)


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


_write_times: list[float] = []  # in this process, since `reset_longest_write()` (the last 10,000)


def longest_write_s() -> float:
    """The longest a write transaction of this process held the database (from BEGIN to
    its commit or rollback; on SQLite the write lock itself): the bench reports it."""
    return max(_write_times, default=0.0)


def write_times_s() -> list[float]:
    """How long each recent write transaction held the database, oldest first."""
    return list(_write_times)


def reset_longest_write() -> None:
    _write_times.clear()


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that writes; `on_commit` callbacks run after it committed."""
    if in_transaction():
        raise RuntimeError("write transactions do not nest")
    callbacks: list[Callable[[], None]] = []
    token = _on_commit.set(callbacks)
    began: float | None = None
    try:
        db = engine()
        transaction = _sqlite_write(db) if isinstance(db, SQLiteEngine) else db.transaction()
        async with transaction:
            began = time.perf_counter()
            yield
    finally:
        _on_commit.reset(token)
        if began is not None:
            _write_times.append(time.perf_counter() - began)
            if len(_write_times) > 20_000:
                del _write_times[:10_000]
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is committed: a failing cache must not undo the answer
            log.exception("after-commit callback %r failed", callback)


LockMode = Literal["UPDATE", "NO KEY UPDATE", "SHARE"]


def locked(query: Select, mode: LockMode = "UPDATE") -> Select:
    """`query`, locking the rows it reads until the transaction ends (PostgreSQL's row lock;
    on SQLite the write transaction already lets one writer in at a time).

    `NO KEY UPDATE` lets others insert rows that refer to the locked ones (a registration of a
    locked meeting) while still queueing writers of the row itself; `SHARE` lets other
    readers lock them too and holds back only their writers."""
    require_transaction("a row lock")
    return query.lock_rows(mode) if isinstance(engine(), PostgresEngine) else query


def skip_locked() -> str:
    """The clause a claim's sub-select ends with, so that concurrent claimers of a queue take
    different rows: `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the claim runs in the
    exclusive write transaction, so nothing is needed."""
    require_transaction("a claim")
    return "FOR UPDATE SKIP LOCKED" if isinstance(engine(), PostgresEngine) else ""


def ids_in(column: str, ids: Iterable[int]) -> tuple[str, str | list[int]]:
    """`column` among `ids`, as raw SQL with one parameter however many ids (no IN list
    built by hand, no limit on its length): `= ANY(array)` on PostgreSQL, a `json_each`
    sub-select on SQLite. `column` is a name from the code, never from input."""
    values = [int(i) for i in ids]
    if isinstance(engine(), PostgresEngine):
        return f"{column} = ANY({{}})", values
    return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps(values)  # noqa: S608


async def fetch_tuples(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query as plain tuples (`{}` placeholders, as Piccolo's), with the
    values Piccolo would give (datetimes in UTC...): the fast path for reads of many rows,
    without the dict per row and the thread hop per query of Piccolo's `raw()`.

    PostgreSQL: a pooled connection (asyncpg's records are tuples). SQLite: a connection of
    its own in a worker thread, with Piccolo's column converters (`detect_types`); inside a
    transaction, Piccolo's own query, so that it sees the transaction's writes."""
    db = engine()
    inside = in_transaction() or db.current_transaction.get() is not None
    if isinstance(db, PostgresEngine):
        if db.pool is not None and not inside:
            async with db.pool.acquire() as connection:
                return await connection.fetch(_numbered(sql), *args)  # type: ignore[return-value]
    elif isinstance(db, SQLiteEngine) and not inside:
        return await asyncio.to_thread(_sqlite_tuples, db.path, sql.replace("{}", "?"), args)
    rows = await db.run_querystring(QueryString(sql, *args))
    return [tuple(row.values()) for row in rows]


async def insert_rows(
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    *,
    returning: str,
    chunk: int = 500,
) -> list[Any]:
    """Insert `rows` (tuples in the order of `columns`) into `table`, skipping those that
    conflict with a unique key, inside the write transaction; the `returning` column of
    each row inserted. The fast path for many rows: Piccolo's `insert()` builds a query
    object per value and parses its template again (30 ms for 50 fan-out messages, holding
    the database); this sends one statement per `chunk` rows to the transaction's own
    connection (under a millisecond of ours). `table` and `columns` are names from the
    code, never from input."""
    require_transaction("an insert")
    db = engine()
    connection = db.current_transaction.get().connection
    listed = ", ".join(f'"{column}"' for column in columns)
    rows = list(rows)
    found: list[Any] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        if any(len(row) != len(columns) for row in part):
            raise ValueError(f"each row of {table} has {len(columns)} values")
        values = [value for row in part for value in row]
        if isinstance(db, PostgresEngine):
            marks = iter(range(1, len(values) + 1))
            tuples = ", ".join(
                "(" + ", ".join(f"${next(marks)}" for _ in columns) + ")" for _ in part
            )
        else:
            tuples = ", ".join(["(" + ", ".join("?" for _ in columns) + ")"] * len(part))
        sql = (
            f'INSERT INTO "{table}" ({listed}) VALUES {tuples} '  # noqa: S608
            f'ON CONFLICT DO NOTHING RETURNING "{returning}"'
        )
        if isinstance(db, PostgresEngine):
            found += [record[0] for record in await connection.fetch(sql, *values)]
        else:
            async with connection.execute(sql, values) as cursor:
                answer = await cursor.fetchall()
            found += [row[returning] if isinstance(row, dict) else row[0] for row in answer]
    return found


def _sqlite_tuples(path: str, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(
        path, timeout=SQLITE_BUSY_TIMEOUT_S, detect_types=sqlite3.PARSE_DECLTYPES
    )
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


# ---------------------------------------------------------------- notices

NoticeHandler = Callable[[str], None]


async def notify(channel: str, payload: str) -> None:
    """Tell every listening process, once the current transaction commits (never on
    rollback). SQLite has no notices: its processes learn of commits by `commit_counter`."""
    require_transaction("a notice")
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.run_querystring(QueryString("SELECT pg_notify({}, {})", channel, payload))


def notices_supported() -> bool:
    return isinstance(engine(), PostgresEngine)


async def listen(
    channel: str, on_notice: NoticeHandler, on_lost: Callable[[], None]
) -> Callable[[], Awaitable[None]]:
    """Receive the notices of `channel` on a connection of their own (PostgreSQL only);
    returns the coroutine function that closes it. `on_lost` runs if the connection dies."""
    db = engine()
    if not isinstance(db, PostgresEngine):
        raise RuntimeError("notices need PostgreSQL")
    connection = await asyncpg.connect(db.config["dsn"])
    await connection.add_listener(channel, lambda _c, _p, _ch, payload: on_notice(payload))
    connection.add_termination_listener(lambda _c: on_lost())

    async def close() -> None:
        if not connection.is_closed():
            await connection.close(timeout=5)

    return close


class CommitCounter:
    """SQLite's `PRAGMA data_version` on a long-lived connection of its own: the value moves
    whenever another connection commits, so a process learns cheaply that it must look."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=1
        )

    def value(self) -> int:
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self._connection.close()


def commit_counter() -> CommitCounter | None:
    """A commit counter on SQLite; None on PostgreSQL (its processes listen for notices)."""
    db = engine()
    return CommitCounter(db.path) if isinstance(db, SQLiteEngine) else None


# ---------------------------------------------------------------- quick writes

QuickWrite = Callable[..., Awaitable[None]]


@contextlib.asynccontextmanager
async def quick_writer() -> AsyncIterator[QuickWrite]:
    """`await write(sql, *args)` on a connection held for the block, each statement its own
    durable-enough commit, as cheap as the engine allows (`{}` placeholders, as Piccolo's).

    PostgreSQL: a pooled connection with `synchronous_commit` off (the pool resets it on
    release). SQLite: one connection, `synchronous=NORMAL`, run in a worker thread: in WAL
    mode a commit then survives a crash of the process; only a power cut could lose the last
    statements. Without a pool (a script, a test): plain Piccolo queries."""
    db = engine()
    pool = db.pool if isinstance(db, PostgresEngine) else None
    if pool is not None:
        async with pool.acquire() as connection:
            await connection.execute("SET synchronous_commit TO off")
            statements: dict[str, str] = {}

            async def write_pg(sql: str, *args: Any) -> None:
                if sql not in statements:
                    statements[sql] = _numbered(sql)
                await connection.execute(statements[sql], *args)

            yield write_pg
    elif isinstance(db, SQLiteEngine):
        connection = await asyncio.to_thread(
            sqlite3.connect,
            db.path,
            timeout=SQLITE_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            await asyncio.to_thread(connection.execute, "PRAGMA synchronous=NORMAL")

            async def write_sqlite(sql: str, *args: Any) -> None:
                # Piccolo registered its adapters globally: values are stored as it stores them.
                await asyncio.to_thread(connection.execute, sql.replace("{}", "?"), args)

            yield write_sqlite
        finally:
            connection.close()
    else:

        async def write_piccolo(sql: str, *args: Any) -> None:
            await db.run_querystring(QueryString(sql, *args))

        yield write_piccolo


def _numbered(sql: str) -> str:
    """`{}` placeholders as asyncpg's `$1, $2, ...`."""
    parts = sql.split("{}")
    return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, 1))
