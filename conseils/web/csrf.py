"""CSRF protection, scoped to the back-office.

Under `/animation/` every form carries a token tied to a cookie and signed with SECRET_KEY
(Litestar's CSRF middleware); a POST without the matching pair gets 403. Elsewhere it does
not apply: public pages are cached and carry no per-visitor token (their forms are guarded by
the Origin check of `conseils.web.abuse`), the API takes bearer tokens in a header and never
a cookie, and RFC 8058 unsubscribes come from mail servers.
"""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig

from conseils.settings import Settings

BACKOFFICE = "/animation"
# Route options that turn the session and CSRF middleware off (`True`): set on the whole
# application, and set back to `False` by the back-office's router.
SKIP_SESSION = "skip_session"
SKIP_CSRF = "exclude_from_csrf"
BACKOFFICE_ONLY = {SKIP_SESSION: False, SKIP_CSRF: False}


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
