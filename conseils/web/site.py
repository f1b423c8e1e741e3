"""What every site of the service has whoever runs it: the operator's accent colour as a
small stylesheet, the favicon, and the legal pages (privacy, legal notice, accessibility).

The accent colour comes from a setting (ACCENT_COLOUR, checked for contrast with white); the
Content-Security-Policy forbids inline styles, so it is served as `/theme.css`, a stylesheet of
one rule that browsers and proxies may keep for a day (pages name it with the colour, so a
new colour is a new address).
"""

from __future__ import annotations

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect, Template

from conseils.settings import get_settings

# Legal pages and the theme change only with a deployment's settings.
CACHEABLE = CacheControlHeader(public=True, max_age=3600)
# What the privacy page states besides "a year after the meeting" for registrations: sent
# emails' copies OUTBOX_RETENTION_DAYS, pending subscriptions a week (the retention jobs').
PENDING_SUBSCRIPTION_DAYS = 7


@get(
    "/theme.css",
    include_in_schema=False,
    cache_control=CacheControlHeader(public=True, max_age=86400),
)
async def theme_css() -> Response[str]:
    accent = get_settings().site.accent_colour
    body = f":root {{ --accent: {accent}; }}\n"  # checked: 4.5:1 with white at least
    return Response(body, media_type="text/css; charset=utf-8")


@get(
    "/favicon.ico",
    include_in_schema=False,
    cache_control=CacheControlHeader(public=True, max_age=86400),
)
async def favicon() -> Redirect:
    """Browsers ask for /favicon.ico whatever the page says: point them to the SVG."""
    return Redirect("/static/favicon.svg", status_code=301)


def _legal(template: str) -> Template:
    retention = {
        "outbox_days": get_settings().outbox_retention_days,
        "pending_subscription_days": PENDING_SUBSCRIPTION_DAYS,
    }
    return Template(f"pages/legal/{template}.html", context={"retention": retention})


@get(
    "/confidentialite", include_in_schema=False, cache_control=CACHEABLE, media_type=MediaType.HTML
)
async def privacy() -> Template:
    return _legal("privacy")


@get(
    "/mentions-legales", include_in_schema=False, cache_control=CACHEABLE, media_type=MediaType.HTML
)
async def legal_notice() -> Template:
    return _legal("notice")


@get(
    "/declaration-accessibilite",
    include_in_schema=False,
    cache_control=CACHEABLE,
    media_type=MediaType.HTML,
)
async def accessibility() -> Template:
    return _legal("accessibility")


SITE_PAGES = [theme_css, favicon, privacy, legal_notice, accessibility]
