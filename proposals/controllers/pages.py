"""Residents' pages of the proposals (French, no JavaScript needed): a council's list, a
proposal's page, the submission form with its similar-proposals step, supports, and the
pages of the emailed links (a GET shows a button, the POST confirms: link previewers open
links, and must confirm nothing)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from conseils import changes, urls
from conseils.errors import InvalidInput, NotFound
from conseils.timefmt import next_paris_midnight, now_utc
from conseils.web.headers import NO_STORE
from conseils.web.page_cache import DependsOn, Page, RenderedLists, respond
from meetings.services import councils
from meetings.services.meetings import get_meeting
from proposals.controllers.atom import atom_document
from proposals.services import public, submissions
from proposals.services.common import (
    BODY_MAX,
    PROPOSAL_CHANGE,
    STATUS_LABELS,
    SUPPORT_CHANGE,
    THEMES,
    TITLE_MAX,
)

HONEYPOT = "site_web"
Form = URLEncodedBody[dict[str, str]]
SIMILAR_MIN_CHARS = 4
ATOM_TYPE = "application/atom+xml; charset=utf-8"

# Cached (per process, dropped by the change notices of `conseils.changes`): a council's
# list pages (the first `CACHED_PAGES` pages of each filter and sort, at most
# `VARIANTS_PER_COUNCIL` of them per council, the least recently asked going first) and
# its Atom feed; the proposals' own pages, kept apart so that lists never push them out.
CACHED_PAGES = 5
VARIANTS_PER_COUNCIL = 60
_lists = RenderedLists(
    1000,
    group=lambda key: key[1] if isinstance(key, tuple) and key[0] == "list" else None,
    per_group=VARIANTS_PER_COUNCIL,
)
_proposal_pages = RenderedLists(2000)
# A proposal's page shows its supports count, its public timeline and the meetings whose
# agenda has it (put on or taken off an agenda, a meeting renamed: a meeting's change).
PROPOSAL_PAGE_DEPENDS = (PROPOSAL_CHANGE, SUPPORT_CHANGE, changes.MEETING)


def _render(request: Request, template: str, context: dict[str, Any]) -> bytes:
    return request.app.template_engine.get_template(template).render(**context).encode()


def _page_number(value: int | None) -> int:
    return max(1, value or 1)


def _fields(data: dict[str, str]) -> dict[str, Any]:
    meeting = data.get("reunion", "").strip()
    return {
        "title": data.get("title", ""),
        "body": data.get("body", ""),
        "theme": data.get("theme", ""),
        "author_name": data.get("author_name", ""),
        "show_name": data.get("show_name") == "oui",
        "email": data.get("email", ""),
        "meeting_id": int(meeting) if meeting.isdigit() and len(meeting) < 11 else None,
    }


async def _form_context(
    slug: str, form: dict[str, str], errors: dict[str, str] | None = None
) -> dict[str, Any]:
    council = await councils.get_council(slug)
    meeting = None
    meeting_id = _fields(form)["meeting_id"]
    if meeting_id is not None:
        try:
            found = await get_meeting(meeting_id)
        except NotFound:  # a stale or foreign link: the form without it
            found = None
        meeting = found if found is not None and found.council_id == council.id else None
    return {
        "council": council,
        "meeting": meeting,
        "form": form,
        "errors": errors or {},
        "themes": THEMES,
        "title_max": TITLE_MAX,
        "body_max": BODY_MAX,
        "similar": [],
    }


class ProposalPages(Controller):
    include_in_schema = False

    @get("/conseils/{slug:str}/propositions")
    async def council_list(
        self,
        request: Request,
        slug: FromPath[str],
        statut: Annotated[str | None, QueryParameter(max_length=20)] = None,
        theme: Annotated[str | None, QueryParameter(max_length=40)] = None,
        tri: Annotated[str | None, QueryParameter(max_length=20)] = None,
        page: Annotated[int | None, QueryParameter(ge=1, le=100_000)] = None,
    ) -> Response:
        """A council's public proposals, filtered, sorted and paged, with its last twelve
        months' figures: rendered again only when a proposal or a support of its council
        changed (in any process), or at midnight (the figures' window moves)."""
        number = _page_number(page)
        sort = tri or "soutiens"

        async def render() -> Page:
            council = await councils.get_council(slug)
            items, total = await public.list_proposals(
                council,
                status=statut or None,
                theme=theme or None,
                sort=sort,
                limit=public.PER_PAGE,
                offset=(number - 1) * public.PER_PAGE,
            )
            now = now_utc()
            body = _render(
                request,
                "pages/proposals/list.html",
                {
                    "council": council,
                    "items": items,
                    "total": total,
                    "page": number,
                    "pages": max(1, -(-total // public.PER_PAGE)),
                    "selected": {"statut": statut or "", "theme": theme or "", "tri": sort},
                    "statuses": {s: STATUS_LABELS[s] for s in public.PUBLIC_STATUSES},
                    "themes": THEMES,
                    "sorts": public.SORTS,
                    "stats": await public.accountability(council.id, now),
                    "atom_url": urls.council_proposals_url(slug) + ".atom",
                },
            )
            depends = DependsOn({PROPOSAL_CHANGE, SUPPORT_CHANGE}, {council.id})
            return Page(next_paris_midnight(now), body, depends)

        if number > CACHED_PAGES:  # deep pages are rare: rendered each time, never kept
            return await respond(request, await render(), MediaType.HTML)
        key = ("list", slug, statut or None, theme or None, sort, number)
        return await respond(request, await _lists.fetch(key, render), MediaType.HTML)

    @get("/conseils/{slug:str}/propositions.atom")
    async def feed(self, request: Request, slug: FromPath[str]) -> Response:
        """Rendered again only when a proposal of the council changed (in any process)."""

        async def render() -> Page:
            council, entries = await public.feed_entries(slug)
            depends = DependsOn({PROPOSAL_CHANGE}, {council.id})
            return Page(None, atom_document(council, entries), depends)

        return await respond(request, await _lists.fetch(("atom", slug), render), ATOM_TYPE)

    @get("/conseils/{slug:str}/propositions/similaires", media_type=MediaType.JSON)
    async def similar_json(
        self,
        slug: FromPath[str],
        titre: Annotated[str, QueryParameter(max_length=TITLE_MAX * 2)] = "",
    ) -> dict[str, Any]:
        """For the form's script: similar public proposals while a title is typed."""
        council = await councils.get_council(slug)
        found = (
            await public.similar(council.id, titre)
            if len(titre.strip()) >= SIMILAR_MIN_CHARS
            else []
        )
        return {
            "items": [
                {
                    "id": s.id,
                    "title": s.title,
                    "status": s.status_label,
                    "supports": s.supports,
                    "url": f"/propositions/{s.id}",
                }
                for s in found
            ]
        }

    @get("/conseils/{slug:str}/propositions/nouvelle")
    async def form(
        self,
        slug: FromPath[str],
        reunion: Annotated[str | None, QueryParameter(max_length=12)] = None,
    ) -> Template:
        context = await _form_context(slug, {"reunion": reunion or ""})
        return Template("pages/proposals/form.html", context=context)

    @post("/conseils/{slug:str}/propositions/nouvelle", status_code=HTTP_200_OK)
    async def submit(self, slug: FromPath[str], data: Form) -> Template | Redirect:
        """First sending: the similar proposals of the council, if any, are shown to support
        one instead (a step that needs no script); "send anyway" sends it."""
        sent = Redirect(f"/conseils/{slug}/propositions/envoyee", status_code=303)
        if data.get(HONEYPOT):
            return sent  # a robot learns nothing: the answer everyone gets
        fields = _fields(data)
        try:
            await submissions.check(slug, fields)
        except InvalidInput as exc:
            context = await _form_context(slug, data, exc.errors)
            return Template("pages/proposals/form.html", context=context, status_code=400)
        if data.get("etape") != "confirmer":
            council = await councils.get_council(slug)
            similar = await public.similar(council.id, fields["title"])
            if similar:
                context = await _form_context(slug, data)
                context["similar"] = similar
                return Template("pages/proposals/form.html", context=context)
        await submissions.submit(slug, fields)
        return sent

    @get("/conseils/{slug:str}/propositions/envoyee")
    async def sent(self, slug: FromPath[str]) -> Template:
        council = await councils.get_council(slug)
        return Template("pages/proposals/sent.html", context={"council": council})

    @get("/propositions/{proposal_id:int}")
    async def proposal(self, request: Request, proposal_id: FromPath[int]) -> Response:
        """A proposal's page: rendered again only when something of its council that it
        may show changed (a proposal, a support, a meeting; in any process)."""

        async def render() -> Page:
            proposal = await public.get_proposal(proposal_id)
            body = _render(
                request,
                "pages/proposals/proposal.html",
                {"proposal": proposal, "form": {}, "errors": {}},
            )
            return Page(None, body, DependsOn(PROPOSAL_PAGE_DEPENDS, {proposal.council_id}))

        page = await _proposal_pages.fetch(proposal_id, render)
        return await respond(request, page, MediaType.HTML)

    @post("/propositions/{proposal_id:int}/soutien", status_code=HTTP_200_OK)
    async def support(self, proposal_id: FromPath[int], data: Form) -> Template | Redirect:
        sent = Redirect(f"/propositions/{proposal_id}/soutien/envoye", status_code=303)
        if data.get(HONEYPOT):
            return sent
        try:
            await submissions.request_support(
                proposal_id, data.get("email", ""), wants_news=data.get("wants_news") == "oui"
            )
        except InvalidInput as exc:
            proposal = await public.get_proposal(proposal_id)
            return Template(
                "pages/proposals/proposal.html",
                context={"proposal": proposal, "form": data, "errors": exc.errors},
                status_code=400,
            )
        return sent

    @get("/propositions/{proposal_id:int}/soutien/envoye")
    async def support_sent(self, proposal_id: FromPath[int]) -> Template:
        proposal = await public.get_proposal(proposal_id)
        return Template("pages/proposals/support_sent.html", context={"proposal": proposal})

    @get("/propositions/confirmer/{token:str}", cache_control=NO_STORE)
    async def confirm_page(self, request: Request, token: FromPath[str]) -> Template:
        confirmation = await submissions.proposal_to_confirm(token)
        return Template(
            "pages/proposals/confirm.html",
            context={"confirmation": confirmation, "token": token, "done": False},
        )

    @post("/propositions/confirmer/{token:str}", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def confirm(self, token: FromPath[str]) -> Template:
        confirmation = await submissions.confirm_proposal(token)
        return Template(
            "pages/proposals/confirm.html",
            context={"confirmation": confirmation, "token": token, "done": True},
        )

    @get("/soutiens/confirmer/{token:str}", cache_control=NO_STORE)
    async def support_confirm_page(self, token: FromPath[str]) -> Template:
        support = await submissions.support_to_confirm(token)
        return Template(
            "pages/proposals/support_confirm.html",
            context={"support": support, "token": token, "done": False},
        )

    @post("/soutiens/confirmer/{token:str}", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def support_confirm(self, token: FromPath[str]) -> Template:
        support = await submissions.confirm_support(token)
        return Template(
            "pages/proposals/support_confirm.html",
            context={"support": support, "token": token, "done": True},
        )
