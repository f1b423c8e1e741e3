"""iCalendar feeds over HTTP: validators, conditional requests, HEAD, CORS.

The content and its caching are `services.calendar`'s; this module only speaks HTTP
(RFC 9110 §13): If-None-Match wins over If-Modified-Since, a match answers 304 with the same
validators and no body, HEAD answers the headers of GET.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from litestar import Controller, HttpMethod, Request, Response, route
from litestar.params import FromPath, QueryParameter

from meetings.services import calendar
from meetings.services.calendar import CalendarDocument

CACHE_CONTROL = "public, max-age=300"
Filter = Annotated[str | None, QueryParameter(max_length=80)]
# One QueryParameter: nested in `Filter`, a second one (name="type") was ignored, and the filter
# was read from `?type_=`.
KindFilter = Annotated[str | None, QueryParameter(name="type", max_length=80)]


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires: W/"x" matches "x"."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _not_modified(request: Request, document: CalendarDocument) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, document.etag)
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored (RFC 9110 §13.1.3)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return document.last_modified <= moment


def calendar_response(
    request: Request, document: CalendarDocument, *, attachment: bool = False
) -> Response:
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Last-Modified",
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, document):
        return Response(b"", status_code=304, headers=headers)
    disposition = "attachment" if attachment else "inline"
    headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    body = b"" if request.method == HttpMethod.HEAD else document.body
    response = Response(body, media_type="text/calendar", headers=headers)
    if request.method == HttpMethod.HEAD:
        response.headers["Content-Length"] = str(len(document.body))
    return response


class FeedController(Controller):
    include_in_schema = False

    @route("/calendrier.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD])
    async def everything(
        self,
        request: Request,
        type_: KindFilter = None,
        quartier: Filter = None,
    ) -> Response:
        """Every council's published and recently cancelled meetings."""
        return calendar_response(request, await calendar.feed(None, type_, quartier))

    @route("/conseils/{slug:str}/calendrier.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD])
    async def council(
        self,
        request: Request,
        slug: FromPath[str],
        type_: KindFilter = None,
        quartier: Filter = None,
    ) -> Response:
        return calendar_response(request, await calendar.feed(slug, type_, quartier))

    @route(
        "/reunions/{meeting_id:int}/calendrier.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD]
    )
    async def meeting(self, request: Request, meeting_id: FromPath[int]) -> Response:
        document = await calendar.meeting_document(meeting_id)
        return calendar_response(request, document, attachment=True)
