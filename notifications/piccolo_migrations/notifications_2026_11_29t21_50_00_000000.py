from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-29T21:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Find an address's messages quickly: the repeat cap, erasure"


async def index_recipients() -> None:
    await engine_finder().run_querystring(
        QueryString(
            "CREATE INDEX IF NOT EXISTS outbox_message_recipient_created "
            "ON outbox_message (recipient, created_at)"
        )
    )


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION
    )
    manager.add_raw(index_recipients)
    return manager
