"""The embeddable agenda over HTTP: `/integration/agenda` (a page for other sites' frames),
`.rss` and `.json`. Out of the OpenAPI document and of /api/v1: these are public documents
of their own, with their own versioned shape (README, "Embeddable agenda").

Only the page may be framed, and only by EMBED_ALLOWED_ORIGINS: its handler replaces the
application's security headers (its `after_request` hook, and its error handlers, which the
application's hook does not reach) with `embed_headers()`.

Caching: each process keeps the rendered bodies (`RenderedLists`, dropped by every change
notice, in any process, and expiring when the first meeting listed ends); browsers and
proxies may keep an answer 5 minutes, as the calendar feeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.exceptions import HTTPException

from conseils import changes, urls
from conseils.errors import DomainError
from conseils.web.errors import domain_error_handler, http_error_handler
from conseils.web.headers import embed_headers
from conseils.web.page_cache import Page, RenderedLists
from meetings.services import agenda as agendas

CACHE_CONTROL = "public, max-age=300"
RSS = "application/rss+xml; charset=utf-8"
_rendered = RenderedLists(max_entries=500)


async def _embeddable(response: Response) -> Response:
    """The page's own security headers, instead of the application's."""
    response.headers.pop("X-Frame-Options", None)
    response.headers.update(embed_headers())
    return response


def _framed(handler: Callable[[Request, Any], Response]) -> Callable[[Request, Any], Response]:
    """An error page that the allowed sites' frames show (naming the wrong parameter)."""

    def framed(request: Request, exc: Any) -> Response:
        response = handler(request, exc)
        response.headers.pop("X-Frame-Options", None)
        response.headers.update(embed_headers())
        return response

    return framed


def _render_html(request: Request, agenda: agendas.Agenda) -> bytes:
    template = request.app.template_engine.get_template("pages/embed_agenda.html")
    return template.render(
        agenda=agenda,
        meeting_url=urls.meeting_url,
        seats_text=agendas.seats_text,
        place_text=agendas.place_text,
    ).encode()


def _render_json(request: Request, agenda: agendas.Agenda) -> bytes:
    return json.dumps(agendas.as_json(agenda), ensure_ascii=False).encode()


def _render_rss(request: Request, agenda: agendas.Agenda) -> bytes:
    return agendas.rss(agenda)


async def _body(request: Request, form: str, render: Callable[..., bytes]) -> bytes:
    """The rendered list for the request's filters, from this process's cache when current."""
    filters = agendas.parse_filters(request.query_params.multi_items())
    await changes.refresh()
    key = (form, filters)
    page = _rendered.get(key)
    if page is None:
        generation = _rendered.generation
        agenda = await agendas.next_meetings(filters)
        ends: list[datetime] = [m.ends_at for m in agenda.meetings]
        page = Page(min(ends, default=None), render(request, agenda))
        _rendered.put(key, page, generation)
    return page.body


class EmbedController(Controller):
    path = "/integration"
    include_in_schema = False

    @get(
        "/agenda",
        after_request=_embeddable,
        exception_handlers={
            DomainError: _framed(domain_error_handler),
            HTTPException: _framed(http_error_handler),
        },
    )
    async def page(self, request: Request) -> Response:
        """The next meetings, for an <iframe> on the allowed sites: no script, no form."""
        body = await _body(request, "html", _render_html)
        return Response(body, media_type=MediaType.HTML, headers={"Cache-Control": CACHE_CONTROL})

    @get("/agenda.rss")
    async def rss(self, request: Request) -> Response:
        body = await _body(request, "rss", _render_rss)
        return Response(body, media_type=RSS, headers=_document_headers())

    @get("/agenda.json", opt={"json_errors": True})
    async def json(self, request: Request) -> Response:
        body = await _body(request, "json", _render_json)
        return Response(body, media_type=MediaType.JSON, headers=_document_headers())


def _document_headers() -> dict[str, str]:
    """RSS and JSON are public data that other sites' scripts may read, as the feeds."""
    return {"Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
