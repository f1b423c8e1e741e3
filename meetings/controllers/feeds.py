"""iCalendar feeds over HTTP: validators, conditional requests, HEAD, CORS.

The content and its caching are `services.calendar`'s; this module only speaks HTTP
(RFC 9110 §13): If-None-Match wins over If-Modified-Since, a match answers 304 with the same
validators and no body, HEAD answers the headers of GET. Feeds are sent compressed when the
client accepts it (`conseils.web.compression`), each coding with its own ETag.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from litestar import Controller, HttpMethod, Request, Response, route
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from conseils.web.compression import CODINGS, chosen_coding, encoded_etag
from conseils.web.headers import security_headers
from conseils.web.page_cache import CachedAnswer, encoded
from meetings.services import calendar
from meetings.services.calendar import CalendarDocument

CACHE_CONTROL = "public, max-age=300"
Filter = Annotated[str | None, QueryParameter(max_length=80)]
# One QueryParameter: nested in `Filter`, a second one (name="type") was ignored, and the filter
# was read from `?type_=`.
KindFilter = Annotated[str | None, QueryParameter(name="type", max_length=80)]


def _tags(header: str) -> set[str]:
    """The entity tags of If-None-Match, compared weakly as it requires: W/"x" matches "x"."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _not_modified(request: Request, document: CalendarDocument, coding: str | None) -> str | None:
    """The ETag to answer 304 with, or None to send the feed.

    Every coding's tag of this version matches, the one of the coding chosen for this request
    first: a client (or cache) holding the gzip copy revalidates it with its `-gzip` tag and
    keeps it; one that held the plain copy before it asked for gzip keeps that.
    """
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        chosen = encoded_etag(document.etag, coding)
        held = _tags(if_none_match)
        if "*" in held:
            return chosen
        for tag in (chosen, *(encoded_etag(document.etag, c) for c in (None, *CODINGS))):
            if tag in held:
                return tag
        return None
    since = request.headers.get("if-modified-since")
    if since is None:
        return None
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return None  # an unreadable date is ignored (RFC 9110 §13.1.3)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return encoded_etag(document.etag, coding) if document.last_modified <= moment else None


async def calendar_response(
    request: Request,
    document: CalendarDocument,
    *,
    attachment: bool = False,
    cache_control: str = CACHE_CONTROL,
) -> Response | Stream | CachedAnswer:
    """The feed in the coding the client accepts (its copy compressed once per version),
    with that coding's ETag; `Vary: Accept-Encoding` whatever the coding."""
    coding = chosen_coding(request.headers)
    matched = _not_modified(request, document, coding)
    if matched is not None:
        return _not_modified_answer(document, matched, cache_control)
    headers = _validators(document, encoded_etag(document.etag, coding), cache_control)
    disposition = "attachment" if attachment else "inline"
    headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    if coding is not None:
        headers["Content-Encoding"] = coding
    # HEAD is answered by running GET (conseils.web.head): the same Content-Length, no body.
    if coding is None and len(document.parts) > 1:
        # A big feed goes out segment after segment: it is never joined into one body.
        headers["Content-Length"] = str(document.copies.length)
        return Stream(document.parts, media_type="text/calendar", headers=headers)
    return Response(await document.copies.copy(coding), media_type="text/calendar", headers=headers)


def _validators(document: CalendarDocument, etag: str, cache_control: str) -> dict[str, str]:
    """The headers of every answer about this version, 200 or 304."""
    return {
        "ETag": etag,
        "Last-Modified": format_datetime(document.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": cache_control,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Last-Modified",
        "Vary": "Accept-Encoding",
    }


def _not_modified_answer(document: CalendarDocument, etag: str, cache_control: str) -> CachedAnswer:
    """A 304 with what `Response(b"", status_code=304, headers=...)` and the security hook
    would send, its header list built once per version and tag (the feeds' usual answer:
    calendar apps ask every few minutes)."""
    security = security_headers()  # built for these: the settings may change in tests
    key = (304, etag, cache_control)
    built = document.answers.get(key)
    if built is None or built[0] is not security:
        headers = _validators(document, etag, cache_control)
        built = (security, encoded([*headers.items(), *security.items()]))
        document.answers[key] = built
    return CachedAnswer(b"", built[1], status=304)


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
        return await calendar_response(request, await calendar.feed(None, type_, quartier))

    @route("/conseils/{slug:str}/calendrier.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD])
    async def council(
        self,
        request: Request,
        slug: FromPath[str],
        type_: KindFilter = None,
        quartier: Filter = None,
    ) -> Response:
        return await calendar_response(request, await calendar.feed(slug, type_, quartier))

    @route(
        "/reunions/{meeting_id:int}/calendrier.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD]
    )
    async def meeting(self, request: Request, meeting_id: FromPath[int]) -> Response:
        document = await calendar.meeting_document(meeting_id)
        return await calendar_response(request, document, attachment=True)
