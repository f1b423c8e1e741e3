"""What every service of the meetings app shares: the kinds and statuses of a meeting, how
an unknown one is refused, and how a write takes hold of one."""

from __future__ import annotations

from typing import Any

from conseils.db import MAX_ID, locked
from conseils.errors import NotFound
from meetings.tables import Meeting

KINDS = ("council", "cafe")
KIND_LABELS = {"council": "Réunion du conseil", "cafe": "Café citoyen"}
STATUSES = ("draft", "published", "cancelled")
PUBLIC_STATUSES = ("published", "cancelled")
PUBLIC_STATUSES_SET = frozenset(PUBLIC_STATUSES)


def not_found() -> NotFound:
    return NotFound("Cette réunion n'existe pas ou n'est pas publiée.", code="meeting_not_found")


async def locked_row(meeting_id: int) -> dict[str, Any]:
    """The meeting's row, locked until the transaction ends (PostgreSQL; on SQLite the
    write transaction itself is exclusive). Inside a write transaction only."""
    if not 1 <= meeting_id <= MAX_ID:
        raise not_found()
    row = await locked(Meeting.select().where(Meeting.id == meeting_id)).first()
    if row is None:
        raise not_found()
    return row
