"""Public HTML pages (French). They call the same services as the API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import Parameter
from litestar.response import Template

from meetings.controllers.page_cache import RenderedPages
from meetings.services import councils, meetings
from meetings.services.errors import InvalidInput

KIND_LABELS = {"council": "Réunion du conseil", "cafe": "Café citoyen"}
_meeting_pages = RenderedPages()


class PageController(Controller):
    include_in_schema = False

    @get("/")
    async def home(
        self,
        conseil: Annotated[str | None, Parameter(max_length=80)] = None,
        type_: Annotated[str | None, Parameter(query="type", max_length=20)] = None,
    ) -> Template:
        """Upcoming meetings of every council, soonest first, filterable."""
        council = conseil or None
        kind = type_ or None
        if kind is not None and kind not in KIND_LABELS:
            raise InvalidInput({"type": "type de réunion inconnu"})
        items = await meetings.upcoming(council=council, kind=kind)
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
    async def council(self, slug: str) -> Template:
        council = await councils.get_council(slug)
        return Template(
            "pages/council.html",
            context={
                "council": council,
                "upcoming": await meetings.upcoming(council=slug),
                "past": await meetings.past(council=slug),
            },
        )

    @get("/reunions/{meeting_id:int}")
    async def meeting(self, request: Request, meeting_id: int) -> Response:
        """A meeting's page; re-rendered only when the meeting changed (any process)."""
        version = await meetings.public_version(meeting_id)
        key = (meeting_id, version)
        body = _meeting_pages.get(key) if version is not None else None
        if body is None:
            meeting = await meetings.get_meeting(meeting_id)
            council = await councils.get_council(meeting.council_slug)
            template = request.app.template_engine.get_template("pages/meeting.html")
            body = template.render(meeting=meeting, council=council).encode()
            if version is not None:
                _meeting_pages.put(key, body)
        return Response(body, media_type=MediaType.HTML)
