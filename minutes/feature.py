"""The minutes app as the application sees it: the documents library's pages, back-office
and API; the minutes' public pages, feeds and API; its sections of the council and meeting
pages and its lines in the calendar events (the meetings app's slots)."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from meetings.slots import CALENDAR_NOTES, COUNCIL_PAGE, MEETING_PAGE
from minutes import public
from minutes.controllers import backoffice as backoffice_pages
from minutes.controllers import minutes_pages
from minutes.controllers.api import DocumentController
from minutes.controllers.minutes_api import MinutesApi
from minutes.controllers.pages import DocumentPages, council_documents


def register() -> None:
    COUNCIL_PAGE.contribute(minutes_pages.council_section)
    COUNCIL_PAGE.contribute(council_documents)
    MEETING_PAGE.contribute(minutes_pages.meeting_section)
    CALENDAR_NOTES.contribute(public.calendar_notes)
    backoffice.add_menu_entry(backoffice.MenuEntry("Documents", "/animation/documents", order=65))


FEATURE = Feature(
    name="minutes",
    pages=[DocumentPages, minutes_pages.MinutesPages],
    api=[DocumentController, MinutesApi],
    backoffice=[backoffice_pages.DocumentPages],
    register=register,
)
