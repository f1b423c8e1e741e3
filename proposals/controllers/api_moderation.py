"""The facilitators' proposals API under /api/v1 (bearer token): a council's proposals in any
status, one proposal with its whole history, moderation (publish, reject with a reason), a
new status, the official answer, typo edits, merges, a meeting's agenda, the café quick
entry and the CSV export. Thin: every rule, audit line and email is the services'
(`proposals/services/`), as for the back-office pages.

Its paths keep clear of the public proposals API (`/councils/{slug}/proposals`,
`/proposals/{id}`, `/proposals/{id}/supports`): a council's whole list is
`.../proposals/all`, one proposal as its moderators see it `/proposals/{id}/moderation`.

The answers carry the author's address (`email`): only a facilitator of the proposal's
council (or an administrator) gets them, as in the back-office and its CSV, since they
contact authors (a café entry's, a rejected one's); never a confirmation token's digest.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, patch, post, put
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
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, Struct, UnsetType

from conseils import db, urls
from conseils.errors import InvalidInput
from conseils.viewer import FacilitatorView
from conseils.web.api_spec import BEARER, INVALID, JSON_BODY, Reason, operation
from conseils.web.headers import NO_STORE
from conseils.web.shapes import present, shape_of
from meetings.controllers.reasons import COUNCIL_NOT_FOUND, MEETING_NOT_FOUND, NOT_YOUR_COUNCIL
from meetings.schemas import given_fields
from meetings.services import councils
from proposals.services import agenda, common, editing, entry, export, moderation

# ---------------------------------------------------------------- reasons

PROPOSAL_NOT_FOUND = Reason(404, "proposal_not_found", "no proposal has this id")
INVALID_TRANSITION = Reason(
    409,
    "invalid_transition",
    "the proposal's status does not lead to the one asked (a pending one is published or "
    "rejected; afterwards it moves among published, under_study, accepted, declined, done)",
)
NOT_ANSWERABLE = Reason(
    409, "not_answerable", "the proposal is not public (pending, rejected, merged): no answer"
)
PROPOSAL_MERGED = Reason(
    409, "proposal_merged", "the proposal was merged: change the one it was merged into"
)
NOT_MERGEABLE = Reason(
    409,
    "not_mergeable",
    "one of the two is merged already or unconfirmed, or the survivor is rejected",
)
OTHER_COUNCIL_PROPOSAL = Reason(
    409, "other_council_proposal", "the two proposals belong to different councils"
)
OTHER_COUNCIL_MEETING = Reason(
    409, "other_council_meeting", "the proposal is not of the meeting's council"
)
NOT_ON_AGENDA_YET = Reason(
    409, "not_on_agenda_yet", "only a published (or later) proposal goes on an agenda"
)
AGENDA_FULL = Reason(409, "agenda_full", "the agenda holds 100 proposals already")

# What every operation on one proposal answers: the token, the proposal, the council.
ONE_PROPOSAL = (*BEARER, NOT_YOUR_COUNCIL, PROPOSAL_NOT_FOUND)
ONE_COUNCIL = (*BEARER, NOT_YOUR_COUNCIL, COUNCIL_NOT_FOUND)
ON_AGENDA = (*BEARER, NOT_YOUR_COUNCIL, MEETING_NOT_FOUND)
BEARER_SECURITY = [{"bearer": []}]

ProposalId = Annotated[int, PathParameter(description="Proposal id")]
MeetingId = Annotated[int, PathParameter(description="Meeting id")]
Slug = Annotated[str, PathParameter(description="The council's slug, as in its page's address")]
AnyId = Annotated[int, Meta(ge=1, le=db.MAX_ID)]

# ---------------------------------------------------------------- shapes

ProposalOut = shape_of(
    moderation.OfficeProposal,
    "ModeratedProposalOut",
    add={
        "council": str,
        "status_label": str,
        "public_author": str,
        "moves": list[str],
        "url": str,
    },
)


class ModeratedProposalPage(Struct):
    items: list[ProposalOut]  # type: ignore[valid-type]
    total: int
    limit: int
    offset: int


HistoryLineOut = shape_of(common.HistoryLine, "ProposalHistoryLineOut")


class AgendaMeetingOut(Struct):
    id: int
    title: str
    starts_at: datetime
    status: str
    position: int


class ModeratedProposalRecord(Struct):
    """One proposal with every line of its history (moderation notes and edits included)
    and the meetings whose agenda holds it."""

    proposal: ProposalOut  # type: ignore[valid-type]
    history: list[HistoryLineOut]  # type: ignore[valid-type]
    agendas: list[AgendaMeetingOut]


class AgendaItemOut(Struct):
    proposal_id: int
    title: str
    theme: str
    status: str
    position: int


class MergedOut(Struct):
    merged: ProposalOut  # type: ignore[valid-type]
    survivor: ProposalOut  # type: ignore[valid-type]


class CollectedPage(Struct):
    items: list[ProposalOut]  # type: ignore[valid-type]


class RejectIn(Struct, forbid_unknown_fields=True):
    """Why: emailed to the author (required, up to 2,000 characters)."""

    reason: str


class StatusIn(Struct, forbid_unknown_fields=True):
    status: str
    reason: str = ""  # required for `rejected` only


class AnswerIn(Struct, forbid_unknown_fields=True):
    answer: str
    answer_role: str
    publish: bool = False
    answered_on: date | None = None


class EditIn(Struct, forbid_unknown_fields=True):
    """Only the fields present are corrected."""

    title: str | UnsetType = UNSET
    body: str | UnsetType = UNSET
    theme: str | UnsetType = UNSET


class MergeIn(Struct, forbid_unknown_fields=True):
    into: AnyId  # the survivor


class AgendaIn(Struct, forbid_unknown_fields=True):
    position: int | None = None  # 1 is first; none: last


class CollectedIn(Struct, forbid_unknown_fields=True):
    title: str
    theme: str
    body: str = ""
    author_name: str = ""
    email: str = ""
    show_name: bool = False


class CollectIn(Struct, forbid_unknown_fields=True):
    proposals: list[CollectedIn]


# ---------------------------------------------------------------- helpers


async def _slugs() -> dict[int, str]:
    return {c.id: c.slug for c in await councils.list_councils()}


def _out(proposal: moderation.OfficeProposal, slugs: dict[int, str]) -> Any:
    return present(
        ProposalOut,
        proposal,
        council=slugs.get(proposal.council_id, ""),
        moves=list(proposal.moves),
        url=urls.proposal_url(proposal.id),
    )


async def _one(proposal: moderation.OfficeProposal) -> Any:
    return _out(proposal, await _slugs())


_ROW_FIELD = re.compile(r"^([a-z_]+)-(\d+)$")


def _api_errors(exc: InvalidInput) -> InvalidInput:
    """The quick entry's form errors (`title-3`, `rows`, `form_key`) named as the API's body
    and header are (`proposals[2].title`, `proposals`, `Idempotency-Key`)."""
    named = {}
    for key, reason in exc.errors.items():
        found = _ROW_FIELD.match(key)
        if found:
            key = f"proposals[{int(found[2]) - 1}].{found[1]}"
        elif key == "rows":
            key = "proposals"
        elif key == "form_key":
            key, reason = "Idempotency-Key", f"1 à {entry.MAX_FORM_KEY} caractères imprimables"
        named[key] = reason
    return InvalidInput(named)


def _proposal(status: int, description: str) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(ProposalOut, description=description)}


# ---------------------------------------------------------------- the controller


class ProposalOfficeApi(Controller):
    tags = ["moderation"]
    security = BEARER_SECURITY

    @get(
        "/councils/{slug:str}/proposals/all",
        cache_control=NO_STORE,
        **operation(
            "listCouncilProposalsForModeration",
            "List a council's proposals in any status",
            INVALID,
            *ONE_COUNCIL,
        ),
    )
    async def list_all(
        self,
        viewer: NamedDependency[FacilitatorView],
        slug: Slug,
        status: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> ModeratedProposalPage:
        """A council's proposals, newest first, in every status but `unconfirmed` (no one
        vouched for them yet), or in the one `status` given (`pending` is the moderation
        queue). Facilitators of the council and administrators; with the author's address
        (personal data: never cached). `total` counts every match; page with `limit` (1 to
        200) and `offset`."""
        council = await moderation.require_council(viewer, slug)
        found, total = await moderation.of_council(
            viewer, council["id"], status=status, limit=limit, offset=offset
        )
        slugs = {council["id"]: council["slug"]}
        return ModeratedProposalPage([_out(p, slugs) for p in found], total, limit, offset)

    @get(
        "/councils/{slug:str}/proposals.csv",
        cache_control=NO_STORE,
        media_type="text/csv; charset=utf-8",
        **operation("exportProposalsCsv", "Export a council's proposals as CSV", *ONE_COUNCIL),
    )
    async def export_csv(
        self, viewer: NamedDependency[FacilitatorView], slug: Slug
    ) -> Response[bytes]:
        """The same proposals as a spreadsheet opens them in French: UTF-8 with a BOM, `;`
        between fields, French column titles, every cell residents typed neutralised (a
        formula is quoted). Facilitators of the council and administrators."""
        council = await moderation.require_council(viewer, slug)
        return Response(
            await export.council_csv(viewer, council["id"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="propositions-{slug}.csv"'},
        )

    @get(
        "/proposals/{proposal_id:int}/moderation",
        cache_control=NO_STORE,
        **operation("getProposalForModeration", "Get a proposal as its moderators see it",
                    *ONE_PROPOSAL),
    )  # fmt: skip
    async def get_one(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: ProposalId
    ) -> ModeratedProposalRecord:
        """One proposal in any status, with the author's address, its whole dated history
        (moderation notes and edits, whose note holds the replaced values as JSON, included)
        and the meetings whose agenda holds it. Facilitators of its council and
        administrators."""
        proposal = await moderation.get_for(viewer, proposal_id)
        history = await common.history(proposal_id, public_only=False, private_notes=True)
        meetings = await agenda.meetings_of(proposal_id)
        return ModeratedProposalRecord(
            await _one(proposal),
            [present(HistoryLineOut, line) for line in history],
            [
                present(
                    AgendaMeetingOut, None, **{k: m[k] for k in AgendaMeetingOut.__struct_fields__}
                )
                for m in meetings
            ],
        )

    @patch(
        "/proposals/{proposal_id:int}/moderation",
        **operation("editProposal", "Correct a proposal's title, text or theme", *JSON_BODY,
                    *ONE_PROPOSAL, PROPOSAL_MERGED, answers=_proposal(200, "As corrected")),
    )  # fmt: skip
    async def edit(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: ProposalId,
        data: JSONBody[EditIn],
    ) -> Any:
        """Correct a typo: the fields given (`title` up to 150 characters, `body` up to
        5,000, `theme` one of the list), the others unchanged. The history keeps what was
        replaced (a private line); nothing changed, nothing recorded. No email is sent; an
        agenda showing the title is updated."""
        await moderation.get_for(viewer, proposal_id)
        return await _one(await editing.edit(viewer, proposal_id, **given_fields(data)))

    @post(
        "/proposals/{proposal_id:int}/publish",
        status_code=HTTP_200_OK,
        **operation("publishProposal", "Publish a pending proposal", *ONE_PROPOSAL,
                    INVALID_TRANSITION, answers=_proposal(200, "The proposal, published")),
    )  # fmt: skip
    async def publish(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: ProposalId
    ) -> Any:
        """Publish a pending proposal (or one rejected by mistake): it shows on the
        council's pages and feeds, and its author is told by email. Publishing a published
        one changes nothing. Facilitators of its council and administrators."""
        await moderation.get_for(viewer, proposal_id)
        return await _one(await moderation.publish(viewer, proposal_id))

    @post(
        "/proposals/{proposal_id:int}/reject",
        status_code=HTTP_200_OK,
        **operation("rejectProposal", "Reject a pending proposal, with a reason", *JSON_BODY,
                    *ONE_PROPOSAL, INVALID_TRANSITION,
                    answers=_proposal(200, "The proposal, rejected")),
    )  # fmt: skip
    async def reject(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: ProposalId,
        data: JSONBody[RejectIn],
    ) -> Any:
        """Refuse a pending proposal; `reason` (required, up to 2,000 characters) is
        emailed to its author and kept in the private history. Rejecting a rejected one
        changes nothing. Facilitators of its council and administrators."""
        await moderation.get_for(viewer, proposal_id)
        return await _one(await moderation.reject(viewer, proposal_id, data.reason))

    @post(
        "/proposals/{proposal_id:int}/status",
        status_code=HTTP_200_OK,
        **operation("setProposalStatus", "Change a proposal's status", *JSON_BODY,
                    *ONE_PROPOSAL, INVALID_TRANSITION,
                    answers=_proposal(200, "The proposal in its new status")),
    )  # fmt: skip
    async def set_status(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: ProposalId,
        data: JSONBody[StatusIn],
    ) -> Any:
        """Move a proposal: a pending one to `published` or `rejected` (with a `reason`),
        a published one among `published`, `under_study`, `accepted`, `declined` and `done`
        (`moves` in a proposal lists the statuses it may take). The author and the
        supporters who asked are told by email. The status it has already: nothing changes.
        Facilitators of its council and administrators."""
        await moderation.get_for(viewer, proposal_id)
        if data.status == "rejected":
            return await _one(await moderation.reject(viewer, proposal_id, data.reason))
        if data.reason:
            raise InvalidInput({"reason": "seul un refus a un motif"})
        return await _one(await moderation.change_status(viewer, proposal_id, data.status))

    @put(
        "/proposals/{proposal_id:int}/answer",
        **operation("writeProposalAnswer", "Write or publish the official answer", *JSON_BODY,
                    *ONE_PROPOSAL, NOT_ANSWERABLE,
                    answers=_proposal(200, "The proposal with its answer")),
    )  # fmt: skip
    async def answer(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: ProposalId,
        data: JSONBody[AnswerIn],
    ) -> Any:
        """Save the official answer of a public proposal (`answer`, Markdown, up to 10,000
        characters) and who gives it (`answer_role`, e.g. "Le bureau du conseil"). With
        `publish: true` it becomes public, dated `answered_on` (today by default; a past
        day for an answer given at a meeting; never a day to come), and the author and the
        supporters who asked receive it by email, once: a correction later is recorded,
        not sent again. Without, it stays a draft (until it was published once). Sending
        the same answer again changes nothing. Facilitators of its council and
        administrators."""
        await moderation.get_for(viewer, proposal_id)
        return await _one(
            await moderation.write_answer(
                viewer,
                proposal_id,
                text=data.answer,
                role=data.answer_role,
                publish=data.publish,
                answered_on=data.answered_on,
            )
        )

    @post(
        "/proposals/{proposal_id:int}/merge",
        status_code=HTTP_200_OK,
        **operation("mergeProposal", "Merge a duplicate into another proposal", *JSON_BODY,
                    *ONE_PROPOSAL, NOT_MERGEABLE, OTHER_COUNCIL_PROPOSAL),
    )  # fmt: skip
    async def merge(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: ProposalId,
        data: JSONBody[MergeIn],
    ) -> MergedOut:
        """Fold this proposal (a duplicate) into proposal `into`, of the same council: it
        becomes `merged`, points to the survivor (`merged_into`) and its page says so; its
        supports move over without counting an address twice; its agenda places go to the
        survivor. Both must be yours (403 otherwise; 404 for an unknown `into`). No email
        is sent. Facilitators of their council and administrators."""
        await moderation.get_for(viewer, proposal_id)
        await moderation.get_for(viewer, data.into)
        merged, survivor = await editing.merge(viewer, proposal_id, data.into)
        slugs = await _slugs()
        return MergedOut(_out(merged, slugs), _out(survivor, slugs))

    @put(
        "/meetings/{meeting_id:int}/agenda/{proposal_id:int}",
        **operation("putProposalOnAgenda", "Put a proposal on a meeting's agenda", *JSON_BODY,
                    *ON_AGENDA, PROPOSAL_NOT_FOUND, OTHER_COUNCIL_MEETING, NOT_ON_AGENDA_YET,
                    AGENDA_FULL),
    )  # fmt: skip
    async def put_on_agenda(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        proposal_id: ProposalId,
        data: Annotated[AgendaIn | None, Body()] = None,
    ) -> list[AgendaItemOut]:
        """Put a published (or later) proposal of the meeting's council on its agenda
        ("Ordre du jour"), at `position` (1 is first; none: last), or move it there when it
        is on it already; the agenda afterwards, in order. The meeting's page and calendar
        event show it (its LAST-MODIFIED moves, not its SEQUENCE); no email is sent.
        Facilitators of the council and administrators."""
        position = data.position if data is not None else None
        items = await agenda.put_on(viewer, meeting_id, proposal_id, position)
        return [AgendaItemOut(i.proposal_id, i.title, i.theme, i.status, i.position) for i in items]

    @delete(
        "/meetings/{meeting_id:int}/agenda/{proposal_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        **operation("takeProposalOffAgenda", "Take a proposal off a meeting's agenda",
                    *ON_AGENDA),
    )  # fmt: skip
    async def take_off_agenda(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        proposal_id: ProposalId,
    ) -> None:
        """Take a proposal off the meeting's agenda (the others move up). One that is not
        on it: nothing changes (204 all the same). Facilitators of the meeting's council
        and administrators."""
        await agenda.take_off(viewer, meeting_id, proposal_id)

    @post(
        "/meetings/{meeting_id:int}/collected-proposals",
        status_code=HTTP_201_CREATED,
        **operation(
            "collectProposals",
            "Enter proposals collected at a meeting",
            *JSON_BODY,
            *ON_AGENDA,
            answers={
                HTTP_201_CREATED: ResponseSpec(CollectedPage, description="Created, published"),
                HTTP_200_OK: ResponseSpec(
                    CollectedPage,
                    description="A repeat with the same `Idempotency-Key`: the first ones",
                ),
            },
        ),
    )
    async def collect(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: MeetingId,
        data: JSONBody[CollectIn],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(name="Idempotency-Key", description="Repeat-safe creation"),
        ] = None,
    ) -> Response[CollectedPage]:
        """The proposals a café's paper board collected (1 to 30), typed in at once for
        that meeting: origin `collected_at_meeting`, created published (the facilitator
        read them with their authors), author optional ("Anonyme" publicly unless
        `show_name` with an `author_name`), `email` optional (the author is then told of
        the answer). Every error at once, named `proposals[i].field`, and then nothing is
        created. With an `Idempotency-Key`, a repeated request returns the proposals the
        first one created, with 200. Facilitators of the meeting's council and
        administrators."""
        if not data.proposals:
            raise InvalidInput({"proposals": "saisissez au moins une proposition"})
        rows = [entry.EntryRow(**given_fields(row)) for row in data.proposals]  # type: ignore[arg-type]
        try:
            ids, created = await entry.collect(
                viewer,
                meeting_id,
                rows,
                form_key=secrets.token_urlsafe(24) if idempotency_key is None else idempotency_key,
            )
        except InvalidInput as exc:
            raise _api_errors(exc) from None
        slugs = await _slugs()
        found = [_out(await moderation.get_for(viewer, i), slugs) for i in ids]
        return Response(
            CollectedPage(found), status_code=HTTP_201_CREATED if created else HTTP_200_OK
        )
