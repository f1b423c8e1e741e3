"""Public HTML pages (French). They call the same services as the API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from conseils import changes
from conseils.errors import InvalidInput
from conseils.timefmt import now_utc
from conseils.web.page_cache import Page, RenderedPages
from meetings import structured_data
from meetings.services import councils, meetings, registrations
from meetings.services.common import KIND_LABELS
from meetings.slots import COUNCIL_PAGE, MEETING_PAGE

_meeting_pages = RenderedPages()


def _next_moment(meeting: meetings.MeetingView, now: datetime) -> datetime | None:
    """When the page changes by itself: registration opens or closes, the meeting ends."""
    moments = (
        meeting.registration_opens_at,
        meeting.registration_closes_at or meeting.starts_at,
        meeting.ends_at,
    )
    return min((m for m in moments if m is not None and m > now), default=None)


async def meeting_page_context(meeting: meetings.MeetingView, now: datetime) -> dict[str, Any]:
    """What the meeting's page shows: the public page and the back-office's preview of a
    draft render `pages/meeting.html` with this same context (the preview leaves out the
    structured data: a draft is no event yet)."""
    council = await councils.get_council(meeting.council_slug)
    return {
        "meeting": meeting,
        "council": council,
        "structured_data": structured_data.json_ld(structured_data.event(meeting, council)),
        "refusal": registrations.refusal(asdict(meeting), now),
        "sections": await MEETING_PAGE.collect(meeting),
        "form": {},
        "errors": {},
        "attending_as": registrations.ATTENDING_AS,
    }


class PageController(Controller):
    include_in_schema = False

    @get("/")
    async def home(
        self,
        conseil: Annotated[str | None, QueryParameter(max_length=80)] = None,
        type_: Annotated[str | None, QueryParameter(name="type", max_length=20)] = None,
    ) -> Template:
        """Upcoming meetings of every council, soonest first, filterable."""
        council = conseil or None
        kind = type_ or None
        if kind is not None and kind not in KIND_LABELS:
            raise InvalidInput({"type": "type de réunion inconnu"})
        try:
            items = await meetings.upcoming(council=council, kind=kind)
        except InvalidInput as exc:  # name the fields as the page's form does
            raise InvalidInput(
                {"conseil" if key == "council" else key: why for key, why in exc.errors.items()}
            ) from None
        return Template(
            "pages/home.html",
            context={
                "meetings": items,
                "councils": await councils.list_councils(),
                "selected_council": council,
                "selected_kind": kind,
            },
        )

    @get("/conseils/{slug:str}")
    async def council(self, slug: FromPath[str]) -> Template:
        council = await councils.get_council(slug)
        return Template(
            "pages/council.html",
            context={
                "council": council,
                "upcoming": await meetings.upcoming(council=slug),
                "past": await meetings.past(council=slug),
                "sections": await COUNCIL_PAGE.collect(council),
            },
        )

    @get("/reunions/{meeting_id:int}")
    async def meeting(self, request: Request, meeting_id: FromPath[int]) -> Response:
        """A meeting's page, re-rendered only when the meeting changed (in any process)."""
        await changes.refresh()
        page = _meeting_pages.get(meeting_id)
        if page is None:
            generation = _meeting_pages.generation
            meeting = await meetings.get_meeting(meeting_id)  # public ones only
            now = now_utc()
            template = request.app.template_engine.get_template("pages/meeting.html")
            body = template.render(**await meeting_page_context(meeting, now)).encode()
            page = Page(_next_moment(meeting, now), body)
            _meeting_pages.put(meeting_id, page, generation)
        return Response(page.body, media_type=MediaType.HTML)
