"""Who is asking, as Litestar dependencies: a facilitator by bearer token on the API, by
session in the back-office, and the admin check shared by both."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide

from accounts.services import facilitator_for_token
from accounts.sessions import provide_session_viewer
from conseils.errors import Forbidden, Unauthorized
from conseils.viewer import FacilitatorView


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("En-tête Authorization attendu : Bearer <jeton>.", code="bad_token")
    return token.strip()


async def provide_optional_viewer(request: Request) -> FacilitatorView | None:
    """The facilitator when a token is sent (a bad token is refused, not ignored)."""
    token = bearer_token(request)
    return None if token is None else await facilitator_for_token(token)


async def provide_viewer(request: Request) -> FacilitatorView:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("Authentification requise (Bearer).", code="auth_required")
    return await facilitator_for_token(token)


async def provide_session_maybe_viewer(request: Request) -> FacilitatorView | None:
    """`maybe_viewer` under /animation: the session's facilitator (there always is one past
    the guard; Litestar wants one provider per name)."""
    return await provide_session_viewer(request)


async def provide_admin(viewer: NamedDependency[FacilitatorView]) -> FacilitatorView:
    """`admin`: the viewer, when they administer the whole site (either kind of viewer)."""
    if not viewer.is_admin:
        raise Forbidden("Réservé aux administrateurs du site.", code="admin_only")
    return viewer


# The application provides these to every handler (see conseils.app): features name the
# dependency (`viewer`, `maybe_viewer`, `admin`) without importing this app. The API knows
# only bearer tokens; under /animation the same names come from the session, and the
# bearer header is never read there (nor the cookie on the API).
DEPENDENCIES = {
    "viewer": Provide(provide_viewer),
    "maybe_viewer": Provide(provide_optional_viewer),
    "admin": Provide(provide_admin),
}
BACKOFFICE_DEPENDENCIES = {
    "viewer": Provide(provide_session_viewer),
    "maybe_viewer": Provide(provide_session_maybe_viewer),
}
