"""The minutes app as the application sees it: the documents library's pages, back-office
and API; the minutes' public pages, feeds and API, their back-office and facilitators' API;
its sections of the council and meeting pages, its lines in the calendar events and its link
on a meeting's back-office page (the meetings app's slots)."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from meetings.slots import CALENDAR_NOTES, COUNCIL_PAGE, MEETING_PAGE, OFFICE_MEETING_LINKS
from minutes import public
from minutes.controllers import backoffice as backoffice_pages
from minutes.controllers import backoffice_minutes, minutes_pages
from minutes.controllers.api import DocumentController
from minutes.controllers.api_minutes import MinutesController
from minutes.controllers.minutes_api import MinutesApi
from minutes.controllers.pages import DocumentPages, council_documents


def register() -> None:
    COUNCIL_PAGE.contribute(minutes_pages.council_section)
    COUNCIL_PAGE.contribute(council_documents)
    MEETING_PAGE.contribute(minutes_pages.meeting_section)
    CALENDAR_NOTES.contribute(public.calendar_notes)
    OFFICE_MEETING_LINKS.contribute(backoffice_minutes.meeting_link)
    backoffice.add_menu_entry(backoffice.MenuEntry("Documents", "/animation/documents", order=65))
    backoffice.add_menu_entry(
        backoffice.MenuEntry("Comptes rendus", "/animation/comptes-rendus", order=64)
    )


FEATURE = Feature(
    name="minutes",
    pages=[DocumentPages, minutes_pages.MinutesPages],
    api=[DocumentController, MinutesApi, MinutesController],
    backoffice=[backoffice_pages.DocumentPages, backoffice_minutes.MinutesPages],
    register=register,
)
