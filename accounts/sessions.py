"""Facilitators' browser sessions for the back-office (`/animation/`).

Litestar's server-side sessions, in the store every process shares (`conseils.stores`:
Redis, or files under DATA_DIR on one host). The cookie holds only a random id; the store
holds who signed in, when, and the account's `session_version` at that moment.

- **Rotation**: signing in drops the visitor's old session and issues a new id, so an id
  planted before sign-in (session fixation) is worth nothing after it.
- **Timeouts**: idle 2 h (the store's expiry, renewed on each visit), absolute 12 h
  (checked against the sign-in time on every request).
- **Revocation**: every request loads the account afresh: a deactivated account is refused
  at once, and a password reset or a deactivation bumps `session_version`, which kills
  every session opened before.
- **Scope**: the middleware runs only under `/animation/`; the bearer API never reads the
  cookie (its `viewer` comes from the Authorization header alone), public pages stay
  cacheable and cookie-free.
"""

from __future__ import annotations

import time

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.types import Message, ScopeSession

from accounts.services import facilitator_view
from conseils.errors import SignInRequired
from conseils.settings import get_settings
from conseils.stores import shared_store
from conseils.viewer import FacilitatorView
from conseils.web.csrf import SKIP_SESSION

IDLE_TIMEOUT_S = 2 * 3600
ABSOLUTE_TIMEOUT_S = 12 * 3600
STORE_NAME = "sessions"
SIGN_IN_PATH = SignInRequired.sign_in_url
_ROTATE = "conseils.session.rotate"
_FRESH_ID = "conseils.session.fresh_id"
_VIEWER = "conseils.session.viewer"
SWEEP_EVERY_S = 3600
_swept_at = -SWEEP_EVERY_S


class _RotatingBackend(ServerSideSessionBackend):
    """Litestar's backend keeps the cookie's id for ever; at sign-in we want a new one."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE):
            fresh = state.get(_FRESH_ID)
            if fresh is None:
                fresh = state[_FRESH_ID] = self.generate_session_id()
            return fresh
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        if not scope_session and not connection.cookies.get(self.config.key):
            return  # an anonymous visit: nothing to keep, no cookie to send
        await super().store_in_message(scope_session, message, connection)


class _SessionConfig(ServerSideSessionConfig):
    _backend_class = _RotatingBackend  # type: ignore[assignment]


def cookie_is_secure() -> bool:
    return get_settings().base_url.startswith("https://")


def session_config() -> ServerSideSessionConfig:
    secure = cookie_is_secure()
    return _SessionConfig(
        # `__Host-`: the browser accepts it only Secure, for this host, on path "/".
        key="__Host-animation" if secure else "animation",
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
        max_age=IDLE_TIMEOUT_S,
        renew_on_access=True,
        store=STORE_NAME,
        exclude_opt_key=SKIP_SESSION,  # set on every route outside the back-office
    )


def session_store() -> Store:
    return shared_store(STORE_NAME)


async def _sweep(store: Store) -> None:
    """Files of sessions that expired unvisited stay on disk until swept (Redis expires
    keys by itself): sign-ins sweep, at most once an hour per process."""
    global _swept_at
    if isinstance(store, FileStore) and time.monotonic() - _swept_at > SWEEP_EVERY_S:
        _swept_at = time.monotonic()
        await store.path.mkdir(parents=True, exist_ok=True)  # made at the first session
        await store.delete_expired()


async def sign_in(request: Request, view: FacilitatorView, version: int) -> None:
    """Open a session for `view` under a new id (the old one, if any, is deleted)."""
    store = request.app.stores.get(STORE_NAME)
    old = request.cookies.get(session_config().key)
    if old:
        await store.delete(old)
    await _sweep(store)
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session({"facilitator": view.id, "signed_in_at": time.time(), "version": version})


def sign_out(request: Request) -> None:
    """Drop the session: the store forgets it and the browser gets an expired cookie."""
    request.clear_session()


async def _session_viewer(connection: ASGIConnection) -> FacilitatorView:
    """The signed-in facilitator, checked afresh on every request; SignInRequired otherwise."""
    session = connection.session if "session" in connection.scope else {}
    facilitator = session.get("facilitator")
    signed_in_at = session.get("signed_in_at")
    if not isinstance(facilitator, int) or not isinstance(signed_in_at, int | float):
        raise SignInRequired("Connectez-vous pour accéder à l'espace d'animation.")
    if time.time() - signed_in_at > ABSOLUTE_TIMEOUT_S:
        connection.clear_session()
        raise SignInRequired("Votre session a expiré : connectez-vous à nouveau.")
    found = await facilitator_view(facilitator)
    if found is None or found[1] != session.get("version"):
        connection.clear_session()
        raise SignInRequired("Votre session n'est plus valide : connectez-vous à nouveau.")
    return found[0]


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The guard of every back-office route but the sign-in pages (`opt={"anonymous": True}`):
    a route cannot be left open by forgetting to ask for the viewer."""
    if connection.route_handler.opt.get("anonymous"):
        return
    connection.state[_VIEWER] = await _session_viewer(connection)


async def provide_session_viewer(request: Request) -> FacilitatorView:
    """`viewer` under /animation: the one the `signed_in` guard checked for this request."""
    viewer = request.state.get(_VIEWER)
    if viewer is None:  # an anonymous page asked for a viewer
        raise SignInRequired("Connectez-vous pour accéder à l'espace d'animation.")
    return viewer
