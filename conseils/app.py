"""The composition root: `create_app()` assembles the feature apps into one Litestar app.

The one module of the core (with `conseils.cli`) that knows the apps: it lists their
`Feature`s, lets each register with the core's extension points, and collects their routes,
dependencies and start/stop hooks. Everything else points one way, apps → core.
"""

from __future__ import annotations

import logging

from litestar import Litestar, Response, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from accounts.feature import FEATURE as ACCOUNTS
from conseils import changes, counters, db
from conseils.features import Feature
from conseils.resources import STATIC
from conseils.settings import Settings, get_settings
from conseils.web.abuse import AbuseMiddleware
from conseils.web.api_docs import DOCS_PATH, LocalSwaggerUI
from conseils.web.compression import UNCOMPRESSED, CompressionMiddleware
from conseils.web.csrf import BACKOFFICE, BACKOFFICE_ONLY, csrf_config
from conseils.web.errors import EXCEPTION_HANDLERS
from conseils.web.head import HeadAsGet
from conseils.web.headers import NO_STORE, security_headers
from conseils.web.health import healthz
from conseils.web.page_cache import CachedAnswer
from conseils.web.site import SITE_PAGES
from conseils.web.strict_json import strict_json_body
from conseils.web.templating import template_environment
from meetings.feature import FEATURE as MEETINGS
from minutes.feature import FEATURE as MINUTES
from notifications.feature import FEATURE as NOTIFICATIONS
from privacy.feature import FEATURE as PRIVACY
from proposals.feature import FEATURE as PROPOSALS

FEATURES: tuple[Feature, ...] = (ACCOUNTS, MEETINGS, PROPOSALS, MINUTES, NOTIFICATIONS, PRIVACY)
MAX_BODY_BYTES = 1_000_000
API_DESCRIPTION = """\
Councils and meetings of the conseils citoyens: anyone reads the published meetings and signs
up; facilitators, with a bearer token, schedule and run their councils' meetings.

- **Authentication**: `POST /api/v1/auth/token` gives a token that expires; send it as
  `Authorization: Bearer <token>`. `DELETE /api/v1/auth/token` revokes it.
- **Pagination**: lists answer `{items, total, limit, offset}`.
- **Idempotency**: `POST /api/v1/meetings` and `POST /api/v1/meetings/{id}/collected-proposals`
  with an `Idempotency-Key` header return what the first request created (200) when repeated.
- **Rate limits**: public writes (sign-ups, subscriptions, tokens) are limited per client;
  beyond, 429 with `Retry-After`. Writes with a bearer token are not counted.
- **Errors**: JSON `{status_code, code, detail, extra}` (the `Error` schema); each operation
  lists the statuses and reason codes it answers. Any operation may also answer 503
  `database_unavailable` with `Retry-After` while the database does not answer.
- **Versioning**: `/api/v1` changes only by additions (new operations, new optional fields,
  new reason codes); a breaking change goes to `/api/v2`, announced in advance.
"""
API_TAGS = [
    Tag(name="meetings", description="Meetings: read by anyone, written by facilitators"),
    Tag(name="registrations", description="Sign-ups (public) and their management"),
    Tag(name="councils", description="Councils and quartiers: read by anyone, written by admins"),
    Tag(name="proposals", description="Residents' proposals: read, sent and supported by anyone"),
    Tag(name="subscriptions", description="Announcements of a council by email"),
    Tag(
        name="moderation",
        description="Residents' proposals as their councils' facilitators handle them",
    ),
    Tag(
        name="documents",
        description="The documents library: read by anyone, written by facilitators",
    ),
    Tag(name="outbox", description="The emails of a facilitator's councils"),
    Tag(name="auth", description="Bearer tokens of facilitators"),
    Tag(name="health", description="Liveness and readiness"),
]


def install_features() -> None:
    """Let every app register its event handlers and template names (idempotent): before
    serving, and before a worker or a script runs services that emit events."""
    for feature in FEATURES:
        if feature.register is not None:
            feature.register()


async def _start() -> None:
    await db.open_pool()
    try:
        await changes.start_listening()
        for feature in FEATURES:
            for hook in feature.on_startup:
                await hook()
    except BaseException:
        # No shut-down follows a failed start: the pool's connections (SQLite's readers
        # hold threads that would keep the process from exiting) are closed here.
        await db.close_pool()
        raise


async def _stop() -> None:
    for feature in reversed(FEATURES):
        for hook in feature.on_shutdown:
            await hook()
    await changes.stop_listening()
    await counters.close_counters()
    await db.close_pool()


async def _security_headers(response: Response) -> Response:
    if isinstance(response, CachedAnswer):
        return response  # built with them, once per cached page
    for name, value in security_headers().items():
        response.headers.setdefault(name, value)
    return response


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    install_features()
    dependencies: dict = {}
    for feature in FEATURES:
        dependencies.update(feature.dependencies)
    api = Router(
        path="/api/v1",
        route_handlers=[h for f in FEATURES for h in f.api],
        before_request=strict_json_body,
    )
    backoffice_dependencies: dict = {}
    for feature in FEATURES:
        backoffice_dependencies.update(feature.backoffice_dependencies)
    back_office = Router(
        path=BACKOFFICE,
        route_handlers=[h for f in FEATURES for h in f.backoffice],
        dependencies=backoffice_dependencies,
        guards=[g for f in FEATURES for g in f.backoffice_guards],
        include_in_schema=False,
        cache_control=NO_STORE,
        opt={"backoffice": True, UNCOMPRESSED: True, **BACKOFFICE_ONLY},
    )
    stores: dict = {}
    middleware: list = []
    for feature in FEATURES:
        stores.update(feature.stores() if feature.stores else {})
        middleware.extend(feature.middleware() if feature.middleware else [])
    return HeadAsGet(
        route_handlers=[
            *(handler for feature in FEATURES for handler in feature.pages),
            api,
            back_office,
            healthz,
            *SITE_PAGES,
            create_static_files_router(path="/static", directories=[STATIC], name="static"),
        ],
        dependencies=dependencies,
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(template_environment())
        ),
        openapi_config=OpenAPIConfig(
            title="Conseils citoyens — API",
            version="1.0.0",
            description=API_DESCRIPTION,
            path=DOCS_PATH,
            use_handler_docstrings=True,  # a handler's docstring is its operation's description
            tags=API_TAGS,
            render_plugins=[LocalSwaggerUI()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A facilitator's token: `POST /api/v1/auth/token`, or "
                        "« Mon compte » in the back-office; it expires (`TOKEN_TTL_HOURS`).",
                    )
                }
            ),
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=_security_headers,
        on_startup=[_start],
        on_shutdown=[_stop],
        # Compression outermost: it sees each answer as it leaves, whoever made it.
        middleware=[CompressionMiddleware(), AbuseMiddleware(), *middleware],
        stores=stores,
        csrf_config=csrf_config(settings),
        request_max_body_size=MAX_BODY_BYTES,
        # Sessions and CSRF tokens are for the back-office alone (its router turns them on).
        opt={key: not on for key, on in BACKOFFICE_ONLY.items()},
        debug=False,
    )
