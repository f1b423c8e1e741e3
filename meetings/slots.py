"""Where the meetings app shows what apps built on it own (see `conseils.extensions`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from conseils.extensions import BatchSlot, Slot
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

# Sections of a council's public page, after its meetings (its residents' proposals, its
# documents...). The page is cached until something of its council changes: a contributor
# announces its changes with `conseils.changes.changed(kind, id, council_id)` (any kind drops
# the page; `changes.EVERY_COUNCIL` for what every council's page shows).
COUNCIL_PAGE = Slot[CouncilView, PageSection]("council page sections")


@dataclass(frozen=True, slots=True)
class OfficeLink:
    """A link of a meeting's back-office page to another app's page about it."""

    label: str
    href: str


# Links of a meeting's back-office page to what apps built on it offer (its minutes...).
OFFICE_MEETING_LINKS = Slot[MeetingView, OfficeLink]("meeting back-office links")


@dataclass(frozen=True, slots=True)
class CalendarNote:
    """Lines a contributor adds to a meeting's calendar event (its DESCRIPTION), and when
    they last changed: the event's LAST-MODIFIED (and the feed's dates) take it into account,
    its SEQUENCE does not move (nothing about the meeting's time or place changed)."""

    title: str  # "Ordre du jour"
    lines: tuple[str, ...]  # plain text; none: the section is left out
    changed_at: datetime


# What calendar events say beyond the meeting's own facts, for many meetings at once (a feed
# holds thousands: one call per contributor, never one per meeting). A contributor whose
# notes change calls `conseils.changes.meeting_changed` and moves the feed clock
# (`meetings.services.feed_clock.advance`) in its write transaction.
CALENDAR_NOTES = BatchSlot[int, CalendarNote]("calendar event notes")
