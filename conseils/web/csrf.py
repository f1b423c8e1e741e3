"""CSRF protection, scoped to the back-office.

Under `/animation/` every form carries a token tied to a cookie and signed with SECRET_KEY
(Litestar's CSRF middleware); a POST without the matching pair gets 403. Elsewhere it does
not apply: public pages are cached and carry no per-visitor token (their forms are guarded by
the Origin check of `conseils.web.abuse`), the API takes bearer tokens in a header and never
a cookie, and RFC 8058 unsubscribes come from mail servers.
"""

from __future__ import annotations

from secrets import compare_digest

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash

from conseils.settings import Settings

BACKOFFICE = "/animation"
# Route options that turn the session and CSRF middleware off (`True`): set on the whole
# application, and set back to `False` by the back-office's router.
SKIP_SESSION = "skip_session"
SKIP_CSRF = "exclude_from_csrf"
BACKOFFICE_ONLY = {SKIP_SESSION: False, SKIP_CSRF: False}
# The options of a back-office route that reads its body as a stream (a file upload): the
# middleware would read the whole body to find the token, so the handler checks it itself,
# from the form's first field, with `token_matches`, before it reads the file.
OWN_CSRF_CHECK = {SKIP_CSRF: True}


def csrf_config(settings: Settings) -> CSRFConfig:
    secure = settings.base_url.startswith("https://")
    return CSRFConfig(
        secret=settings.secret_key,
        # `__Host-`: only accepted Secure, for this very host, on path "/".
        cookie_name="__Host-csrf" if secure else "csrf",
        cookie_secure=secure,
        cookie_httponly=True,  # forms carry the token; no script needs to read the cookie
        cookie_samesite="lax",
        cookie_path="/",
        exclude_from_csrf_key=SKIP_CSRF,
    )


def _decoded(token: str, secret: str) -> str | None:
    if len(token) < CSRF_SECRET_LENGTH + 1:
        return None
    value, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    expected = generate_csrf_hash(token=value, secret=secret)
    return value if compare_digest(signature, expected) else None


def token_matches(connection: ASGIConnection, token: str, settings: Settings) -> bool:
    """What Litestar's CSRF middleware checks, for a route that checks it itself: the
    form's token and the cookie's are both signed with SECRET_KEY and the same."""
    config = csrf_config(settings)
    cookie = connection.cookies.get(config.cookie_name)
    if not token or not cookie:
        return False
    mine, theirs = _decoded(token, config.secret), _decoded(cookie, config.secret)
    return mine is not None and theirs is not None and compare_digest(mine, theirs)
