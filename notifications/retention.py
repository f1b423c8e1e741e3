"""Retention: what the outbox and the subscriptions hold about residents goes when it is no
longer needed. Run by the relay's periodic scan.

- Messages `sent`, `failed` or `cancelled` for more than `OUTBOX_RETENTION_DAYS` are deleted,
  and their maildir files with them (once the deletion has committed).
- Pending subscriptions whose last confirmation went out more than `PENDING_KEPT` ago are
  deleted: the link has expired.
- Unsubscribed subscriptions are deleted (their links still answer a friendly page).
- The facilitators' audit log keeps a year (`conseils.audit.purge`): this scan is the
  service's periodic job, so the core's log is purged here too.

Every job deletes in batches, each its own transaction, claimed with `SKIP LOCKED` on
PostgreSQL (inside `BEGIN IMMEDIATE` on SQLite): several relays share the work, and running
a job twice deletes nothing more.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from conseils import audit
from conseils.db import skip_locked, write_transaction
from notifications.tables import OutboxMessage, Subscription
from notifications.transports import forget_maildir_messages

PENDING_KEPT = timedelta(days=7)
BATCH = 500
MAX_BATCHES = 20  # per job and scan: a large backlog goes over several scans

# Every timestamp of the message is past the cut-off: queued, last tried and sent long ago.
_OLD_MESSAGES = """
DELETE FROM outbox_message WHERE id IN (
    SELECT id FROM outbox_message
    WHERE status IN ('sent', 'failed', 'cancelled')
      AND created_at < {} AND next_attempt_at < {} AND (sent_at IS NULL OR sent_at < {})
    ORDER BY id LIMIT {} %s
)
RETURNING message_id
"""

_OLD_SUBSCRIPTIONS = """
DELETE FROM subscription WHERE id IN (
    SELECT id FROM subscription
    WHERE status = 'unsubscribed'
       OR (status = 'pending' AND coalesce(confirmation_sent_at, created_at) < {})
    ORDER BY id LIMIT {} %s
)
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class Purged:
    messages: int = 0
    files: int = 0
    subscriptions: int = 0
    audit_lines: int = 0


async def _forget_files(maildir: Path, message_ids: list[str]) -> int:
    return await asyncio.to_thread(forget_maildir_messages, maildir, message_ids)


async def purge_messages(now: datetime, kept: timedelta, maildir: Path) -> tuple[int, int]:
    """Delete old finished messages and their maildir files; (rows, files) deleted."""
    cutoff = now - kept
    rows = files = 0
    for _ in range(MAX_BATCHES):
        async with write_transaction():
            deleted = await OutboxMessage.raw(
                _OLD_MESSAGES % skip_locked(), cutoff, cutoff, cutoff, BATCH
            )
        # The files go once the rows are gone for good: a rollback (an exception out of the
        # block above) keeps both.
        rows += len(deleted)
        files += await _forget_files(maildir, [r["message_id"] for r in deleted])
        if len(deleted) < BATCH:
            break
    return rows, files


async def purge_subscriptions(now: datetime) -> int:
    """Delete unsubscribed subscriptions and pending ones whose confirmation expired."""
    total = 0
    for _ in range(MAX_BATCHES):
        async with write_transaction():
            deleted = await Subscription.raw(
                _OLD_SUBSCRIPTIONS % skip_locked(), now - PENDING_KEPT, BATCH
            )
        total += len(deleted)
        if len(deleted) < BATCH:
            break
    return total


async def purge(now: datetime, kept: timedelta, maildir: Path) -> Purged:
    messages, files = await purge_messages(now, kept, maildir)
    subscriptions = await purge_subscriptions(now)
    async with write_transaction():
        audit_lines = await audit.purge(now)
    return Purged(messages, files, subscriptions, audit_lines)
