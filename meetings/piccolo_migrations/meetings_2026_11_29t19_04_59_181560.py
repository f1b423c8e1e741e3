from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T19:04:59:181560"
VERSION = "1.38.0"
DESCRIPTION = "Hand the facilitator tables to accounts and the change log to the core"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="meetings", description=DESCRIPTION
    )

    manager.drop_table(
        class_name="MeetingChange", tablename="meeting_change", schema=None
    )

    manager.drop_table(
        class_name="FacilitatorCouncil",
        tablename="facilitator_council",
        schema=None,
    )

    manager.drop_table(
        class_name="Facilitator", tablename="facilitator", schema=None
    )

    manager.drop_table(class_name="ApiToken", tablename="api_token", schema=None)

    # The tables stay as they are, rows included: only Piccolo's record of which app owns them
    # changes (fake: nothing runs). accounts and conseils adopt them in their first migration.
    manager.fake = True

    return manager
