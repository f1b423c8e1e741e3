"""Residents' pages of the minutes (French, no JavaScript needed): the lists by year and
month (all councils, one council), a bundle's own page, the PDFs, the search, the Atom
feeds; and what the minutes add to the meetings app's pages (`MEETING_PAGE`,
`COUNCIL_PAGE`). Every read goes through `minutes.public` (published minutes only).

A meeting's minutes have no page of their own: `/comptes-rendus/{id}` redirects to the
meeting's page, where they are shown ("Compte rendu" section). One page, one cache entry
(dropped by the minutes' change notice, which names the meeting), one address for search
engines, and the meeting's facts (date, place, agenda) beside what was said.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from markupsafe import Markup

from conseils import atom
from conseils.errors import InvalidInput, NotFound
from conseils.web.page_cache import DependsOn, Page, RenderedLists, respond
from conseils.web.templating import template_environment
from meetings.services import councils
from meetings.services.councils import CouncilView
from meetings.services.meetings import MeetingView
from meetings.slots import PageSection
from minutes import public
from minutes.files import pdf_response

COUNCIL_LATEST = 5
_lists = RenderedLists()  # the lists and feeds, by council; dropped by "minutes" changes
_environment = None


def _template(name: str) -> Any:
    global _environment
    if _environment is None:
        _environment = template_environment()
    return _environment.get_template(name)


# ---------------------------------------------------------------- other apps' pages


async def meeting_section(meeting: MeetingView) -> PageSection | None:
    """The meeting page's "Compte rendu": its own minutes in full, or a link to the month's
    bundle that covers it."""
    found = await public.of_meetings([meeting.id])
    minutes = found.get(meeting.id)
    if minutes is None:
        return None
    own = minutes.meeting_id == meeting.id
    if own:
        minutes = await public.get_minutes(minutes.id)
    html = _template("pages/minutes/_meeting_section.html").render(m=minutes, own=own)
    return PageSection(public.SECTION_TITLE, Markup(html), public.ANCHOR)  # noqa: S704


async def council_section(council: CouncilView) -> PageSection | None:
    """The council page's latest minutes and the links to all of them and to the search."""
    latest = await public.list_published(council_id=council.id, limit=COUNCIL_LATEST)
    if not latest:
        return None
    html = _template("pages/minutes/_council_section.html").render(latest=latest, council=council)
    return PageSection("Comptes rendus", Markup(html), "comptes-rendus")  # noqa: S704


# ---------------------------------------------------------------- feeds


def _feed(council: CouncilView | None, found: list[public.MinutesView]) -> bytes:
    page = public.absolute(
        f"/conseils/{council.slug}/comptes-rendus" if council else "/comptes-rendus"
    )
    name = council.name if council else "Conseils citoyens"
    feed = atom.Feed(
        id=atom.tag("conseils", council.slug if council else "tous", "comptes-rendus"),
        title=f"Comptes rendus — {name}",
        subtitle="Les comptes rendus des réunions, dès leur publication.",
        page_url=page,
        self_url=page + ".atom",
        author=name,
    )
    newest = sorted(found, key=lambda m: (m.published_at, m.id), reverse=True)
    entries = []
    for m in newest[: public.FEED_ENTRIES]:
        html = _template("pages/minutes/_content.html").module.minutes_content(m)  # type: ignore[attr-defined]
        entries.append(
            atom.Entry(
                id=atom.tag("compte-rendu", m.id),
                title=m.title,
                updated=m.updated_at,
                published=m.published_at,
                url=public.absolute(m.url),
                author=m.scope,
                html=Markup(str(html)),  # noqa: S704 (rendered by the autoescaping template)
            )
        )
    return atom.document(feed, entries)


# ---------------------------------------------------------------- pages


def _render(request: Request, name: str, **context: Any) -> bytes:
    """A whole page, with the site's globals (the application's template engine)."""
    return request.app.template_engine.get_template(name).render(**context).encode()


def _search_query(query: str, council: str | None, page: int) -> str:
    params = {"q": query, **({"conseil": council} if council else {}), "page": str(page)}
    return urlencode(params)


