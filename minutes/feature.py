"""The minutes app as the application sees it: the documents library's pages, back-office
and API, and its section of the council pages (the meetings app's `COUNCIL_PAGE` slot)."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from meetings.slots import COUNCIL_PAGE
from minutes.controllers import backoffice as backoffice_pages
from minutes.controllers.api import DocumentController
from minutes.controllers.pages import DocumentPages, council_documents


def register() -> None:
    COUNCIL_PAGE.contribute(council_documents)
    backoffice.add_menu_entry(backoffice.MenuEntry("Documents", "/animation/documents", order=65))


FEATURE = Feature(
    name="minutes",
    pages=[DocumentPages],
    api=[DocumentController],
    backoffice=[backoffice_pages.DocumentPages],
    register=register,
)
