from pathlib import Path

from piccolo.conf.apps import AppConfig

from notifications.tables import FanoutJob, OutboxMessage, Subscription

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[OutboxMessage, Subscription, FanoutJob],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
