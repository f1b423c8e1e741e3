"""Where the meetings app shows what apps built on it own (see `conseils.extensions`)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from conseils.extensions import Slot
from meetings.services.councils import CouncilView
from meetings.services.meetings import MeetingView


@dataclass(frozen=True, slots=True)
class PageSection:
    """A titled block of a public page; `html` is already escaped by its contributor."""

    title: str
    html: Markup
    anchor: str  # the section's id on the page, for links to it


# Sections of a meeting's public page after its own facts (its agenda, its minutes...).
# The page is cached until the meeting changes: a contributor whose content changes on its
# own must announce it through `conseils.changes` so the page is rendered again.
MEETING_PAGE = Slot[MeetingView, PageSection]("meeting page sections")

# Sections of a council's public page after its meetings (its documents, its minutes...).
# The council page is rendered at each request: a contributor needs no change notice.
COUNCIL_PAGE = Slot[CouncilView, PageSection]("council page sections")
