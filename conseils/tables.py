"""The core's one table: the change log that keeps every process's caches honest.

The table keeps its historical name, `meeting_change`: it moved here from the meetings app
(a recorded hand-over, no data copied), since every feature's caches will read it.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class MeetingChange(Table):
    """A log of changes to meetings, written in the same transaction as the change.

    Processes that cannot receive PostgreSQL notices (SQLite, or a lost LISTEN connection)
    read it to learn exactly which meetings changed, and drop only those from their caches.
    `meeting_id` is not a foreign key: the log also records deletions.
    """

    meeting_id = Integer()
    council_id = Integer()
    seats_only = Boolean(default=False)  # a sign-up or a cancellation: the feeds do not care
    changed_at = Timestamptz(default=TimestamptzNow())
