"""The proposals app as the application sees it: pages, API, back-office and what it
contributes to the other apps' extension points."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from meetings.slots import CALENDAR_NOTES, MEETING_PAGE
from proposals.controllers import backoffice as office_pages
from proposals.controllers.api import ProposalOfficeApi
from proposals.services import agenda


def register() -> None:
    """Event handlers, keepers, panels and slot contributions (idempotent)."""
    MEETING_PAGE.contribute(agenda.page_section)
    CALENDAR_NOTES.contribute(agenda.calendar_notes)
    backoffice.add_panel(office_pages.PANEL)
    backoffice.add_menu_entry(office_pages.MENU)


FEATURE = Feature(
    name="proposals",
    pages=[],
    api=[ProposalOfficeApi],
    backoffice=[office_pages.ProposalPages],
    register=register,
)
