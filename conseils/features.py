"""What a feature app hands to the application: its routes, its start and stop hooks, and
what it registers with the core's extension points (event handlers, template names).

Each app describes itself in its `feature.py` as one `Feature`; the composition root
(`conseils.app`, `conseils.cli`) lists them. Nothing else in the core knows the apps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    pages: Sequence[Any] = ()  # route handlers served at the site's root
    api: Sequence[Any] = ()  # route handlers under /api/v1
    backoffice: Sequence[Any] = ()  # route handlers under /animation (signed-in facilitators)
    dependencies: dict[str, Any] = field(default_factory=dict)  # provided to every handler
    # Provided under /animation instead (the accounts app's: `viewer` from the session)
    backoffice_dependencies: dict[str, Any] = field(default_factory=dict)
    backoffice_guards: Sequence[Any] = ()  # run before every back-office route (signed in?)
    # Made when the application is, from the settings of the moment: application-wide
    # middleware (the accounts app's sessions) and named Litestar stores.
    middleware: Callable[[], Sequence[Any]] | None = None
    stores: Callable[[], dict[str, Any]] | None = None
    on_startup: Sequence[Hook] = ()
    on_shutdown: Sequence[Hook] = ()
    register: Callable[[], None] | None = None  # event handlers, template globals (idempotent)
