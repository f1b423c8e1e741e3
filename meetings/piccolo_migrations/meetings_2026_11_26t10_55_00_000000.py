"""Give existing meetings their iCalendar UID, and cancelled ones their cancellation time.

A separate migration because Piccolo runs a migration's raw steps before its new columns.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T10:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Backfill meeting UIDs and cancellation times"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)

    async def backfill() -> None:
        from uuid import uuid4

        from meetings.tables import Meeting

        for row in await Meeting.raw("SELECT id FROM meeting WHERE uid IS NULL"):
            await Meeting.raw("UPDATE meeting SET uid = {} WHERE id = {}", str(uuid4()), row["id"])
        await Meeting.raw(
            "UPDATE meeting SET cancelled_at = updated_at "
            "WHERE status = 'cancelled' AND cancelled_at IS NULL"
        )

    manager.add_raw(backfill)
    return manager
