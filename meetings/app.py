"""The Litestar application factory: `create_app()` wires settings, routes, templates, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar import Litestar, Response, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from meetings import changes
from meetings.controllers.api import AuthController, CouncilController, MeetingController
from meetings.controllers.feeds import FeedController
from meetings.controllers.health import healthz
from meetings.controllers.pages import PageController
from meetings.controllers.registrations import RegistrationApi, RegistrationPages
from meetings.db import engine
from meetings.errors import EXCEPTION_HANDLERS
from meetings.headers import SECURITY_HEADERS
from meetings.settings import ROOT, Settings, get_settings
from meetings.templating import template_environment
from notifications.controllers import OutboxApi, SubscriptionApi, SubscriptionPages
from notifications.relay import start_in_process
from notifications.settings import get_mail_settings

STATIC = ROOT / "static"
MAX_BODY_BYTES = 1_000_000


_relay: tuple[asyncio.Task, asyncio.Event] | None = None


async def _start_pool() -> None:
    global _relay
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=20)
    await changes.start_listening()
    if get_mail_settings().relay_in_process:
        _relay = await start_in_process()


async def _stop_relay() -> None:
    global _relay
    if _relay is None:
        return
    (task, stop), _relay = _relay, None
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=15)
    except TimeoutError:
        task.cancel()  # a batch stuck on a dead server: its lease lets another relay finish it


async def _close_pool() -> None:
    db = engine()
    await _stop_relay()
    await changes.stop_listening()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        # A connection still held (a request cut short) must not stall shut-down for ever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(db.close_connection_pool(), timeout=10)


async def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    get_mail_settings()  # a bad mail configuration stops the start, not the first email
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    api = Router(
        path="/api/v1",
        route_handlers=[
            CouncilController,
            MeetingController,
            AuthController,
            SubscriptionApi,
            OutboxApi,
            RegistrationApi,
        ],
    )
    return Litestar(
        route_handlers=[
            PageController,
            FeedController,
            SubscriptionPages,
            RegistrationPages,
            api,
            healthz,
            create_static_files_router(path="/static", directories=[STATIC], name="static"),
        ],
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(template_environment())
        ),
        openapi_config=OpenAPIConfig(
            title="Conseils citoyens — API",
            version="1.0.0",
            description="Councils and meetings of the conseils citoyens; facilitators write.",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=_security_headers,
        on_startup=[_start_pool],
        on_shutdown=[_close_pool],
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
    )
