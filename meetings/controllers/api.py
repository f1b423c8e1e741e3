"""The JSON API under /api/v1: councils and meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import (
    Body,
    FromQuery,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)
from litestar.serialization import encode_json
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from conseils import changes
from conseils.validation import require_moment
from conseils.viewer import FacilitatorView
from conseils.web.api_spec import (
    ADMIN,
    BEARER,
    INVALID,
    JSON_BODY,
    OPTIONAL_BEARER,
    operation,
)
from conseils.web.page_cache import MEETINGS_AND_SEATS, DependsOn, Page, RenderedLists, respond
from meetings.controllers import api_examples as examples
from meetings.controllers.reasons import (
    CANCEL_INSTEAD,
    CANCELLED_NOT_CHANGED,
    CANCELLED_NOT_PUBLISHED,
    COUNCIL_NOT_FOUND,
    DUPLICATE_MEETING,
    MEETING_NOT_FOUND,
    NOT_YOUR_COUNCIL,
    QUARTIER_NOT_FOUND,
)
from meetings.schemas import (
    CancelIn,
    CouncilIn,
    CouncilOut,
    CouncilPatch,
    Kind,
    MeetingIn,
    MeetingOut,
    MeetingPage,
    MeetingPatch,
    QuartierIn,
    QuartierOut,
    QuartierPatch,
    Status,
    given_fields,
)
from meetings.services import council_admin, councils, meetings

# Public answers (without a token) of the list operations, by their parameters.
_answers = RenderedLists()
MeetingId = Annotated[int, PathParameter(description="Meeting id")]
Slug = Annotated[str, PathParameter(description="The council's slug, as in its page's address")]
QuartierSlug = Annotated[str, PathParameter(description="The quartier's slug")]
BEARER_SECURITY = [{"bearer": []}]
# What every write on a meeting answers: the token, the meeting, the council.
MEETING_WRITE = (*BEARER, NOT_YOUR_COUNCIL, MEETING_NOT_FOUND)


def _meeting(status: int, description: str) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            MeetingOut,
            description=description,
            examples=[examples.MEETING_OUT],
            generate_examples=False,
        )
    }


class CouncilController(Controller):
    path = "/councils"
    tags = ["councils"]

    @get("/", **operation("listCouncils", "List the councils"))
    async def list_councils(self, request: Request) -> Response[list[CouncilOut]]:
        """Every council (anyone may call): agglomeration-wide ones first, then by name,
        with their quartiers and the addresses of their page and calendar feed."""

        async def render() -> Page:
            found = [CouncilOut.of(council) for council in await councils.list_councils()]
            return Page(None, encode_json(found), DependsOn({changes.COUNCIL}))

        page = await _answers.fetch("councils", render)
        return await respond(request, page, MediaType.JSON)

    @get("/{slug:str}", **operation("getCouncil", "Get a council", COUNCIL_NOT_FOUND))
    async def get_council(self, slug: Slug) -> CouncilOut:
        """One council by its slug (anyone may call)."""
        return CouncilOut.of(await councils.get_council(slug))

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        security=BEARER_SECURITY,
        **operation("createCouncil", "Create a council", *JSON_BODY, *ADMIN),
    )
    async def create_council(
        self, admin: NamedDependency[FacilitatorView], data: JSONBody[CouncilIn]
    ) -> CouncilOut:
        """A new council, agglomeration-wide or covering quartiers (given by their slugs).
        Site administrators only. No email is sent; the council has no facilitator until an
        administrator gives it one in the back-office."""
        return CouncilOut.of(await council_admin.create_council(admin, given_fields(data)))

    @patch(
        "/{slug:str}",
        security=BEARER_SECURITY,
        **operation("updateCouncil", "Change a council", *JSON_BODY, *ADMIN, COUNCIL_NOT_FOUND),
    )
    async def update_council(
        self,
        admin: NamedDependency[FacilitatorView],
        slug: Slug,
        data: JSONBody[CouncilPatch],
    ) -> CouncilOut:
        """Change the fields given, and only those. Site administrators only. The slug (in
        the addresses of its pages and feeds) changes only while the council has never
        shown a meeting to the public (400 on `slug` afterwards). No email is sent."""
        council_id = await council_admin.council_id_of(slug)
        return CouncilOut.of(
            await council_admin.update_council(admin, council_id, given_fields(data))
        )


class QuartierController(Controller):
    path = "/quartiers"
    tags = ["councils"]

    @get("/", **operation("listQuartiers", "List the quartiers"))
    async def list_quartiers(self) -> list[QuartierOut]:
        """Every quartier (anyone may call), by commune then name."""
        return [
            QuartierOut(q.slug, q.name, q.commune) for q in await council_admin.list_quartiers()
        ]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        security=BEARER_SECURITY,
        **operation("createQuartier", "Create a quartier", *JSON_BODY, *ADMIN),
    )
    async def create_quartier(
        self, admin: NamedDependency[FacilitatorView], data: JSONBody[QuartierIn]
    ) -> QuartierOut:
        """A new quartier, which councils may then cover. Site administrators only."""
        q = await council_admin.create_quartier(admin, given_fields(data))
        return QuartierOut(q.slug, q.name, q.commune)

    @patch(
        "/{slug:str}",
        security=BEARER_SECURITY,
        **operation("updateQuartier", "Change a quartier", *JSON_BODY, *ADMIN, QUARTIER_NOT_FOUND),
    )
    async def update_quartier(
        self,
        admin: NamedDependency[FacilitatorView],
        slug: QuartierSlug,
        data: JSONBody[QuartierPatch],
    ) -> QuartierOut:
        """Change the fields given. Site administrators only. The slug changes only while
        the quartier's calendar feed has never held a meeting (400 on `slug` afterwards)."""
        quartier_id = await council_admin.quartier_id_of(slug)
        q = await council_admin.update_quartier(admin, quartier_id, given_fields(data))
        return QuartierOut(q.slug, q.name, q.commune)


