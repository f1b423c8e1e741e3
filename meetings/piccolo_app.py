from pathlib import Path

from piccolo.conf.apps import AppConfig

from meetings.tables import (
    ApiToken,
    Council,
    CouncilQuartier,
    Facilitator,
    FacilitatorCouncil,
    Meeting,
    MeetingChange,
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
        MeetingChange,
        Registration,
        Facilitator,
        FacilitatorCouncil,
        ApiToken,
    ],
    migration_dependencies=[],
    commands=[],
)
