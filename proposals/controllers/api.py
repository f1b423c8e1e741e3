"""The public API of the proposals: read a council's proposals and one proposal (never an
address; the author's name only if they chose to show it), send one, support one. The two
writes answer 202 whatever happened: the confirmation link goes by email to the address
only, never in an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, PathParameter, QueryParameter
from litestar.serialization import encode_json
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Struct

from conseils.timefmt import to_paris
from conseils.web.api_spec import INVALID, JSON_BODY, PUBLIC_WRITE, JsonExample, Reason, operation
from conseils.web.page_cache import DependsOn, Page, RenderedLists, respond
from conseils.web.shapes import present, shape_of
from meetings.services import councils
from proposals.services import public, submissions
from proposals.services.common import PROPOSAL_CHANGE, PUBLIC_STATUSES, SUPPORT_CHANGE, THEMES

COUNCIL_NOT_FOUND = Reason(404, "council_not_found", "no council has this slug")
PROPOSAL_NOT_FOUND = Reason(
    404, "proposal_not_found", "no public proposal has this id (unconfirmed, pending and "
    "rejected ones are not public)"
)  # fmt: skip
# The answers of the list operation, by their parameters (they are the same for everyone:
# public proposals only), at most `ANSWERS_PER_COUNCIL` per council, least recently asked
# going first; dropped by any proposal or support change of the council, in any process.
ANSWERS_PER_COUNCIL = 60
_answers = RenderedLists(500, group=lambda key: key[0], per_group=ANSWERS_PER_COUNCIL)
RECEIVED_DETAIL = (
    "Demande enregistrée : un courriel part vers l'adresse indiquée, avec le lien qui la "
    "confirme (rien n'est compté ni publié sans lui)."
)

ProposalSummaryOut = shape_of(public.ProposalSummary, "ProposalSummaryOut")


class ProposalPageOut(Struct):
    items: list[ProposalSummaryOut]  # type: ignore[valid-type]
    total: int
    limit: int
    offset: int


class LinkedMeetingOut(Struct):
    id: int
    title: str
    starts_at: datetime


class TimelineLineOut(Struct):
    at: datetime
    action: str
    status_from: str
    status_to: str
    note: str


class ProposalOut(Struct):
    id: int
    council: str  # its slug
    title: str
    body: str  # Markdown
    theme: str
    status: str
    supports: int
    author: str
    published_at: datetime | None
    answer: str
    answer_role: str
    answered_at: datetime | None
    merged_into: int | None
    meetings: list[LinkedMeetingOut]
    timeline: list[TimelineLineOut]


class ProposalIn(Struct, forbid_unknown_fields=True):
    title: str
    body: str
    theme: str
    email: str
    author_name: str = ""
    show_name: bool = False
    meeting_id: int | None = None
    site_web: str = ""  # the honeypot: filled in by robots only, answered like anyone else


class SupportIn(Struct, forbid_unknown_fields=True):
    email: str
    wants_news: bool = False
    site_web: str = ""


class Received(Struct):
    status: Literal["received"]
    detail: str


PROPOSAL_IN = JsonExample(
    id="resident",
    summary="A resident's proposal",
    value={
        "title": "Des bancs le long du mail",
        "body": "Les personnes âgées n'ont nulle part où s'asseoir entre le marché et l'arrêt.",
        "theme": "cadre_de_vie",
        "email": "camille.martin@example.org",
        "author_name": "Camille Martin",
        "show_name": False,
    },
)
SUPPORT_IN = JsonExample(
    id="supporter",
    summary="A resident supports a proposal",
    value={"email": "camille.martin@example.org", "wants_news": True},
)
RECEIVED = JsonExample(
    id="received",
    summary="The one answer, whatever the address",
    value={"status": "received", "detail": RECEIVED_DETAIL},
)


def _received(description: str) -> dict[int, ResponseSpec]:
    return {
        HTTP_202_ACCEPTED: ResponseSpec(
            Received, description=description, examples=[RECEIVED], generate_examples=False
        )
    }


def _out(page: public.ProposalPage) -> ProposalOut:
    return ProposalOut(
        id=page.id,
        council=page.council_slug,
        title=page.title,
        body=page.body,
        theme=page.theme,
        status=page.status,
        supports=page.supports,
        author=page.author,
        published_at=to_paris(page.published_at) if page.published_at else None,
        answer=page.answer,
        answer_role=page.answer_role,
        answered_at=to_paris(page.answered_at) if page.answered_at else None,
        merged_into=page.merged_into,
        meetings=[LinkedMeetingOut(m.id, m.title, to_paris(m.starts_at)) for m in page.meetings],
        timeline=[
            TimelineLineOut(to_paris(t.at), t.action, t.status_from, t.status_to, t.note)
            for t in page.timeline
        ],
    )


CouncilSlug = Annotated[str, PathParameter(description="The council's slug")]
ProposalId = Annotated[int, PathParameter(description="Proposal id")]


class ProposalApi(Controller):
    tags = ["proposals"]

    @get(
        "/councils/{slug:str}/proposals",
        **operation(
            "listCouncilProposals", "List a council's proposals", INVALID, COUNCIL_NOT_FOUND
        ),
    )
    async def list_proposals(
        self,
        request: Request,
        slug: CouncilSlug,
        status: Annotated[
            Literal[PUBLIC_STATUSES] | None,  # type: ignore[valid-type]
            QueryParameter(description="Only the proposals in this status"),
        ] = None,
        theme: Annotated[
            Literal[tuple(THEMES)] | None,  # type: ignore[valid-type]
            QueryParameter(description="Only the proposals of this theme"),
        ] = None,
        sort: Annotated[
            Literal["supports", "newest", "answered"],
            QueryParameter(description="Most supported, newest, or most recently answered"),
        ] = "supports",
        limit: Annotated[int, QueryParameter(ge=1, le=public.MAX_PAGE_SIZE)] = public.PER_PAGE,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[ProposalPageOut]:
        """A council's public proposals (published, under study, accepted, declined, done),
        without any address; the author's name only if they chose to show it (otherwise
        "Une habitante ou un habitant", or "Anonyme" for those collected at a café).
        `answered` lists only those with an official answer. Anyone may call."""

        async def render() -> Page:
            council = await councils.get_council(slug)
            items, total = await public.list_proposals(
                council,
                status=status,
                theme=theme,
                sort={"supports": "soutiens", "newest": "recentes", "answered": "reponses"}[sort],
                limit=limit,
                offset=offset,
            )
            body = encode_json(
                ProposalPageOut(
                    [present(ProposalSummaryOut, i) for i in items], total, limit, offset
                )
            )
            return Page(None, body, DependsOn({PROPOSAL_CHANGE, SUPPORT_CHANGE}, {council.id}))

        page = await _answers.fetch((slug, status, theme, sort, limit, offset), render)
        return await respond(request, page, MediaType.JSON)

    @get(
        "/proposals/{proposal_id:int}",
        **operation("getProposal", "Read a proposal", PROPOSAL_NOT_FOUND),
    )
    async def get_proposal(self, proposal_id: ProposalId) -> ProposalOut:
        """A public proposal with its answer, the meetings that discuss it and its public
        timeline; a merged one names the survivor (`merged_into`). Anyone may call."""
        return _out(await public.get_proposal(proposal_id))

    @post(
        "/councils/{slug:str}/proposals",
        status_code=HTTP_202_ACCEPTED,
        **operation(
            "submitProposal",
            "Send a proposal to a council",
            *JSON_BODY,
            *PUBLIC_WRITE,
            COUNCIL_NOT_FOUND,
            answers=_received("Received: the confirmation link goes by email to the address"),
        ),
    )
    async def submit(
        self,
        slug: CouncilSlug,
        data: Annotated[ProposalIn, Body(examples=[PROPOSAL_IN])],
    ) -> Received:
        """Send a proposal (anyone may call; no token): title (150 characters at most), text
        (Markdown, 5,000 at most), `theme` (one of `cadre_de_vie`, `proprete`, `jeunesse`,
        `emploi_formation`, `sante`, `culture_sport`, `securite_tranquillite`, `mobilite`,
        `autre`), the author's address and, optionally, name (shown only with
        `show_name`) and a meeting of that council. Always 202 `received`: a link that
        confirms it goes by email to the address, and until it is opened the proposal is
        seen by no one; then the facilitators moderate it. The same proposal sent again
        (same council, address, title and text) is one proposal and one email."""
        if not data.site_web:
            await submissions.submit(
                slug,
                {
                    "title": data.title,
                    "body": data.body,
                    "theme": data.theme,
                    "email": data.email,
                    "author_name": data.author_name,
                    "show_name": data.show_name,
                    "meeting_id": data.meeting_id,
                },
            )
        else:
            await councils.get_council(slug)  # a robot hears what a person would
        return Received("received", RECEIVED_DETAIL)

    @post(
        "/proposals/{proposal_id:int}/supports",
        status_code=HTTP_202_ACCEPTED,
        **operation(
            "supportProposal",
            "Support a proposal",
            *JSON_BODY,
            *PUBLIC_WRITE,
            PROPOSAL_NOT_FOUND,
            answers=_received("Received: the confirmation link goes by email to the address"),
        ),
    )
    async def support(
        self,
        proposal_id: ProposalId,
        data: Annotated[SupportIn, Body(examples=[SUPPORT_IN])],
    ) -> Received:
        """ "Je soutiens" (anyone may call; no token): one support per address and public
        proposal, counted once the link emailed to the address is opened; `wants_news`:
        the address is told when the status changes or the answer comes. Always 202
        `received`, whether the address supported it already or not."""
        if not data.site_web:
            await submissions.request_support(proposal_id, data.email, wants_news=data.wants_news)
        return Received("received", RECEIVED_DETAIL)
