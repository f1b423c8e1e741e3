"""The relay: claims queued messages, sends them over one connection per batch, records each
outcome at once.

Safe with any number of relays on one database: on PostgreSQL a batch is claimed with
`FOR UPDATE SKIP LOCKED`, on SQLite inside `BEGIN IMMEDIATE`. A claimed row carries a lease;
a relay that dies mid-batch leaves rows whose lease runs out, and another relay takes them
over. Each message is marked sent as soon as the server accepted it, so a crash can send
again at most the one message in flight (with the same Message-ID).

Retries (RFC 5321 §4.2.1): 4xx replies and connection trouble wait `base × 2^(attempt-1)`
(capped at an hour, ±20 % jitter) for up to two days from queueing; 5xx replies fail the
message at once. A refusal for one recipient never stops the rest of the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from conseils.db import ids_in, outage, skip_locked, write_transaction
from conseils.settings import MailSettings, get_settings
from conseils.timefmt import now_utc
from meetings.services import registrations
from notifications import fanout, outbox, retention
from notifications.ledger import ledger_for
from notifications.registration_mail import queue_reminders
from notifications.tables import OutboxMessage
from notifications.transports import (
    ConnectionLost,
    PermanentFailure,
    TemporaryFailure,
    transport_for,
)

LEASE = timedelta(minutes=5)
CLAIM_PER_TRANSACTION = 50  # rows leased by one write transaction (see `Relay.claim`)
REMINDER_SCAN_SECONDS = 60.0
RETRY_FOR = timedelta(days=2)
MAX_DELAY = timedelta(hours=1)
MAX_FAILURE_PAUSE_S = 60.0  # between batches that failed for an unexpected reason
COMPLAIN_EVERY_S = 300.0  # one log line per kind of failure per interval
log = logging.getLogger("conseils.relay")

_CLAIM = """
UPDATE outbox_message
SET status = 'sending', lease_until = {}, leased_by = {}, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox_message
    WHERE (status = 'queued' AND next_attempt_at <= {})
       OR (status = 'sending' AND lease_until < {})
    ORDER BY next_attempt_at, id
    LIMIT {} %s
)
RETURNING id
"""


def backoff(attempts: int, base: timedelta) -> timedelta:
    delay = min(base * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy


class Relay:
    def __init__(self, settings: MailSettings | None = None, name: str | None = None) -> None:
        self.settings = settings or get_settings().mail
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wakeup = asyncio.Event()
        self._complained: dict[str, float] = {}

    def wake(self) -> None:
        self._wakeup.set()

    # ------------------------------------------------------------ database

    async def claim(self, limit: int) -> list[dict[str, Any]]:
        """Lease a batch; its rows (and their messages, kilobytes each) are read after the
        claim has committed, so that it holds the database only to mark them.

        The marks go `CLAIM_PER_TRANSACTION` rows per write transaction: SQLite rewrites a
        whole row, message included, to change its status, so 200 rows at once held every
        other writer back for 40 ms."""
        claimed: list[dict[str, Any]] = []
        while len(claimed) < limit:
            wanted = min(CLAIM_PER_TRANSACTION, limit - len(claimed))
            now = now_utc()
            async with write_transaction():
                sql = _CLAIM % skip_locked()
                part = await OutboxMessage.raw(sql, now + LEASE, self.name, now, now, wanted)
            claimed += part
            if len(part) < wanted:
                break
        if not claimed:
            return []
        clause, id_arg = ids_in("id", [row["id"] for row in claimed])
        rows = await OutboxMessage.raw(
            f"SELECT * FROM outbox_message WHERE {clause} AND leased_by = {{}} "  # noqa: S608
            "AND status = 'sending'",
            id_arg,
            self.name,
        )
        return sorted(rows, key=lambda row: row["id"])

    async def _record(self, row_id: int, values: dict[str, Any]) -> None:
        """Record an outcome, only while the row is still ours (a lease can be taken over)."""
        columns = ", ".join(f"{name} = {{}}" for name in values)
        await OutboxMessage.raw(
            f"UPDATE outbox_message SET {columns} "  # noqa: S608 - names are ours
            "WHERE id = {} AND leased_by = {} AND status = 'sending'",
            *values.values(),
            row_id,
            self.name,
        )

    async def _sent(self, row: dict[str, Any]) -> None:
        await self.ledger.mark_sent(row["id"], self.name, now_utc())

    async def _failed(self, row: dict[str, Any], reason: str) -> None:
        log.warning("message %s to %s failed: %s", row["id"], row["recipient"], reason)
        await self._record(
            row["id"],
            {
                "status": "failed",
                "lease_until": None,
                "last_error": reason[:1000],
                "failed_at": now_utc(),
            },
        )

    async def _later(self, row: dict[str, Any], reason: str) -> None:
        moment = now_utc() + backoff(row["attempts"], self.settings.retry_base)
        created: datetime = row["created_at"]
        if moment - created > RETRY_FOR:
            await self._failed(row, f"abandonné après deux jours : {reason}")
            return
        await self._record(
            row["id"],
            {
                "status": "queued",
                "next_attempt_at": moment,
                "lease_until": None,
                "last_error": reason[:1000],
            },
        )

    async def _keep_lease(self, ids: list[int]) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            clause, id_arg = ids_in("id", ids)
            await OutboxMessage.raw(
                "UPDATE outbox_message SET lease_until = {} "  # noqa: S608
                f"WHERE {clause} AND leased_by = {{}} AND status = 'sending'",
                now_utc() + LEASE,
                id_arg,
                self.name,
            )

    # ------------------------------------------------------------ sending

    async def deliver_once(self) -> int:
        """Claim one batch and deliver it; returns how many messages were handled."""
        rows = await self.claim(self.settings.batch_size)
        if not rows:
            return 0
        keeper = asyncio.create_task(self._keep_lease([row["id"] for row in rows]))
        try:
            async with ledger_for() as self.ledger:
                await self._deliver(rows)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return len(rows)

    @staticmethod
    def _message(row: dict[str, Any]) -> bytes:
        """The bytes to send, as built when the message was queued."""
        if not row["mime"]:
            raise ValueError("message vide")
        return row["mime"].encode("ascii")

    async def _deliver(self, rows: list[dict[str, Any]]) -> None:
        """Send a claimed batch in order. Each "sent" mark overlaps the next envelope, yet no
        message is committed to the server before the previous one is recorded as sent."""
        sender = self.settings.mail_from.addr_spec
        pending = list(rows)
        marking: asyncio.Future | None = None
        try:
            async with transport_for(self.settings) as transport:
                for row in rows:
                    try:
                        message = self._message(row)
                    except (ValueError, TypeError, UnicodeError) as exc:
                        pending.remove(row)
                        await self._failed(row, f"message impossible à construire : {exc}")
                        continue
                    try:
                        await transport.send(message, sender, row["recipient"], marking)
                    except ConnectionLost:
                        raise
                    except TemporaryFailure as exc:
                        pending.remove(row)
                        await self._settle(marking)
                        marking = None
                        await self._later(row, str(exc))
                    except PermanentFailure as exc:
                        pending.remove(row)
                        await self._settle(marking)
                        marking = None
                        await self._failed(row, str(exc))
                    else:
                        pending.remove(row)
                        marking = asyncio.ensure_future(self._sent(row))
                await self._settle(marking)
                marking = None
        except ConnectionLost as exc:
            await self._settle(marking)
            marking = None
            for row in pending:  # never attempted, or cut off: all wait for a retry
                await self._later(row, str(exc))
        finally:
            await self._settle(marking)

    @staticmethod
    async def _settle(marking: asyncio.Future | None) -> None:
        """Wait for a "sent" mark (send() may have failed before awaiting it)."""
        if marking is not None:
            await marking

    async def _queue_reminders(self) -> None:
        """Reminders due soon join the queue (each once: its idempotency key); registrations
        past their retention are deleted."""
        try:
            async with write_transaction():
                queued = await queue_reminders(now_utc(), self.settings.reminder_delay)
                purged = await registrations.purge_expired(now_utc())
            if purged:
                log.info("relay %s deleted %d registrations past retention", self.name, purged)
        except Exception as exc:  # a failed scan is retried at the next one
            self._complain(exc, "reminder scan failed")
            return
        if queued:
            log.info("relay %s queued %d reminders", self.name, queued)

    async def purge_old(self) -> retention.Purged:
        """Retention (`notifications.retention`): old messages with their maildir files,
        expired pending and unsubscribed subscriptions, audit lines older than a year."""
        days = timedelta(days=get_settings().outbox_retention_days)
        purged = await retention.purge(now_utc(), days, self.settings.maildir)
        if purged.messages or purged.subscriptions or purged.audit_lines:
            log.info(
                "relay %s deleted %d old messages (%d maildir files), %d subscriptions, "
                "%d audit lines",
                self.name,
                purged.messages,
                purged.files,
                purged.subscriptions,
                purged.audit_lines,
            )
        return purged

    async def _scan(self) -> None:
        """The periodic scan: reminders, then retention; a failure waits for the next scan."""
        await self._queue_reminders()
        try:
            await self.purge_old()
        except Exception as exc:
            self._complain(exc, "retention scan failed")

    async def run(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; between batches, wait for a wake-up or the poll."""
        log.info("relay %s started (%s)", self.name, self.settings.smtp_host or "maildir")
        next_scan = 0.0
        failures = 0
        while not stop.is_set():
            if time.monotonic() >= next_scan:
                next_scan = time.monotonic() + REMINDER_SCAN_SECONDS
                await self._scan()
            try:
                handled = await fanout.expand_next() + await self.deliver_once()
            except Exception as exc:  # a database hiccup, a broken disk: never kill the relay
                failures += 1
                self._complain(exc)
                # Back off, deaf to wake-ups: retrying at once would only fail again, fast.
                await self._pause(stop, min(poll_seconds * 2**failures, MAX_FAILURE_PAUSE_S))
                continue
            failures = 0
            if handled:
                continue
            await self._pause(stop, poll_seconds, wakeable=True)
        log.info("relay %s stopped", self.name)

    def _complain(self, exc: Exception, what: str = "batch failed, backing off") -> None:
        """One log line per kind of failure per interval (with its traceback), not a flood."""
        kind = f"{type(exc).__name__}: {exc}"[:200]
        now = time.monotonic()
        if now - self._complained.get(f"{what}|{kind}", -COMPLAIN_EVERY_S) >= COMPLAIN_EVERY_S:
            self._complained[f"{what}|{kind}"] = now
            # A database outage is not a bug: its traceback would say nothing more.
            trace = exc if outage(exc) is None else None
            log.error("relay %s: %s: %s", self.name, what, kind, exc_info=trace)

    async def _pause(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> None:
        """Wait `seconds`, or until stopped (or woken by new mail, when `wakeable`)."""
        self._wakeup.clear()
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wakeup.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


async def start_in_process() -> tuple[asyncio.Task, asyncio.Event]:
    """The relay inside `conseils serve` (the default): woken by this process's requests."""
    relay = Relay()
    outbox.on_enqueued(relay.wake)
    stop = asyncio.Event()
    return asyncio.create_task(relay.run(stop), name="outbox-relay"), stop
