"""The accounts app as the application sees it: the token API, the back-office's sign-in,
password and account pages, the dashboard, the session middleware and store, and the
viewer dependencies."""

from __future__ import annotations

from accounts import sessions
from accounts.api import AuthController
from accounts.backoffice import DashboardPage, PasswordPages, SignInPages
from accounts.backoffice_account import MyAccountPages
from accounts.backoffice_admin import AccountsAdminPages, AuditLogPage
from accounts.guards import BACKOFFICE_DEPENDENCIES, DEPENDENCIES
from conseils.backoffice import MenuEntry, add_menu_entry
from conseils.features import Feature


def register() -> None:
    add_menu_entry(MenuEntry("Animateurs", "/animation/animateurs", 80, admin_only=True))
    add_menu_entry(MenuEntry("Journal", "/animation/journal", 90, admin_only=True))
    add_menu_entry(MenuEntry("Mon compte", "/animation/mon-compte", 100))


FEATURE = Feature(
    name="accounts",
    api=[AuthController],
    backoffice=[
        SignInPages,
        PasswordPages,
        DashboardPage,
        MyAccountPages,
        AccountsAdminPages,
        AuditLogPage,
    ],
    dependencies=DEPENDENCIES,
    backoffice_dependencies=BACKOFFICE_DEPENDENCIES,
    backoffice_guards=[sessions.signed_in],
    middleware=lambda: [sessions.session_config().middleware],
    stores=lambda: {sessions.STORE_NAME: sessions.session_store()},
    register=register,
)
