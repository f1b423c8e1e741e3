"""Minutes in the JSON API, the facilitators' side (/api/v1/minutes): create, read (drafts
too), edit, attach the PDF (multipart, read as a stream), the proposals discussed, publish,
the "mise à jour" email, delete a draft. Thin: every rule is in `minutes.services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, RequestBody, Schema
from litestar.params import Body, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Struct, UnsetType

from conseils.viewer import FacilitatorView
from conseils.web.abuse import UPLOAD
from conseils.web.api_spec import (
    ADMIN_ONLY,
    BEARER,
    INVALID,
    JSON_BODY,
    ApiOperation,
    Reason,
    operation,
)
from minutes.controllers.api import NOT_YOUR_COUNCIL, UPLOAD_TOO_LARGE
from minutes.files import MAX_MEGABYTES
from minutes.services import common, editing, publishing
from minutes.uploads import MAX_BODY, Upload, read_form

MinutesId = Annotated[int, PathParameter(description="Minutes id")]
BEARER_SECURITY = [{"bearer": []}]
NOT_FOUND = Reason(404, "minutes_not_found", "no such minutes")
ALL_ADMIN_ONLY = Reason(
    ADMIN_ONLY.status, ADMIN_ONLY.code, "minutes of every council (no council): administrators only"
)
EXIST = Reason(409, "minutes_exist", "that meeting, or that month of that council, has minutes")
PUBLISHED = Reason(409, "minutes_published", "published minutes are unpublished before deletion")
NOT_PUBLISHED = Reason(409, "minutes_not_published", "an update email needs published minutes")
WRITE = (*BEARER, NOT_YOUR_COUNCIL, ALL_ADMIN_ONLY, NOT_FOUND)


class DiscussedOut(Struct):
    proposal: int
    title: str
    status_given: str  # "": left as it was
    current_status: str
    note: str
    applied: bool  # the status was given to the proposal (at publication)


class MinutesOut(Struct):
    id: int
    council: str | None  # the council's slug; null: every council
    meeting: int | None
    month: date | None
    title: str
    summary: str
    body: str  # Markdown
    decisions: list[str]
    attendance: int | None
    status: str  # draft, published
    filename: str | None
    size: int | None
    pages: int | None
    url: str  # the public page
    published_at: datetime | None
    updates_sent: int
    covered_meetings: list[int]
    proposals: list[DiscussedOut]

    @classmethod
    def of(cls, m: common.MinutesView) -> MinutesOut:
        return cls(
            id=m.id, council=m.council_slug, meeting=m.meeting_id, month=m.month, title=m.title,
            summary=m.summary, body=m.body, decisions=m.decision_lines, attendance=m.attendance,
            status=m.status, filename=m.filename or None, size=m.size, pages=m.pages, url=m.url,
            published_at=m.published_at, updates_sent=m.updates_sent,
            covered_meetings=list(m.covered_meeting_ids),
            proposals=[
                DiscussedOut(p.proposal_id, p.title, p.status, p.current_status, p.note, p.applied)
                for p in m.proposals
            ],
        )  # fmt: skip


class MinutesCreate(Struct, forbid_unknown_fields=True):
    meeting: int | None = None  # minutes of this meeting (published, started)
    month: str | None = None  # or of this month (AAAA-MM) ...
    council: str = ""  # ... of this council (a slug; "" every council: administrators)
    title: str = ""  # a default from the meeting or the month
    summary: str = ""
    body: str = ""
    decisions: str = ""  # one per line
    attendance: int | None = None  # default: the attendance recorded
    form_key: str = ""  # the same key again returns the first minutes (200)


class MinutesEdit(Struct, forbid_unknown_fields=True):
    title: str
    summary: str = ""
    body: str = ""
    decisions: str = ""
    attendance: int | None = None


class DiscussedIn(Struct, forbid_unknown_fields=True):
    proposal: int
    status: str = ""  # published, under_study, accepted, declined, done; "": unchanged
    note: str = ""


class UpdateAsk(Struct, forbid_unknown_fields=True):
    expected: int | UnsetType = UNSET  # the update's number (updates_sent + 1): repeat-safe


def _fields(data: Annotated[MinutesCreate, Body()] | MinutesEdit) -> dict[str, str]:
    fields = {
        "title": data.title,
        "summary": data.summary,
        "body": data.body,
        "decisions": data.decisions,
        "attendance": "" if data.attendance is None else str(data.attendance),
    }
    if isinstance(data, MinutesCreate):
        fields.update(
            meeting="" if data.meeting is None else str(data.meeting),
            month=data.month or "",
            council=data.council,
        )
        if data.attendance is None:
            del fields["attendance"]
    return fields


FILE_SCHEMA = Schema(
    type="object",  # type: ignore[arg-type]
    required=["file"],
    properties={
        "file": Schema(
            type="string",  # type: ignore[arg-type]
            format="binary",
            description=f"The PDF, {MAX_MEGABYTES} MB at most, not encrypted",
        )
    },
)


@dataclass
class FileOperation(ApiOperation):
    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=FILE_SCHEMA)}, required=True
        )
        super().__post_init__()


class MinutesController(Controller):
    path = "/minutes"
    tags = ["minutes"]
    security = BEARER_SECURITY

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        **operation(
            "createMinutes", "Write minutes (a draft)", *JSON_BODY, *BEARER, NOT_YOUR_COUNCIL,
            ALL_ADMIN_ONLY, EXIST,
        ),
    )  # fmt: skip
    async def create_minutes(
        self, viewer: NamedDependency[FacilitatorView], data: Annotated[MinutesCreate, Body()]
    ) -> MinutesOut:
        """Draft minutes of a meeting of your council (once it started: `meeting`), or a
        monthly bundle (`month`, of `council`; no council: every council, administrators
        only) covering that month's published meetings. Attendance defaults to the
        attendance recorded. Titles ≤ 200 characters, summaries ≤ 1,000."""
        made, _ = await editing.create(viewer, _fields(data), form_key=data.form_key)
        return MinutesOut.of(made)

    @get("/{minutes_id:int}/editing", **operation("getMinutesForEditing", "Read minutes", *BEARER,
         NOT_YOUR_COUNCIL, ALL_ADMIN_ONLY, NOT_FOUND))  # fmt: skip
    async def get_minutes(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: MinutesId
    ) -> MinutesOut:
        """Minutes as their facilitators see them, drafts included."""
        return MinutesOut.of(await common.get_own(viewer, minutes_id))

    @patch("/{minutes_id:int}", **operation("updateMinutes", "Edit minutes", *JSON_BODY, *WRITE))
    async def update_minutes(
        self,
        viewer: NamedDependency[FacilitatorView],
        minutes_id: MinutesId,
        data: Annotated[MinutesEdit, Body()],
    ) -> MinutesOut:
        """Change the text of minutes, draft or published; nobody is emailed."""
        return MinutesOut.of(await editing.update(viewer, minutes_id, _fields(data)))

    @post(
        "/{minutes_id:int}/file",
        status_code=HTTP_200_OK,
        request_max_body_size=MAX_BODY,
        opt={UPLOAD: True},
        **{
            **operation("uploadMinutesFile", "Attach the PDF", INVALID, *WRITE, UPLOAD_TOO_LARGE),
            "operation_class": FileOperation,
        },
    )
    async def upload_file(
        self, request: Request, viewer: NamedDependency[FacilitatorView], minutes_id: MinutesId
    ) -> MinutesOut:
        """Attach the minutes' PDF, or replace it (`multipart/form-data`, field `file`): a
        real PDF, not encrypted, not empty, at most 20 MB, or 400 on `file`."""
        upload = Upload()

        async def before_file(_: dict[str, str]) -> None:
            await editing.check_permission(viewer, minutes_id)

        async with read_form(request, upload, before_file=before_file):
            return MinutesOut.of(await editing.attach(viewer, minutes_id, upload.file))

    @put(
        "/{minutes_id:int}/proposals",
        **operation("setMinutesProposals", "Record the proposals discussed", *JSON_BODY, *WRITE),
    )
    async def set_proposals(
        self,
        viewer: NamedDependency[FacilitatorView],
        minutes_id: MinutesId,
        data: Annotated[list[DiscussedIn], Body()],
    ) -> MinutesOut:
        """The proposals discussed (public proposals of the councils concerned), each with
        the status given; set on the proposals when the minutes publish (at once if they
        are), through the proposals' own rules (history, followers' emails)."""
        items = [(item.proposal, item.status, item.note) for item in data]
        return MinutesOut.of(await editing.set_proposals(viewer, minutes_id, items))

    @post(
        "/{minutes_id:int}/publish",
        status_code=HTTP_200_OK,
        **operation("publishMinutes", "Publish minutes", INVALID, *WRITE),
    )
    async def publish_minutes(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: MinutesId
    ) -> MinutesOut:
        """Publish: the search indexes them, and the first time only everyone concerned is
        emailed once (the meeting's confirmed registrants and attendees, the councils'
        confirmed subscribers). Publishing again sends nothing."""
        return MinutesOut.of(await publishing.publish(viewer, minutes_id))

    @post(
        "/{minutes_id:int}/update-email",
        status_code=HTTP_200_OK,
        **operation(
            "sendMinutesUpdate", 'Email a "mise à jour"', *JSON_BODY, *WRITE, NOT_PUBLISHED
        ),
    )
    async def send_update(
        self,
        viewer: NamedDependency[FacilitatorView],
        minutes_id: MinutesId,
        data: Annotated[UpdateAsk, Body()],
    ) -> MinutesOut:
        """Email everyone concerned again about published minutes. With `expected` (the
        update's number, `updates_sent` + 1), a repeated request sends nothing more."""
        expected = None if isinstance(data.expected, UnsetType) else data.expected
        found, _ = await publishing.send_update(viewer, minutes_id, expected=expected)
        return MinutesOut.of(found)

    @delete(
        "/{minutes_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        **operation("deleteMinutes", "Delete draft minutes", *WRITE, PUBLISHED),
    )
    async def delete_minutes(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: MinutesId
    ) -> None:
        """Delete draft minutes (published ones: 409, unpublish them first)."""
        await editing.delete(viewer, minutes_id)
