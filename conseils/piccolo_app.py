"""The core's Piccolo app: the change log every feature's caches read, the audit log, and the
full-text search index."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from conseils.tables import AuditEntry, MeetingChange, SearchEntry

APP_CONFIG = AppConfig(
    app_name="conseils",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MeetingChange, AuditEntry, SearchEntry],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
