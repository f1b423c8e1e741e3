"""The core's Piccolo app: the change log every feature's caches read, and the audit log."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from conseils.tables import AuditEntry, MeetingChange

APP_CONFIG = AppConfig(
    app_name="conseils",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MeetingChange, AuditEntry],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
