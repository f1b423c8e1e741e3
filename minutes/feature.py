"""The minutes app as the application sees it: the documents library's pages, back-office
and API, and its section of the council pages (the meetings app's `COUNCIL_PAGE` slot)."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from meetings.slots import COUNCIL_PAGE, OFFICE_MEETING_LINKS
from minutes.controllers import backoffice as backoffice_pages
from minutes.controllers import backoffice_minutes
from minutes.controllers.api import DocumentController
from minutes.controllers.api_minutes import MinutesController
from minutes.controllers.pages import DocumentPages, council_documents


def register() -> None:
    COUNCIL_PAGE.contribute(council_documents)
    OFFICE_MEETING_LINKS.contribute(backoffice_minutes.meeting_link)
    backoffice.add_menu_entry(backoffice.MenuEntry("Documents", "/animation/documents", order=65))
    backoffice.add_menu_entry(
        backoffice.MenuEntry("Comptes rendus", "/animation/comptes-rendus", order=64)
    )


FEATURE = Feature(
    name="minutes",
    pages=[DocumentPages],
    api=[DocumentController, MinutesController],
    backoffice=[backoffice_pages.DocumentPages, backoffice_minutes.MinutesPages],
    register=register,
)
