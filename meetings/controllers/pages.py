"""Public HTML pages (French). They call the same services as the API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter

from conseils.errors import InvalidInput
from conseils.timefmt import now_utc
from conseils.web.page_cache import (
    MEETINGS_AND_SEATS,
    DependsOn,
    Page,
    RenderedLists,
    RenderedPages,
    respond,
)
from meetings import structured_data
from meetings.services import councils, meetings, registrations
from meetings.services.common import KIND_LABELS
from meetings.slots import COUNCIL_PAGE, MEETING_PAGE

_meeting_pages = RenderedPages()
_lists = RenderedLists()  # the home page (by filters) and the councils' pages


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


def _expires(items: list[meetings.MeetingView], now: datetime) -> datetime | None:
    """When a list of meetings changes by itself: the first listed meeting's next moment."""
    return min(
        (m for m in (_next_moment(item, now) for item in items) if m is not None), default=None
    )


def _render(request: Request, template: str, context: dict[str, Any]) -> bytes:
    return request.app.template_engine.get_template(template).render(**context).encode()


class PageController(Controller):
    include_in_schema = False

    @get("/")
    async def home(
        self,
        request: Request,
        conseil: Annotated[str | None, QueryParameter(max_length=80)] = None,
        type_: Annotated[str | None, QueryParameter(name="type", max_length=20)] = None,
    ) -> Response:
        """Upcoming meetings of every council, soonest first, filterable; rendered again only
        when a meeting or its seats changed in the councils shown (in any process), or when
        the first one listed closes its registration or ends."""
        council = conseil or None
        kind = type_ or None
        if kind is not None and kind not in KIND_LABELS:
            raise InvalidInput({"type": "type de réunion inconnu"})

        async def render() -> Page:
            try:
                items = await meetings.upcoming(council=council, kind=kind)
            except InvalidInput as exc:  # name the fields as the page's form does
                raise InvalidInput(
                    {"conseil" if key == "council" else key: why for key, why in exc.errors.items()}
                ) from None
            every_council = await councils.list_councils()
            shown = None if council is None else [c.id for c in every_council if c.slug == council]
            body = _render(
                request,
                "pages/home.html",
                {
                    "meetings": items,
                    "councils": every_council,
                    "selected_council": council,
                    "selected_kind": kind,
                },
            )
            return Page(_expires(items, now_utc()), body, DependsOn(MEETINGS_AND_SEATS, shown))

        page = await _lists.fetch(("home", council, kind), render)
        return await respond(request, page, MediaType.HTML)

    @get("/conseils/{slug:str}")
    async def council(self, request: Request, slug: FromPath[str]) -> Response:
        """A council's page: rendered again only when something of its council changed (its
        meetings, their seats, or what other apps show in its sections: any kind of change),
        or when its next meeting closes its registration or ends."""

        async def render() -> Page:
            council = await councils.get_council(slug)
            upcoming = await meetings.upcoming(council=slug)
            body = _render(
                request,
                "pages/council.html",
                {
                    "council": council,
                    "upcoming": upcoming,
                    "past": await meetings.past(council=slug),
                    "sections": await COUNCIL_PAGE.collect(council),
                },
            )
            expires = _expires(upcoming, now_utc())
            return Page(expires, body, DependsOn(None, {council.id}))

        page = await _lists.fetch(("council", slug), render)
        return await respond(request, page, MediaType.HTML)

    @get("/reunions/{meeting_id:int}")
    async def meeting(self, request: Request, meeting_id: FromPath[int]) -> Response:
        """A meeting's page, re-rendered only when the meeting changed (in any process)."""

        async def render() -> Page:
            meeting = await meetings.get_meeting(meeting_id)  # public ones only
            now = now_utc()
            body = _render(request, "pages/meeting.html", await meeting_page_context(meeting, now))
            return Page(_next_moment(meeting, now), body)

        page = await _meeting_pages.fetch(meeting_id, render)
        return await respond(request, page, MediaType.HTML)
