"""Public meetings as snapshots: one query shape for the feeds, the events and the emails.

A snapshot is a public (published or cancelled) meeting with its council's name, slug and
contact address. The feeds read many as plain rows (`public_rows`, the fast path for 10,000
meetings); events carry one as a `MeetingSnapshot`.
"""

from __future__ import annotations

from typing import Any

from conseils import db
from meetings.events import MeetingSnapshot
from meetings.services.common import MAX_ID
from meetings.tables import Meeting

_COLUMNS = """
    m.id, m.uid, m.kind, m.title, m.description, m.starts_at, m.ends_at, m.venue,
    m.address, m.online_url, m.status, m.sequence, m.created_at, m.updated_at,
    m.cancelled_at, m.cancellation_reason, m.council AS council_id, c.name AS council_name,
    c.contact_email AS contact_email, c.slug AS council_slug
"""
_PUBLIC = "m.status IN ('published', 'cancelled')"
# The same, in the order of `MeetingSnapshot`'s fields: `MeetingSnapshot(*row)`.
_SNAPSHOT_ORDER = """
    m.id, m.uid, m.kind, m.title, m.description, m.starts_at, m.ends_at, m.venue,
    m.address, m.online_url, m.status, m.sequence, m.created_at, m.updated_at,
    m.cancelled_at, m.council, c.slug, c.name, c.contact_email, m.cancellation_reason
"""
ID, UPDATED_AT = 0, 13  # positions in a row of `public_tuples`


async def public_rows(where: str, *args: Any) -> list[dict[str, Any]]:
    """Public meetings matching `where` (SQL on `m`, the meeting, and `c`, its council), as
    dicts with exactly the fields of `MeetingSnapshot`."""
    return await Meeting.raw(
        f"SELECT {_COLUMNS} FROM meeting m JOIN council c ON c.id = m.council "  # noqa: S608
        f"WHERE {_PUBLIC} AND {where}",
        *args,
    )


async def public_tuples(where: str, *args: Any) -> list[tuple[Any, ...]]:
    """As `public_rows`, as tuples in the order of `MeetingSnapshot`'s fields (no dict per
    row: the feeds read 100,000 of them). Outside a transaction only."""
    return await db.fetch_tuples(
        f"SELECT {_SNAPSHOT_ORDER} FROM meeting m JOIN council c ON c.id = m.council "  # noqa: S608
        f"WHERE {_PUBLIC} AND {where}",
        *args,
    )


async def snapshot(meeting_id: int) -> MeetingSnapshot | None:
    """A public meeting as events carry it (and the event renderer takes it); None for a
    draft or an unknown id. Inside a transaction it sees that transaction's writes."""
    if not 1 <= meeting_id <= MAX_ID:
        return None
    rows = await public_rows("m.id = {}", meeting_id)
    return MeetingSnapshot(**rows[0]) if rows else None
