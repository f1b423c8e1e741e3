from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T00:22:18:800829"
VERSION = "1.38.0"
DESCRIPTION = "A cancelled meeting's reason, shown on its page and told in the cancellation email"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="meetings", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Meeting",
        tablename="meeting",
        column_name="cancellation_reason",
        db_column_name="cancellation_reason",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
