"""The privacy app as the application sees it: the `/mes-donnees` pages, its own keeper of
personal data (the live link), and who sends the link a registration's page asks for."""

from __future__ import annotations

from conseils import events, personal_data
from conseils.features import Feature
from conseils.personal_data import AccessLinkRequested
from privacy import services
from privacy.controllers import PrivacyPages


def register() -> None:
    personal_data.keep(services.KEEPER)
    events.handles(AccessLinkRequested)(services.link_requested)


FEATURE = Feature(name="privacy", pages=[PrivacyPages], register=register)
