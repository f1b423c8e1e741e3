"""The notifications app as the application sees it: subscription pages and API, the
facilitators' outbox API, the in-process relay, and its handlers of domain events."""

from __future__ import annotations

import asyncio

from conseils import backoffice
from conseils.features import Feature
from conseils.settings import get_settings
from notifications import handlers
from notifications.backoffice import OutboxPages, SubscriberPages, failures_panel
from notifications.controllers import OutboxApi, SubscriptionApi, SubscriptionPages
from notifications.relay import start_in_process

RELAY_STOP_TIMEOUT_S = 15
_relay: tuple[asyncio.Task, asyncio.Event] | None = None


async def start_relay() -> None:
    """The relay inside `conseils serve`, unless `conseils worker` processes send."""
    global _relay
    if get_settings().mail.relay_in_process and _relay is None:
        _relay = await start_in_process()


async def stop_relay() -> None:
    global _relay
    if _relay is None:
        return
    (task, stop), _relay = _relay, None
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=RELAY_STOP_TIMEOUT_S)
    except TimeoutError:
        task.cancel()  # a batch stuck on a dead server: its lease lets another relay finish it


def register() -> None:
    handlers.register()
    backoffice.add_menu_entry(backoffice.MenuEntry("Abonnés", "/animation/abonnes", order=60))
    backoffice.add_menu_entry(backoffice.MenuEntry("Courriels", "/animation/courriels", order=70))
    backoffice.add_panel(
        backoffice.Panel(
            "courriels-en-echec", 50, "animation/notifications/panel_failures.html", failures_panel
        )
    )


FEATURE = Feature(
    name="notifications",
    pages=[SubscriptionPages],
    api=[SubscriptionApi, OutboxApi],
    backoffice=[OutboxPages, SubscriberPages],
    on_startup=[start_relay],
    on_shutdown=[stop_relay],
    register=register,
)