class MeetingController(Controller):
    path = "/meetings"
    tags = ["meetings"]

    @get("/", **operation("listMeetings", "List meetings", INVALID, *OPTIONAL_BEARER))
    async def list_meetings(
        self,
        request: Request,
        maybe_viewer: NamedDependency[FacilitatorView | None],
        council: FromQuery[str | None] = None,
        kind: FromQuery[Kind | None] = None,
        status: FromQuery[Status | None] = None,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[MeetingPage]:
        """A page of meetings, soonest first, filtered by council, kind, status and start
        (`from` inclusive, `to` exclusive; moments with their UTC offset). Anyone may call:
        without a token, published and cancelled meetings only; with a facilitator's token,
        their councils' drafts too (an administrator's: every draft). `total` counts every
        match; page with `limit` (1 to 100) and `offset`."""
        starts_from = require_moment("from", from_) if from_ else None
        starts_before = require_moment("to", to) if to else None

        async def answer() -> MeetingPage:
            items, total = await meetings.list_meetings(
                viewer=maybe_viewer,
                council=council,
                kind=kind,
                status=status,
                starts_from=starts_from,
                starts_before=starts_before,
                limit=limit,
                offset=offset,
            )
            return MeetingPage([MeetingOut.of(m) for m in items], total, limit, offset)

        if maybe_viewer is not None:  # drafts too: this facilitator's answer, never kept
            return Response(await answer())

        async def render() -> Page:
            body = encode_json(await answer())
            shown = None if council is None else [await council_admin.council_id_of(council)]
            return Page(None, body, DependsOn(MEETINGS_AND_SEATS, shown))

        key = (council, kind, status, starts_from, starts_before, limit, offset)
        page = await _answers.fetch(key, render)
        return await respond(request, page, MediaType.JSON)

    @get(
        "/{meeting_id:int}",
        **operation("getMeeting", "Get a meeting", *OPTIONAL_BEARER, MEETING_NOT_FOUND),
    )
    async def get_meeting(
        self, maybe_viewer: NamedDependency[FacilitatorView | None], meeting_id: MeetingId
    ) -> MeetingOut:
        """One meeting, with its seats left and waiting list. Anyone may read a published
        or cancelled meeting; a draft only its council's facilitators (with their token)
        and administrators: to anyone else it does not exist (404)."""
        return MeetingOut.of(await meetings.get_meeting(meeting_id, maybe_viewer))

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        security=BEARER_SECURITY,
        **operation(
            "createMeeting",
            "Schedule a meeting (a draft)",
            *JSON_BODY,
            *BEARER,
            NOT_YOUR_COUNCIL,
            DUPLICATE_MEETING,
            answers={
                **_meeting(HTTP_201_CREATED, "Created: the new draft"),
                **_meeting(HTTP_200_OK, "A repeat with the same `Idempotency-Key`: the first"),
            },
        ),
    )
    async def create_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        data: Annotated[MeetingIn, Body(examples=[examples.MEETING_IN])],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(name="Idempotency-Key", description="Repeat-safe creation"),
        ] = None,
    ) -> Response[MeetingOut]:
        """Schedule a draft meeting of one of your councils (any facilitator of the council;
        administrators: any council). The start is still to come, the end after it (at
        most 7 days later), and an address or an `online_url` is given. Nobody sees a
        draft but its facilitators, and no email is sent until it is published. With an
        `Idempotency-Key`, a repeated request (a retry after a timeout) returns the meeting
        the first one created, with 200, instead of a second meeting."""
        meeting, created = await meetings.create_meeting(
            viewer, given_fields(data), idempotency_key=idempotency_key
        )
        return Response(
            MeetingOut.of(meeting), status_code=HTTP_201_CREATED if created else HTTP_200_OK
        )

    @patch(
        "/{meeting_id:int}",
        security=BEARER_SECURITY,
        **operation(
            "updateMeeting",
            "Change a meeting",
            *JSON_BODY,
            *MEETING_WRITE,
            CANCELLED_NOT_CHANGED,
            answers=_meeting(HTTP_200_OK, "The meeting as changed"),
        ),
    )
    async def update_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        data: Annotated[MeetingPatch, Body(examples=[examples.MEETING_PATCH])],
    ) -> MeetingOut:
        """Change the fields given (`null` clears an optional one). Facilitators of the
        meeting's council and administrators. A new start is still to come; the capacity
        stays at or above the seats taken (raising it seats the waiting list in order).
        When a published meeting changes in what attendees care about (time, place, link,
        title), its registrants get a "meeting changed" email with a calendar update, and
        its council's subscribers an announcement."""
        return MeetingOut.of(await meetings.update_meeting(viewer, meeting_id, given_fields(data)))

    @post(
        "/{meeting_id:int}/publish",
        status_code=HTTP_200_OK,
        security=BEARER_SECURITY,
        **operation(
            "publishMeeting",
            "Publish a draft meeting",
            *MEETING_WRITE,
            CANCELLED_NOT_PUBLISHED,
            answers=_meeting(HTTP_200_OK, "The meeting, published"),
        ),
    )
    async def publish_meeting(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> MeetingOut:
        """Make a draft public: on the site, in the calendar feeds, open to sign-ups.
        Facilitators of the meeting's council and administrators. The council's subscribers
        get an announcement email. Publishing a published meeting changes nothing."""
        return MeetingOut.of(await meetings.publish_meeting(viewer, meeting_id))

    @post(
        "/{meeting_id:int}/cancel",
        status_code=HTTP_200_OK,
        security=BEARER_SECURITY,
        **operation(
            "cancelMeeting",
            "Cancel a meeting",
            *JSON_BODY,
            *MEETING_WRITE,
            answers=_meeting(HTTP_200_OK, "The meeting, cancelled"),
        ),
    )
    async def cancel_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        data: Annotated[CancelIn | None, Body(examples=[examples.MEETING_CANCEL])] = None,
    ) -> MeetingOut:
        """Cancel, optionally with `{"reason": "…"}` (up to 1000 characters), which the
        meeting's page and the cancellation email show; no body cancels without one.
        Facilitators of the meeting's council and administrators. The meeting stays
        visible, marked cancelled; its registrants and subscribers get a cancellation email
        (registrants with a calendar CANCEL). Cancelling twice changes nothing."""
        reason = data.reason if data is not None else None
        return MeetingOut.of(await meetings.cancel_meeting(viewer, meeting_id, reason))

    @delete(
        "/{meeting_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER_SECURITY,
        **operation("deleteMeeting", "Delete a meeting", *MEETING_WRITE, CANCEL_INSTEAD),
    )
    async def delete_meeting(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> None:
        """Delete a draft (facilitators of its council, administrators). A published or
        cancelled meeting only an administrator deletes (calendar apps keep an event that
        vanishes: cancel it instead); a published one's registrants first get the
        cancellation email, as if it had been cancelled."""
        await meetings.delete_meeting(viewer, meeting_id)
