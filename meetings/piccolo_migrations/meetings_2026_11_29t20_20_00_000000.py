import secrets

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-29T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Give every existing registration its calendar feed token, unique"


async def give_feed_tokens() -> None:
    engine = engine_finder()
    rows = await engine.run_querystring(
        QueryString("SELECT id FROM registration WHERE feed_token IS NULL")
    )
    for row in rows:
        await engine.run_querystring(
            QueryString(
                "UPDATE registration SET feed_token = {} WHERE id = {}",
                secrets.token_urlsafe(32),
                row["id"],
            )
        )
    await engine.run_querystring(
        QueryString(
            "CREATE UNIQUE INDEX IF NOT EXISTS registration_feed_token_key "
            "ON registration (feed_token)"
        )
    )


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="meetings", description=DESCRIPTION
    )
    manager.add_raw(give_feed_tokens)
    return manager
