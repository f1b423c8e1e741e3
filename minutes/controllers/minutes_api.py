"""Published minutes in the JSON API (/api/v1/minutes), read by anyone: the list (filtered
by council and year) and one minutes with its decisions and proposals discussed. Drafts do
not exist here (`minutes.public`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, PathParameter
from msgspec import Struct

from conseils.web.api_spec import INVALID, Reason, operation
from minutes import public

MinutesId = Annotated[int, PathParameter(description="Minutes id")]
MINUTES_NOT_FOUND = Reason(404, "minutes_not_found", "no published minutes with this id")


class DiscussedOut(Struct):
    id: int
    title: str
    status: str  # the status given at the meeting; "" none
    status_label: str
    note: str
    url: str


class MinutesOut(Struct):
    id: int
    title: str
    council: str | None  # its council's slug; null: every council (a monthly bundle)
    meeting_id: int | None  # the meeting's minutes; null: a monthly bundle
    month: date | None  # a monthly bundle's month (its first day)
    day: date  # its meeting's day, or its month's first day
    summary: str
    published_at: datetime
    updated_at: datetime
    url: str  # its page
    pdf_url: str | None
    pdf_size: int | None  # bytes
    pdf_pages: int | None
    format: str | None  # "PDF – 665 Ko"

    @classmethod
    def of(cls, m: public.MinutesView) -> MinutesOut:
        return cls(
            id=m.id,
            title=m.title,
            council=m.council_slug,
            meeting_id=m.meeting_id,
            month=m.month,
            day=m.day,
            summary=m.summary,
            published_at=m.published_at,
            updated_at=m.updated_at,
            url=public.absolute(m.url),
            pdf_url=public.absolute(m.pdf_url) if m.pdf_url else None,
            pdf_size=m.size,
            pdf_pages=m.pages,
            format=m.format_label,
        )


class MinutesDetailOut(MinutesOut):
    body: str  # Markdown
    decisions: list[str]
    attendance: int | None
    proposals: list[DiscussedOut]


class MinutesApi(Controller):
    path = "/minutes"
    tags = ["minutes"]

    @get("/", **operation("listMinutes", "List published minutes", INVALID))
    async def list_minutes(
        self, council: FromQuery[str | None] = None, year: FromQuery[int | None] = None
    ) -> list[MinutesOut]:
        """Published minutes, newest first: every council's, or with `council` (a slug)
        that council's and the monthly bundles of every council; of one `year` if given."""
        council_id = None if council is None else await public.council_id_of(council)
        found = await public.list_published(council_id=council_id, year=year)
        return [MinutesOut.of(m) for m in found]

    @get(
        "/{minutes_id:int}", **operation("getMinutes", "Read published minutes", MINUTES_NOT_FOUND)
    )
    async def get_minutes(self, minutes_id: MinutesId) -> MinutesDetailOut:
        """One published minutes, with their body, decisions and proposals discussed."""
        m = await public.get_minutes(minutes_id)
        summary = MinutesOut.of(m)
        return MinutesDetailOut(
            **{f: getattr(summary, f) for f in MinutesOut.__struct_fields__},
            body=m.body,
            decisions=m.decisions,
            attendance=m.attendance,
            proposals=[
                DiscussedOut(
                    p.id, p.title, p.status, p.status_label, p.note, public.absolute(p.url)
                )
                for p in m.proposals
            ],
        )
