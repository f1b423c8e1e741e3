"""The meetings app as the application sees it: pages, feeds, API, and the names its
templates share with the others'."""

from __future__ import annotations

from conseils import backoffice
from conseils.features import Feature
from conseils.web import templating
from meetings import personal_data
from meetings.controllers import backoffice as meeting_pages
from meetings.controllers.api import CouncilController, MeetingController, QuartierController
from meetings.controllers.backoffice_councils import CouncilAdminPages
from meetings.controllers.backoffice_registrants import RegistrantsPages
from meetings.controllers.embeds import EmbedController
from meetings.controllers.feeds import FeedController
from meetings.controllers.pages import PageController
from meetings.controllers.registrations import RegistrationApi, RegistrationPages
from meetings.services.common import KIND_LABELS


def register() -> None:
    templating.add_globals(kind_labels=KIND_LABELS)
    personal_data.register()
    for panel in meeting_pages.PANELS:
        backoffice.add_panel(panel)
    backoffice.add_menu_entry(meeting_pages.MENU)
    backoffice.add_menu_entry(
        backoffice.MenuEntry("Conseils", "/animation/conseils", order=75, admin_only=True)
    )


FEATURE = Feature(
    name="meetings",
    pages=[PageController, FeedController, EmbedController, RegistrationPages],
    api=[CouncilController, QuartierController, MeetingController, RegistrationApi],
    backoffice=[meeting_pages.MeetingPages, RegistrantsPages, CouncilAdminPages],
    register=register,
)
