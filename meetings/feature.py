"""The meetings app as the application sees it: pages, feeds, API, and the names its
templates share with the others'."""

from __future__ import annotations

from conseils.features import Feature
from conseils.web import templating
from meetings import personal_data
from meetings.controllers.api import CouncilController, MeetingController
from meetings.controllers.backoffice_registrants import RegistrantsPages
from meetings.controllers.feeds import FeedController
from meetings.controllers.pages import PageController
from meetings.controllers.registrations import RegistrationApi, RegistrationPages
from meetings.services.common import KIND_LABELS


def register() -> None:
    templating.add_globals(kind_labels=KIND_LABELS)
    personal_data.register()


FEATURE = Feature(
    name="meetings",
    pages=[PageController, FeedController, RegistrationPages],
    api=[CouncilController, MeetingController, RegistrationApi],
    backoffice=[RegistrantsPages],
    register=register,
)