class MinutesPages(Controller):
    include_in_schema = False

    async def _list(self, request: Request, slug: str | None) -> Response:
        async def render() -> Page:
            council = await councils.get_council(slug) if slug else None
            found = await public.list_published(council_id=council.id if council else None)
            body = _render(
                request,
                "pages/minutes/list.html",
                council=council,
                groups=public.by_year_and_month(found),
                atom_url=f"/conseils/{slug}/comptes-rendus.atom"
                if slug
                else "/comptes-rendus.atom",
            )
            kinds = {public.KIND}
            return Page(None, body, DependsOn(kinds, {council.id} if council else None))

        page = await _lists.fetch(("list", slug), render)
        return await respond(request, page, MediaType.HTML)

    async def _atom(self, request: Request, slug: str | None) -> Response:
        async def render() -> Page:
            council = await councils.get_council(slug) if slug else None
            found = await public.list_published(council_id=council.id if council else None)
            kinds = {public.KIND}
            return Page(
                None, _feed(council, found), DependsOn(kinds, {council.id} if council else None)
            )

        page = await _lists.fetch(("atom", slug), render)
        return await respond(request, page, atom.MEDIA_TYPE)

    @get("/comptes-rendus")
    async def every_list(self, request: Request) -> Response:
        return await self._list(request, None)

    @get("/conseils/{slug:str}/comptes-rendus")
    async def council_list(self, request: Request, slug: FromPath[str]) -> Response:
        return await self._list(request, slug)

    @get("/comptes-rendus.atom")
    async def every_feed(self, request: Request) -> Response:
        return await self._atom(request, None)

    @get("/conseils/{slug:str}/comptes-rendus.atom")
    async def council_feed(self, request: Request, slug: FromPath[str]) -> Response:
        return await self._atom(request, slug)

    @get("/comptes-rendus/{minutes_id:int}")
    async def minutes(self, request: Request, minutes_id: FromPath[int]) -> Response:
        m = await public.get_minutes(minutes_id)
        if m.meeting_id is not None:
            return Redirect(m.url, status_code=302)  # shown on its meeting's page (module)
        return Response(
            _render(request, "pages/minutes/minutes.html", m=m), media_type=MediaType.HTML
        )

    @get("/comptes-rendus/{minutes_id:int}/{name:str}")
    async def pdf(
        self, request: Request, minutes_id: FromPath[int], name: FromPath[str]
    ) -> Response:
        """The PDF (the name in the address is for people; the id finds the minutes)."""
        info, filename = await public.download(minutes_id)
        return pdf_response(request, info, filename)

    @get("/comptes-rendus/recherche")
    async def search(
        self,
        request: Request,
        q: Annotated[str, QueryParameter(max_length=20_000)] = "",
        conseil: Annotated[str | None, QueryParameter(max_length=200)] = None,
        page: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response:
        """Minutes holding every word of `q`; a French 400 on the same page when the query
        is too long, the council unknown or the page out of range."""
        council = None
        context: dict[str, Any] = {
            "query": q[: public.MAX_QUERY],
            "results": [],
            "more": False,
            "page": 1,
            "per_page": public.PER_PAGE,
            "error": None,
            "council": None,
        }
        status = 200
        try:
            number = (
                int(page) if page and page.isdigit() and len(page) < 6 else (1 if not page else 0)
            )
            context["page"] = max(number, 1)
            if conseil:
                try:
                    council = await councils.get_council(conseil)
                except NotFound as exc:
                    raise InvalidInput({"conseil": "conseil citoyen inconnu"}) from exc
                context["council"] = council
            results, more = await public.search_minutes(
                q, council_id=council.id if council else None, page=number
            )
            context.update(results=results, more=more)
        except InvalidInput as exc:
            context["error"] = " ; ".join(exc.errors.values())
            status = 400
        context["page_query"] = lambda n: _search_query(q, conseil, n)
        body = _render(request, "pages/minutes/search.html", **context)
        return Response(body, media_type=MediaType.HTML, status_code=status)
