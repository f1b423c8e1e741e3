"""Security headers sent on every response (OWASP ASVS 14.4): pages, API and errors; and
the cache rule of answers that hold a secret or someone's personal data."""

from litestar.datastructures import CacheControlHeader

# Tokens, facilitators' views of residents, manage pages, personal feeds: never kept by a
# browser's cache, a shared computer's history of responses, or a proxy.
NO_STORE = CacheControlHeader(no_store=True)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
