"""The proposals app as the application sees it: pages, API, back-office and what it
contributes to the other apps' extension points."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from conseils.web import templating
from meetings.slots import CALENDAR_NOTES, COUNCIL_PAGE, MEETING_PAGE
from proposals import personal_data, slots
from proposals.controllers import backoffice as office_pages
from proposals.controllers.api import ProposalApi
from proposals.controllers.api_moderation import ProposalOfficeApi
from proposals.controllers.pages import ProposalPages
from proposals.services import agenda
from proposals.services.common import STATUS_LABELS, THEMES


def register() -> None:
    """Event handlers, keepers, panels and slot contributions (idempotent)."""
    templating.add_globals(proposal_status_labels=STATUS_LABELS, proposal_themes=THEMES)
    personal_data.register()
    COUNCIL_PAGE.contribute(slots.council_section)
    MEETING_PAGE.contribute(slots.meeting_section)
    MEETING_PAGE.contribute(agenda.page_section)
    CALENDAR_NOTES.contribute(agenda.calendar_notes)
    backoffice.add_panel(office_pages.PANEL)
    backoffice.add_menu_entry(office_pages.MENU)


FEATURE = Feature(
    name="proposals",
    pages=[ProposalPages],
    api=[ProposalApi, ProposalOfficeApi],
    backoffice=[office_pages.ProposalPages],
    register=register,
)
