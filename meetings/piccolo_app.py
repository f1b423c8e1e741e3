"""The meetings app: quartiers, councils, meetings, registrations and their calendar feeds."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from meetings.tables import (
    AddressFeed,
    Council,
    CouncilQuartier,
    Meeting,
    MeetingMessage,
    Quartier,
    Registration,
)

APP_CONFIG = AppConfig(
    app_name="meetings",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Quartier,
        Council,
        CouncilQuartier,
        Meeting,
        Registration,
        MeetingMessage,
        AddressFeed,
    ],
    migration_dependencies=[],
    commands=[],
)
