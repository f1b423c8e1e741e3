"""What the minutes' services share: the facilitators' view of minutes, who may write them,
the councils and meetings they concern, and their public address.

Minutes of a meeting belong to the meeting's council; a monthly bundle to its council, or
(`council` null) to every council, which only the site's administrators write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from conseils.errors import Forbidden, NotFound
from conseils.settings import get_settings
from conseils.urls import meeting_url
from conseils.viewer import FacilitatorView
from meetings.tables import Council, Meeting
from minutes import files
from minutes.tables import Minutes, MinutesMeeting, MinutesProposal
from proposals.services.common import PUBLIC_STATUSES, STATUS_LABELS
from proposals.tables import Proposal

SEARCH_KIND = "minutes"
CHANGE_KIND = "minutes"
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def month_label(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


@dataclass(frozen=True, slots=True)
class DiscussedProposal:
    proposal_id: int
    title: str
    current_status: str
    status: str  # the status the minutes give ("" leaves it)
    note: str
    applied: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "inchangé")


@dataclass(frozen=True, slots=True)
class MinutesView:
    id: int
    council_id: int | None
    council_slug: str | None
    council_name: str | None
    meeting_id: int | None
    meeting_title: str | None
    meeting_starts_at: datetime | None
    month: date | None
    title: str
    summary: str
    body: str
    decisions: str
    file_id: int | None
    filename: str
    size: int | None
    pages: int | None
    attendance: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    announced_at: datetime | None
    updates_sent: int
    covered_meeting_ids: tuple[int, ...] = ()
    proposals: tuple[DiscussedProposal, ...] = ()

    @property
    def published(self) -> bool:
        return self.status == "published"

    @property
    def decision_lines(self) -> list[str]:
        return [line.strip() for line in self.decisions.splitlines() if line.strip()]

    @property
    def scope_label(self) -> str:
        if self.meeting_id is not None:
            return f"Réunion « {self.meeting_title} »"
        assert self.month is not None
        return (
            f"{month_label(self.month).capitalize()} — {self.council_name or 'tous les conseils'}"
        )

    @property
    def size_label(self) -> str:
        return files.size_label(self.size) if self.size else ""

    @property
    def url(self) -> str:
        return public_url(self.id, self.meeting_id)


def public_url(minutes_id: int, meeting_id: int | None) -> str:
    """Where the public reads them: the meeting's page (its "Compte rendu" section), or the
    bundle's own page under /comptes-rendus."""
    if meeting_id is not None:
        return meeting_url(meeting_id) + "#compte-rendu"
    return f"{get_settings().base_url}/comptes-rendus/{minutes_id}"


def not_found() -> NotFound:
    return NotFound("Ce compte rendu n'existe pas.", code="minutes_not_found")


def may_write(viewer: FacilitatorView, council_id: int | None) -> bool:
    return viewer.is_admin if council_id is None else viewer.may_write(council_id)


def require_write(viewer: FacilitatorView, council_id: int | None) -> None:
    if may_write(viewer, council_id):
        return
    if council_id is None:
        raise Forbidden(
            "Seuls les administrateurs du site rédigent le compte rendu de tous les conseils.",
            code="admin_only",
        )
    raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")


def _columns() -> list[Any]:
    return [
        Minutes.id,
        Minutes.council.id.as_alias("council_id"),
        Minutes.council.slug.as_alias("council_slug"),
        Minutes.council.name.as_alias("council_name"),
        Minutes.meeting.id.as_alias("meeting_id"),
        Minutes.meeting.title.as_alias("meeting_title"),
        Minutes.meeting.starts_at.as_alias("meeting_starts_at"),
        Minutes.month,
        Minutes.title,
        Minutes.summary,
        Minutes.body,
        Minutes.decisions,
        Minutes.file.id.as_alias("file_id"),
        Minutes.filename,
        Minutes.file.size.as_alias("size"),
        Minutes.file.pages.as_alias("pages"),
        Minutes.attendance,
        Minutes.status,
        Minutes.created_at,
        Minutes.updated_at,
        Minutes.published_at,
        Minutes.announced_at,
        Minutes.updates_sent,
    ]


async def discussed(minutes_id: int) -> tuple[DiscussedProposal, ...]:
    rows = (
        await MinutesProposal.select(
            MinutesProposal.proposal.id.as_alias("proposal_id"),
            MinutesProposal.proposal.title.as_alias("title"),
            MinutesProposal.proposal.status.as_alias("current_status"),
            MinutesProposal.status,
            MinutesProposal.note,
            MinutesProposal.applied,
        )
        .where(MinutesProposal.minutes == minutes_id)
        .order_by(MinutesProposal.id)
    )
    return tuple(DiscussedProposal(**row) for row in rows)


async def covered(minutes_id: int) -> tuple[int, ...]:
    rows = await MinutesMeeting.select(MinutesMeeting.meeting).where(
        MinutesMeeting.minutes == minutes_id
    )
    return tuple(sorted(row["meeting"] for row in rows))


async def get_minutes(minutes_id: int) -> MinutesView:
    row = await Minutes.select(*_columns()).where(Minutes.id == minutes_id).first()
    if row is None:
        raise not_found()
    return MinutesView(
        **row, covered_meeting_ids=await covered(minutes_id), proposals=await discussed(minutes_id)
    )


async def get_own(viewer: FacilitatorView, minutes_id: int) -> MinutesView:
    """Minutes the viewer writes (403 for another council's)."""
    found = await get_minutes(minutes_id)
    require_write(viewer, found.council_id)
    return found


async def list_for(viewer: FacilitatorView) -> list[MinutesView]:
    """The back-office's list, newest first: every minutes for an administrator, those of
    the facilitator's councils otherwise (drafts included)."""
    query = Minutes.select(*_columns()).order_by(Minutes.created_at, ascending=False)
    if not viewer.is_admin:
        query = query.where(Minutes.council.is_in(list(viewer.council_ids) or [0]))
    return [MinutesView(**row) for row in await query]


async def councils_concerned(council_id: int | None) -> tuple[int, ...]:
    """Whose subscribers are told, whose proposals may be discussed: the council, or all."""
    if council_id is not None:
        return (council_id,)
    return tuple(row["id"] for row in await Council.select(Council.id).order_by(Council.id))


async def council_name(council_id: int | None) -> str:
    if council_id is None:
        return ""
    row = await Council.select(Council.name).where(Council.id == council_id).first()
    return row["name"] if row else ""


async def published_proposals_of(council_ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """The public proposals the minutes may record as discussed (the back-office's choice)."""
    return (
        await Proposal.select(Proposal.id, Proposal.title, Proposal.status, Proposal.council)
        .where(Proposal.council.is_in(list(council_ids) or [0]))
        .where(Proposal.status.is_in(list(PUBLIC_STATUSES)))
        .order_by(Proposal.id, ascending=False)
        .limit(500)
    )


async def meeting_row(meeting_id: int) -> dict[str, Any] | None:
    return (
        await Meeting.select(
            Meeting.id, Meeting.council, Meeting.title, Meeting.starts_at, Meeting.status
        )
        .where(Meeting.id == meeting_id)
        .first()
    )
