"""Counters shared by every process: how rate limits and login throttles count.

A count must be the same whichever process a request lands on, and must never lose a hit to
a race, so each hit is one atomic operation in a store every process sees:

- **Redis** when `REDIS_URL` is set (several hosts): `INCR` and, on the first hit of a
  window, `EXPIRE`, in one Lua script; keys carry the `REDIS_PREFIX`.
- otherwise a small **SQLite file** in the data directory (several processes on one host):
  one `INSERT … ON CONFLICT DO UPDATE … RETURNING` per hit, in WAL mode.

Litestar's own `RateLimitMiddleware` keeps a list of timestamps per client, read and written
back by each request: two processes reading the same list at once lose a hit. Hence this.

Besides counting (`hit`), a store holds *blocks*: a key that exists until a given time (the
growing delays of login throttling).

Keys name people (an IP address, an account's email): the stores only ever see them
pseudonymised, `kind:` followed by an HMAC of the rest keyed by `SECRET_KEY`, so a dump of
Redis or of the counters file holds no address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

import redis.asyncio as redis

from conseils.settings import get_settings

log = logging.getLogger("conseils.counters")
POOL_SIZE = 50  # connections to Redis per process; more requests at once wait their turn


def pseudonym(key: str) -> str:
    """`post:203.0.113.7` → `post:3f9c…`: the kind stays readable, the person does not."""
    kind, _, subject = key.partition(":")
    secret = get_settings().secret_key.encode()
    return f"{kind}:{hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()[:32]}"


class CounterStore(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one more hit of `key` in the current window of `window` seconds (a window
        starts at the first hit). Returns the count so far and the seconds left."""

    async def count(self, key: str) -> int:
        """The count of `key` in its current window (0 when none)."""

    async def reset(self, *keys: str) -> None:
        """Forget these counters and blocks."""

    async def block(self, key: str, seconds: float) -> None:
        """Refuse `key` for `seconds` from now (replaces a shorter or longer block)."""

    async def blocked_for(self, key: str) -> float:
        """Seconds left of the block on `key` (0 when not blocked)."""

    async def clear(self) -> None:
        """Forget every counter and block of this site (a test's fresh start)."""

    async def close(self) -> None: ...


_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RedisCounters:
    """Counters in Redis: shared by every process on every host.

    A Redis that does not answer must not take the site down with it: limits are then not
    applied (every hit counts as the first, nothing is blocked) and one line per minute
    says so in the log."""

    def __init__(self, url: str, prefix: str) -> None:
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=10, socket_timeout=5, socket_connect_timeout=5
        )
        self._redis = redis.Redis(connection_pool=pool)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT)
        self._warned_at = 0.0

    def _name(self, key: str, kind: str = "") -> str:
        return f"{self._prefix}{kind}{pseudonym(key)}"

    def _unavailable(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("Redis unavailable, limits not applied: %s", exc)

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        try:
            count, ttl = await self._hit(keys=[self._name(key)], args=[window])
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)
            return 0, window
        return int(count), max(int(ttl), 1)

    async def count(self, key: str) -> int:
        try:
            value = await self._redis.get(self._name(key))
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)
            return 0
        return int(value or 0)

    async def reset(self, *keys: str) -> None:
        if keys:
            names = [self._name(key) for key in keys]
            names += [self._name(key, "block:") for key in keys]
            await self._redis.delete(*names)

    async def block(self, key: str, seconds: float) -> None:
        try:
            await self._redis.set(self._name(key, "block:"), 1, px=max(int(seconds * 1000), 1))
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)

    async def blocked_for(self, key: str) -> float:
        try:
            left = await self._redis.pttl(self._name(key, "block:"))
        except (redis.RedisError, OSError) as exc:
            self._unavailable(exc)
            return 0.0
        return max(left, 0) / 1000

    async def clear(self) -> None:
        async for key in self._redis.scan_iter(match=self._prefix + "*", count=500):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()


class FileCounters:
    """Counters in a SQLite file: shared by the processes of one host.

    Each operation is one short statement on a connection of its own thread; SQLite's lock
    makes it atomic across processes. Expired rows are swept now and then."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._hits = 0
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, count INTEGER NOT "
                "NULL, expires_at REAL NOT NULL) WITHOUT ROWID"
            )

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counters, not records
            self._local.connection = connection
        return connection

    def _hit_now(self, key: str, window: int) -> tuple[int, int]:
        now = time.time()
        row = (
            self._connect()
            .execute(
                "INSERT INTO counter (key, count, expires_at) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN expires_at <= ? THEN 1 ELSE count + 1 END, "
                "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at "
                "ELSE expires_at END "
                "RETURNING count, expires_at",
                (key, now + window, now, now),
            )
            .fetchone()
        )
        self._hits += 1
        if self._hits % 1000 == 0:
            self._connect().execute("DELETE FROM counter WHERE expires_at <= ?", (now,))
        # Another process may have opened the window a moment after this one read the clock.
        return int(row[0]), min(max(math.ceil(row[1] - now), 1), window)

    def _count_now(self, key: str) -> int:
        row = (
            self._connect()
            .execute(
                "SELECT count FROM counter WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def _reset_now(self, keys: tuple[str, ...]) -> None:
        connection = self._connect()
        for key in keys:
            connection.execute("DELETE FROM counter WHERE key IN (?, ?)", (key, "block:" + key))

    def _block_now(self, key: str, seconds: float) -> None:
        self._connect().execute(
            "INSERT INTO counter (key, count, expires_at) VALUES (?, 1, ?) "
            "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
            ("block:" + key, time.time() + seconds),
        )

    def _blocked_now(self, key: str) -> float:
        row = (
            self._connect()
            .execute("SELECT expires_at FROM counter WHERE key = ?", ("block:" + key,))
            .fetchone()
        )
        return max(row[0] - time.time(), 0.0) if row else 0.0

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        return await asyncio.to_thread(self._hit_now, pseudonym(key), window)

    async def count(self, key: str) -> int:
        return await asyncio.to_thread(self._count_now, pseudonym(key))

    async def reset(self, *keys: str) -> None:
        await asyncio.to_thread(self._reset_now, tuple(pseudonym(key) for key in keys))

    async def block(self, key: str, seconds: float) -> None:
        await asyncio.to_thread(self._block_now, pseudonym(key), seconds)

    async def blocked_for(self, key: str) -> float:
        return await asyncio.to_thread(self._blocked_now, pseudonym(key))

    async def clear(self) -> None:
        await asyncio.to_thread(lambda: self._connect().execute("DELETE FROM counter"))

    async def close(self) -> None:
        """Connections belong to worker threads and close with them."""


_store: CounterStore | None = None


def counters() -> CounterStore:
    """This process's store, made on first use from the settings."""
    global _store
    if _store is None:
        limits = get_settings().limits
        if limits.redis_url:
            _store = RedisCounters(limits.redis_url, limits.redis_prefix)
        else:
            _store = FileCounters(get_settings().data_dir / "counters.sqlite")
    return _store


async def close_counters() -> None:
    global _store
    if _store is not None:
        store, _store = _store, None
        await store.close()
