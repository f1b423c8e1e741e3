"""The minutes app: minutes (to come), the documents library, and the PDF files both keep."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from minutes.tables import Document, StoredFile

APP_CONFIG = AppConfig(
    app_name="minutes",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[StoredFile, Document],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
