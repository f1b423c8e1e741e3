"""The first line against abuse of the public side, before any handler runs.

On every request that changes something (POST, PUT, PATCH, DELETE):

- **Rate limit** per client IP (`RATE_LIMIT_PER_MINUTE`, counted in the shared counters of
  `conseils.counters`, so that every process sees the same count) on public endpoints:
  sign-ups, cancellations, subscriptions, logins; not on those that declare the bearer
  scheme or sit behind the back-office's session guard (a facilitator marking forty people
  present), which refuse anyone without a live token or session anyway. Beyond it: 429
  with `Retry-After`, in French on pages.
- **JSON only** on the API: a body in another format is refused (415). A browser sends a
  cross-site `text/plain` or form POST without asking first; an `application/json` one
  needs a CORS preflight we never grant, so no other site can sign a visitor up.
- **Same origin** for form posts on pages: a POST whose `Origin` (or `Sec-Fetch-Site`) says
  it comes from another site is refused (403). Public pages are cached and carry no
  per-visitor token, so the origin is what tells a resident's click from a forged one.

RFC 8058 one-click unsubscribes are exempt from all three: mail providers' servers POST
them, from their own addresses, with a form body and no Origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from conseils.counters import counters
from conseils.errors import Forbidden, TooManyRequests, UnsupportedMediaType
from conseils.settings import get_settings
from conseils.web.client import client_ip

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A route option: this API operation takes a file as `multipart/form-data` and needs a
# bearer token (a header no other site's form can send), so its body need not be JSON.
UPLOAD = "upload"
EXEMPT = re.compile(r"^/abonnements/[^/]+/desabonner$")
WINDOW_SECONDS = 60


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _foreign_origin(headers: Headers) -> bool:
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False  # an older browser, or a non-browser client: no cross-site risk told
    own = {urlsplit(get_settings().base_url).netloc.lower(), headers.get("host", "").lower()}
    return urlsplit(origin).netloc.lower() not in own  # "null" has no host: foreign


def _declares_bearer(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.resolve_security())


def _takes_upload(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get(UPLOAD) and _declares_bearer(scope))


def _needs_session(scope: Scope) -> bool:
    """A back-office route other than the sign-in pages: only a signed-in facilitator gets
    past its guard, and marking forty people present is not abuse."""
    handler = scope.get("route_handler")
    return bool(
        handler is not None and handler.opt.get("backoffice") and not handler.opt.get("anonymous")
    )


class AbuseMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["method"] in UNSAFE_METHODS and not EXEMPT.match(scope["path"]):
            await self._check(scope)
        await next_app(scope, receive, send)

    async def _check(self, scope: Scope) -> None:
        headers = Headers.from_scope(scope)
        if scope["path"].startswith("/api/"):
            if (
                _has_body(headers)
                and not _is_json(headers.get("content-type", ""))
                and not _takes_upload(scope)
            ):
                raise UnsupportedMediaType(
                    "Le corps de la requête doit être du JSON (Content-Type: application/json)."
                )
        elif _foreign_origin(headers):
            raise Forbidden(
                "Ce formulaire doit être envoyé depuis le site lui-même.", code="foreign_origin"
            )
        limit = get_settings().limits.per_minute
        if limit and not _declares_bearer(scope) and not _needs_session(scope):
            count, left = await counters().hit(f"post:{client_ip(scope)}", WINDOW_SECONDS)
            if count > limit:
                raise TooManyRequests(
                    "Trop de demandes en peu de temps depuis votre connexion : "
                    f"réessayez dans {left} secondes.",
                    retry_after=left,
                )
