"""The meetings app's domain events, and the snapshots they carry.

Emitted inside the write transaction of the change (`conseils.events.emit`); handlers in
other apps (the notifications' emails) read what they need from the event itself, never the
rows: a `MeetingSnapshot` is a public meeting as it is once the change is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MeetingSnapshot:
    """A meeting with its council's public details: what a VEVENT or an email shows."""

    id: int
    uid: str | None
    kind: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online_url: str | None
    status: str
    sequence: int
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    council_id: int
    council_slug: str
    council_name: str
    contact_email: str
    cancellation_reason: str = ""  # a default for the fan-out jobs queued before it existed

    @property
    def place(self) -> str:
        """Venue and address, as one line ("" for a meeting only online)."""
        venue, address = self.venue, self.address
        if venue and address:
            return f"{venue}, {address}"
        return venue or address


@dataclass(frozen=True, slots=True)
class Registrant:
    """A registration as its emails need it (the manage link's token is the person's own)."""

    id: int
    meeting_id: int
    name: str
    email: str
    token: str
    arrival: int
    status: str


# ---------------------------------------------------------------- meetings


@dataclass(frozen=True, slots=True)
class MeetingPublished:
    """A draft became public: its council's subscribers hear of it."""

    meeting: MeetingSnapshot


@dataclass(frozen=True, slots=True)
class MeetingChanged:
    """A published meeting changed in what an attendee cares about (its SEQUENCE grew)."""

    before: MeetingSnapshot
    meeting: MeetingSnapshot


@dataclass(frozen=True, slots=True)
class MeetingCancelled:
    """A published meeting was cancelled, or deleted (then told as a cancellation first)."""

    meeting: MeetingSnapshot


# ---------------------------------------------------------------- registrations


@dataclass(frozen=True, slots=True)
class RegistrationConfirmed:
    registration: Registrant
    meeting: MeetingSnapshot


@dataclass(frozen=True, slots=True)
class RegistrationWaitlisted:
    registration: Registrant
    meeting: MeetingSnapshot
    position: int


@dataclass(frozen=True, slots=True)
class RegistrationPromoted:
    """A waiting person got a seat (someone cancelled, or the capacity grew)."""

    registration: Registrant
    meeting: MeetingSnapshot


@dataclass(frozen=True, slots=True)
class RegistrationLinkRequested:
    """The address signed up again: its manage link goes to it (never in the answer)."""

    registration: Registrant
    meeting: MeetingSnapshot
    position: int | None  # on the waiting list


@dataclass(frozen=True, slots=True)
class RegistrationCancelled:
    registration: Registrant
    meeting: MeetingSnapshot
    was_confirmed: bool
    spam: bool = False  # a facilitator removed it as abuse: the address is not written to


@dataclass(frozen=True, slots=True)
class RegistrationDeleted:
    """A registration was deleted (by a facilitator), or its personal data erased (at its
    owner's request): the messages written to it go with it. `told`: the CANCEL just queued
    for it still goes out (a deletion that was not spam)."""

    registration: Registrant
    told: bool = False


@dataclass(frozen=True, slots=True)
class RegistrantsMessaged:
    """A facilitator wrote to a meeting's registrants (those with an address). `key` is the
    message's own: each recipient's email is queued once under it, however often the form
    is posted."""

    meeting: MeetingSnapshot
    registrations: tuple[Registrant, ...]
    subject: str
    text: str  # plain text, as typed
    key: str


MEETING_EVENTS = (MeetingPublished, MeetingChanged, MeetingCancelled)
REGISTRATION_EVENTS = (
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationPromoted,
    RegistrationLinkRequested,
    RegistrationCancelled,
    RegistrationDeleted,
    RegistrantsMessaged,
)
