from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T03:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The full-text search index's table (its engine-specific parts: the next migration)"


def _params(**extra):
    params = {
        "default": 0,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(extra)
    return params


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="conseils", description=DESCRIPTION
    )

    manager.add_table(
        class_name="SearchEntry",
        tablename="search_entry",
        schema=None,
        columns=None,
    )
    for name, column_class, params in (
        ("kind", Varchar, _params(length=32, default="")),
        ("object_id", Integer, _params()),
        ("council_id", Integer, _params(default=None, null=True)),
        ("title", Text, _params(default="")),
        ("body", Text, _params(default="")),
    ):
        manager.add_column(
            table_class_name="SearchEntry",
            tablename="search_entry",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
