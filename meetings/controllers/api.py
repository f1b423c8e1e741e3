"""The JSON API under /api/v1: councils and meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from conseils.validation import require_moment
from conseils.viewer import FacilitatorView
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

MeetingId = Annotated[int, PathParameter(description="Meeting id")]


class CouncilController(Controller):
    path = "/councils"
    tags = ["councils"]

    @get("/")
    async def list_councils(self) -> list[CouncilOut]:
        return [CouncilOut.of(council) for council in await councils.list_councils()]

    @get("/{slug:str}")
    async def get_council(self, slug: FromPath[str]) -> CouncilOut:
        return CouncilOut.of(await councils.get_council(slug))

    @post("/", status_code=HTTP_201_CREATED, security=[{"bearer": []}])
    async def create_council(
        self, admin: NamedDependency[FacilitatorView], data: JSONBody[CouncilIn]
    ) -> CouncilOut:
        """A new council (site admins only)."""
        return CouncilOut.of(await council_admin.create_council(admin, given_fields(data)))

    @patch("/{slug:str}", security=[{"bearer": []}])
    async def update_council(
        self,
        admin: NamedDependency[FacilitatorView],
        slug: FromPath[str],
        data: JSONBody[CouncilPatch],
    ) -> CouncilOut:
        """Change a council (site admins only); its slug only while it never published."""
        council_id = await council_admin.council_id_of(slug)
        return CouncilOut.of(
            await council_admin.update_council(admin, council_id, given_fields(data))
        )


class QuartierController(Controller):
    path = "/quartiers"
    tags = ["councils"]

    @get("/")
    async def list_quartiers(self) -> list[QuartierOut]:
        return [
            QuartierOut(q.slug, q.name, q.commune) for q in await council_admin.list_quartiers()
        ]

    @post("/", status_code=HTTP_201_CREATED, security=[{"bearer": []}])
    async def create_quartier(
        self, admin: NamedDependency[FacilitatorView], data: JSONBody[QuartierIn]
    ) -> QuartierOut:
        """A new quartier (site admins only)."""
        q = await council_admin.create_quartier(admin, given_fields(data))
        return QuartierOut(q.slug, q.name, q.commune)

    @patch("/{slug:str}", security=[{"bearer": []}])
    async def update_quartier(
        self,
        admin: NamedDependency[FacilitatorView],
        slug: FromPath[str],
        data: JSONBody[QuartierPatch],
    ) -> QuartierOut:
        """Change a quartier (site admins only); its slug only while its feed never held a
        meeting."""
        quartier_id = await council_admin.quartier_id_of(slug)
        q = await council_admin.update_quartier(admin, quartier_id, given_fields(data))
        return QuartierOut(q.slug, q.name, q.commune)


class MeetingController(Controller):
    path = "/meetings"
    tags = ["meetings"]

    @get("/")
    async def list_meetings(
        self,
        maybe_viewer: NamedDependency[FacilitatorView | None],
        council: FromQuery[str | None] = None,
        kind: FromQuery[Kind | None] = None,
        status: FromQuery[Status | None] = None,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> MeetingPage:
        """Meetings, soonest first. Drafts appear only to their facilitators."""
        items, total = await meetings.list_meetings(
            viewer=maybe_viewer,
            council=council,
            kind=kind,
            status=status,
            starts_from=require_moment("from", from_) if from_ else None,
            starts_before=require_moment("to", to) if to else None,
            limit=limit,
            offset=offset,
        )
        return MeetingPage([MeetingOut.of(m) for m in items], total, limit, offset)

    @get("/{meeting_id:int}")
    async def get_meeting(
        self, maybe_viewer: NamedDependency[FacilitatorView | None], meeting_id: MeetingId
    ) -> MeetingOut:
        return MeetingOut.of(await meetings.get_meeting(meeting_id, maybe_viewer))

    @post("/", status_code=HTTP_201_CREATED, security=[{"bearer": []}])
    async def create_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        data: JSONBody[MeetingIn],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(name="Idempotency-Key", description="Repeat-safe creation"),
        ] = None,
    ) -> Response[MeetingOut]:
        """Schedule a draft. With the same Idempotency-Key, a repeat returns the first (200)."""
        meeting, created = await meetings.create_meeting(
            viewer, given_fields(data), idempotency_key=idempotency_key
        )
        return Response(
            MeetingOut.of(meeting), status_code=HTTP_201_CREATED if created else HTTP_200_OK
        )

    @patch("/{meeting_id:int}", security=[{"bearer": []}])
    async def update_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        data: JSONBody[MeetingPatch],
    ) -> MeetingOut:
        return MeetingOut.of(await meetings.update_meeting(viewer, meeting_id, given_fields(data)))

    @post("/{meeting_id:int}/publish", status_code=HTTP_200_OK, security=[{"bearer": []}])
    async def publish_meeting(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> MeetingOut:
        return MeetingOut.of(await meetings.publish_meeting(viewer, meeting_id))

    @post("/{meeting_id:int}/cancel", status_code=HTTP_200_OK, security=[{"bearer": []}])
    async def cancel_meeting(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        data: JSONBody[CancelIn | None] = None,
    ) -> MeetingOut:
        """Cancel, optionally with `{"reason": "…"}` (up to 1000 characters), which the
        meeting's page and the cancellation email show; an empty body cancels without one."""
        reason = data.reason if data is not None else None
        return MeetingOut.of(await meetings.cancel_meeting(viewer, meeting_id, reason))

    @delete("/{meeting_id:int}", status_code=HTTP_204_NO_CONTENT, security=[{"bearer": []}])
    async def delete_meeting(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> None:
        """Delete a draft; a published meeting only by an administrator (cancel it instead)."""
        await meetings.delete_meeting(viewer, meeting_id)
