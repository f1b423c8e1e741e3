"""Security headers sent on every response (OWASP ASVS 14.4): pages, API and errors; and
the cache rule of answers that hold a secret or someone's personal data."""

from functools import lru_cache
from urllib.parse import urlsplit

from litestar.datastructures import CacheControlHeader

from conseils.settings import get_settings

# Tokens, facilitators' views of residents, manage pages, personal feeds: never kept by a
# browser's cache, a shared computer's history of responses, or a proxy.
NO_STORE = CacheControlHeader(no_store=True)

_STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:{logo}; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": _STRICT_CSP.format(logo=""),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@lru_cache(maxsize=1)
def security_headers() -> dict[str, str]:
    """SECURITY_HEADERS, with the origin of an https logo (SITE_LOGO_URL) allowed as the one
    image from elsewhere. A function: the settings are read once the command has set them."""
    logo = get_settings().site.logo_url
    if logo is None or not logo.startswith("https://"):
        return SECURITY_HEADERS
    origin = f" https://{urlsplit(logo).netloc}"
    return {**SECURITY_HEADERS, "Content-Security-Policy": _STRICT_CSP.format(logo=origin)}


@lru_cache(maxsize=1)
def embed_headers() -> dict[str, str]:
    """The security headers of a page meant for other sites' frames (the embeddable agenda):
    `frame-ancestors` lists EMBED_ALLOWED_ORIGINS (`'none'` when empty), and no
    X-Frame-Options, which can only say DENY or SAMEORIGIN (its ALLOW-FROM named one origin,
    and browsers dropped it): a browser that knows frame-ancestors ignores it anyway. Such a
    page runs no script and sends no form."""
    ancestors = " ".join(get_settings().embed_allowed_origins) or "'none'"
    headers = {name: v for name, v in SECURITY_HEADERS.items() if name != "X-Frame-Options"}
    headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {ancestors}"
    )
    return headers
