"""The accounts app as the application sees it: the token API, the back-office's sign-in
and dashboard, the session middleware and store, and the viewer dependencies."""

from __future__ import annotations

from accounts import sessions
from accounts.api import AuthController
from accounts.backoffice import DashboardPage, SignInPages
from accounts.guards import BACKOFFICE_DEPENDENCIES, DEPENDENCIES
from conseils.features import Feature

FEATURE = Feature(
    name="accounts",
    api=[AuthController],
    backoffice=[SignInPages, DashboardPage],
    dependencies=DEPENDENCIES,
    backoffice_dependencies=BACKOFFICE_DEPENDENCIES,
    backoffice_guards=[sessions.signed_in],
    middleware=lambda: [sessions.session_config().middleware],
    stores=lambda: {sessions.STORE_NAME: sessions.session_store()},
)
