"""The audit log: what facilitators did, for a year.

Services call `record` inside the transaction of the change they make, so an action that
rolled back leaves no line and a committed one always has its line. Entries hold ids and
counts only: a resident erased under the RGPD must not survive in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from conseils.tables import AuditEntry
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView

RETENTION = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class AuditLine:
    actor_id: int
    action: str
    object_kind: str
    object_id: int | None
    council_id: int | None
    detail: str
    at: datetime


async def record(
    actor: FacilitatorView,
    action: str,
    object_kind: str,
    object_id: int | None = None,
    *,
    council_id: int | None = None,
    detail: str = "",
) -> None:
    """Log one action; call it inside the transaction that makes the change."""
    await AuditEntry.insert(
        AuditEntry(
            actor_id=actor.id,
            action=action[:64],
            object_kind=object_kind[:32],
            object_id=object_id,
            council_id=council_id,
            detail=detail[:200],
        )
    )


async def recent(
    *, limit: int = 100, offset: int = 0, council_id: int | None = None
) -> tuple[list[AuditLine], int]:
    """The newest entries first (an admin's view), with the total."""
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False)
    count = AuditEntry.count()
    if council_id is not None:
        query = query.where(AuditEntry.council_id == council_id)
        count = count.where(AuditEntry.council_id == council_id)
    rows = await query.limit(limit).offset(offset)
    lines = [
        AuditLine(
            row["actor_id"],
            row["action"],
            row["object_kind"],
            row["object_id"],
            row["council_id"],
            row["detail"],
            row["at"],
        )
        for row in rows
    ]
    return lines, await count


async def purge(now: datetime | None = None) -> int:
    """Delete entries older than a year; how many went."""
    cutoff = (now or now_utc()) - RETENTION
    gone = await AuditEntry.delete().where(AuditEntry.at < cutoff).returning(AuditEntry.id)
    return len(gone)
