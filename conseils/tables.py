"""The core's tables: the change log that keeps every process's caches honest, the audit
log, and the full-text search index (`conseils.search`).

The table keeps its historical name, `meeting_change`: it moved here from the meetings app
(a recorded hand-over, no data copied), since every feature's caches will read it.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
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


class AuditEntry(Table):
    """One action of a facilitator in the back-office or the API: who, what, when, on which
    object, by ids only. Never a resident's name or address: the log outlives registrations
    and is kept a year (`conseils.audit`)."""

    actor_id = Integer(index=True)  # the facilitator (not a foreign key: the log outlives them)
    action = Varchar(length=64)  # "meeting.publish", "registration.attendance", …
    object_kind = Varchar(length=32)  # "meeting", "registration", "council", "facilitator"
    object_id = Integer(null=True, default=None)
    council_id = Integer(null=True, default=None, index=True)
    detail = Varchar(length=200, default="")  # ids or counts ("3 présents"), never personal data
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SearchEntry(Table):
    """One searchable object of any feature (a proposal, minutes, ...), written by
    `conseils.search.index` in the transaction that changes the object.

    The original title and body are kept to cut the highlighted passage of a result. What is
    searched lives beside, engine by engine (created by the migration, unknown to Piccolo):
    PostgreSQL's `document` tsvector column with its GIN index and `lead`, the small vector
    ranked (title and start of the body); SQLite's FTS5 table `search_entry_terms` (rowid =
    id; title and body stems, and the kind and council as `scope` tokens), emptied by a
    trigger when a row goes. `(kind, object_id)` is unique and `(kind, council_id)` indexed
    (indexes made by the migrations)."""

    kind = Varchar(length=32)  # "proposal", "minutes", …
    object_id = Integer()
    council_id = Integer(null=True, default=None)
    title = Text()
    body = Text()
