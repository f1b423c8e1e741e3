"""The privacy app: the personal-data links sent to residents' addresses."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from privacy.tables import AccessRequest

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AccessRequest],
    migration_dependencies=[],
    commands=[],
)
