"""Bearer-token authentication for facilitators, as Litestar dependencies."""

from __future__ import annotations

from litestar import Request
from litestar.di import Provide

from accounts.services import facilitator_for_token
from conseils.errors import Unauthorized
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


# The application provides these to every handler (see conseils.app): features name the
# dependency (`viewer`, `maybe_viewer`) without importing this app.
DEPENDENCIES = {
    "viewer": Provide(provide_viewer),
    "maybe_viewer": Provide(provide_optional_viewer),
}
