"""The accounts app: facilitators, the councils they run, their API tokens, password links."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil, PasswordLink

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Facilitator, FacilitatorCouncil, ApiToken, PasswordLink],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
