"""Publishing minutes, and the "mise à jour" email a facilitator asks for.

Publishing gives the proposals discussed their status (through the proposals' own rule),
then, in one write transaction: the status, `published_at`, the search index, the change
notices, and the first time only (`announced_at`) one `MinutesAnnounced` event, which the
notifications app turns into one fan-out job. Publishing again, or editing afterwards,
emails nobody; only `send_update` does, once per ask.
"""

from __future__ import annotations

from conseils import audit, events
from conseils.db import write_transaction
from conseils.errors import Conflict, InvalidInput
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from minutes.events import MinutesAnnounced, MinutesSnapshot
from minutes.services import common, editing
from minutes.services.common import MinutesView
from minutes.tables import Minutes


async def snapshot(row: dict) -> MinutesSnapshot:
    """The minutes as their email shows them, fixed when announced."""
    meeting_ids = (row["meeting"],) if row["meeting"] else ()
    return MinutesSnapshot(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        url=common.public_url(row["id"], row["meeting"]),
        council_ids=await common.councils_concerned(row["council"]),
        meeting_ids=meeting_ids,
        council_name=await common.council_name(row["council"]),
        month=row["month"],
    )


def _require_content(row: dict) -> None:
    if not (row["summary"] or row["body"] or row["file"]):
        raise InvalidInput(
            {"summary": "écrivez un résumé ou un texte, ou joignez le PDF, avant de publier"}
        )


async def publish(viewer: FacilitatorView, minutes_id: int) -> MinutesView:
    """Publish the minutes (a no-op when they are: nothing is sent twice)."""
    current = await common.get_own(viewer, minutes_id)
    if not current.published:
        await editing.apply_proposals(viewer, minutes_id)
    async with write_transaction():
        row = await editing.locked_minutes(minutes_id)
        common.require_write(viewer, row["council"])
        if row["status"] == "published":
            return await common.get_minutes(minutes_id)
        _require_content(row)
        now = now_utc()
        first = row["announced_at"] is None
        await Minutes.update(
            {
                Minutes.status: "published",
                Minutes.published_at: row["published_at"] or now,
                Minutes.announced_at: row["announced_at"] or now,
                Minutes.updated_at: now,
            }
        ).where(Minutes.id == minutes_id)
        if row["meeting"] is None and row["month"] is not None:
            await editing.cover(
                minutes_id, await editing.month_meetings(row["council"], row["month"])
            )
        await editing.index(minutes_id)
        await editing.announce_change(minutes_id)
        await audit.record(
            viewer, "minutes.publish", "minutes", minutes_id, council_id=row["council"]
        )
        if first:
            shown = await snapshot({**row, "status": "published"})
            await events.emit(MinutesAnnounced(minutes=shown, update=False, sequence=0))
    return await common.get_minutes(minutes_id)


async def unpublish(viewer: FacilitatorView, minutes_id: int) -> MinutesView:
    """Back to draft: off the public pages and the search (publishing again emails nobody)."""
    await common.get_own(viewer, minutes_id)
    async with write_transaction():
        row = await editing.locked_minutes(minutes_id)
        if row["status"] != "published":
            return await common.get_minutes(minutes_id)
        await Minutes.update({Minutes.status: "draft", Minutes.updated_at: now_utc()}).where(
            Minutes.id == minutes_id
        )
        await editing.index(minutes_id)
        await editing.announce_change(minutes_id)
        await audit.record(
            viewer, "minutes.unpublish", "minutes", minutes_id, council_id=row["council"]
        )
    return await common.get_minutes(minutes_id)


async def send_update(
    viewer: FacilitatorView, minutes_id: int, *, expected: int | None = None
) -> tuple[MinutesView, bool]:
    """Email everyone concerned again ("mise à jour"), as the facilitator asked. `expected`
    is the number this update would have (the form's hidden field): a second click of the
    same form finds it sent and sends nothing more. Returns (minutes, sent)."""
    await common.get_own(viewer, minutes_id)
    async with write_transaction():
        row = await editing.locked_minutes(minutes_id)
        if row["status"] != "published":
            raise Conflict(
                "Publiez le compte rendu avant d'envoyer une mise à jour.",
                code="minutes_not_published",
            )
        sequence = row["updates_sent"] + 1
        if expected is not None and expected != sequence:
            return await common.get_minutes(minutes_id), False
        await Minutes.update({Minutes.updates_sent: sequence, Minutes.updated_at: now_utc()}).where(
            Minutes.id == minutes_id
        )
        await audit.record(
            viewer, "minutes.send_update", "minutes", minutes_id,
            council_id=row["council"], detail=f"mise à jour {sequence}",
        )  # fmt: skip
        shown = await snapshot(row)
        await events.emit(MinutesAnnounced(minutes=shown, update=True, sequence=sequence))
    return await common.get_minutes(minutes_id), True
