"""The proposals app: residents' proposals, their supports, history and agenda links."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from proposals.tables import AgendaChange, Proposal, ProposalHistory, ProposalMeeting, Support

APP_CONFIG = AppConfig(
    app_name="proposals",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Proposal, ProposalHistory, Support, ProposalMeeting, AgendaChange],
    migration_dependencies=["meetings.piccolo_app"],
    commands=[],
)
