"""Recording "sent" on an outbox row as cheaply as possible, since it happens once per email.

The mark must be durable before the next message goes out (a relay that dies then re-sends
at most the message in flight), so it cannot be batched; it can be cheap: one UPDATE on a
connection held for the whole batch, committed with the engine's lightest durable setting
(`conseils.db.quick_writer`). Only a crash of the database host could forget the last few
marks, and the cost of that is a duplicate email, never a lost one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from conseils.db import QuickWrite, quick_writer

MARK_SENT = (
    "UPDATE outbox_message SET status = 'sent', sent_at = {}, lease_until = NULL, "
    "last_error = '' WHERE id = {} AND leased_by = {} AND status = 'sending'"
)


class Ledger:
    def __init__(self, write: QuickWrite) -> None:
        self._write = write

    async def mark_sent(self, row_id: int, relay: str, moment: datetime) -> None:
        await self._write(MARK_SENT, moment, row_id, relay)


@contextlib.asynccontextmanager
async def ledger_for() -> AsyncIterator[Ledger]:
    async with quick_writer() as write:
        yield Ledger(write)
