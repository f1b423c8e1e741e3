"""msgspec Structs: the JSON API's input and output shapes (and so its OpenAPI schema).

Types only; the rules (lengths, ranges, cross-field checks) are the services' job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from conseils.urls import council_calendar_url, council_url, meeting_calendar_url, meeting_url
from conseils.web.shapes import present
from meetings.services.councils import CouncilView
from meetings.services.meetings import MeetingView

AwareDatetime = Annotated[datetime, Meta(tz=True, description="ISO 8601 with a UTC offset")]
Kind = Literal["council", "cafe"]
Status = Literal["draft", "published", "cancelled"]


class QuartierOut(Struct):
    slug: str
    name: str
    commune: str


class CouncilOut(Struct):
    slug: str
    name: str
    description: str
    agglomeration_wide: bool
    contact_email: str
    quartiers: list[QuartierOut]
    url: str
    calendar_url: str

    @classmethod
    def of(cls, council: CouncilView) -> CouncilOut:
        return cls(
            slug=council.slug,
            name=council.name,
            description=council.description,
            agglomeration_wide=council.agglomeration_wide,
            contact_email=council.contact_email,
            quartiers=[QuartierOut(q.slug, q.name, q.commune) for q in council.quartiers],
            url=council_url(council.slug),
            calendar_url=council_calendar_url(council.slug),
        )


class CouncilIn(Struct, forbid_unknown_fields=True):
    """A new council (admins). `quartiers`: their slugs; none when agglomeration-wide."""

    name: str
    slug: str
    contact_email: str
    description: str = ""
    agglomeration_wide: bool = False
    quartiers: list[str] = []


class CouncilPatch(Struct, forbid_unknown_fields=True):
    """Only the fields present change; the slug only while the council never published."""

    name: str | UnsetType = UNSET
    slug: str | UnsetType = UNSET
    contact_email: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    agglomeration_wide: bool | UnsetType = UNSET
    quartiers: list[str] | UnsetType = UNSET


class QuartierIn(Struct, forbid_unknown_fields=True):
    name: str
    slug: str
    commune: str


class QuartierPatch(Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    slug: str | UnsetType = UNSET
    commune: str | UnsetType = UNSET


class MeetingOut(Struct):
    id: int
    council: str
    kind: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online_url: str | None
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: str
    sequence: int
    url: str
    calendar_url: str
    seats_left: int | None  # null: no limit
    waitlist_length: int
    cancellation_reason: str  # "" unless cancelled with a reason

    @classmethod
    def of(cls, meeting: MeetingView) -> MeetingOut:
        return present(
            cls,
            meeting,
            council=meeting.council_slug,
            url=meeting_url(meeting.id),
            calendar_url=meeting_calendar_url(meeting.id),
        )


class MeetingPage(Struct):
    items: list[MeetingOut]
    total: int
    limit: int
    offset: int


class MeetingIn(Struct, forbid_unknown_fields=True):
    council: str
    kind: Kind
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    description: str = ""
    venue: str = ""
    address: str = ""
    online_url: str | None = None
    capacity: int | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None


class CancelIn(Struct, forbid_unknown_fields=True):
    """Why the meeting is cancelled: told on its page and in the cancellation email."""

    reason: Annotated[str, Meta(max_length=1000)] = ""


class MeetingPatch(Struct, forbid_unknown_fields=True):
    """Only the fields present are changed; `null` clears an optional field."""

    kind: Kind | UnsetType = UNSET
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    starts_at: AwareDatetime | UnsetType = UNSET
    ends_at: AwareDatetime | UnsetType = UNSET
    venue: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    online_url: str | UnsetType | None = UNSET
    capacity: int | UnsetType | None = UNSET
    registration_opens_at: AwareDatetime | UnsetType | None = UNSET
    registration_closes_at: AwareDatetime | UnsetType | None = UNSET


def given_fields(data: Struct) -> dict[str, object]:
    """The fields a client actually sent (UNSET ones left out)."""
    return {
        name: value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not UNSET
    }
