"""The clock behind the feeds' Last-Modified: it moves forward, never back, deletions included.

Each council keeps `calendar_changed_at`, the moment its public meetings last changed. A write
sets it to a value later than every council's (so a feed spanning several councils also
moves) and at least one whole second later than the previous value, because HTTP dates count
whole seconds: two changes within one second would otherwise share a Last-Modified, and a
client sending only If-Modified-Since would miss the second one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from conseils.db import locked
from conseils.timefmt import now_utc
from meetings.tables import Council

ONE_SECOND = timedelta(seconds=1)


def _next_whole_second(moment: datetime) -> datetime:
    return datetime.fromtimestamp(math.ceil(moment.timestamp()), tz=UTC)


async def advance(council_id: int) -> datetime:
    """Move the council's feed clock; call inside the write transaction of the change."""
    # Every council row, locked in one order: two changes never read the same latest value.
    rows = await locked(
        Council.select(Council.calendar_changed_at).order_by(Council.id), "NO KEY UPDATE"
    )
    latest = max((r["calendar_changed_at"] for r in rows if r["calendar_changed_at"]), default=None)
    tick = _next_whole_second(now_utc())
    if latest is None:
        # No clock yet: feeds were dated by their meetings' updated_at rounded up (the demo's
        # meetings come without a change), which may be this very second: go one past it.
        tick += ONE_SECOND
    elif tick <= latest:
        tick = latest + ONE_SECOND
    await Council.update({Council.calendar_changed_at: tick}).where(Council.id == council_id)
    return tick
