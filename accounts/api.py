"""The JSON API of accounts: facilitators exchange a password for a bearer token."""

from __future__ import annotations

from litestar import Controller, Request, delete, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from accounts import services as facilitators
from accounts.guards import bearer_token
from accounts.schemas import TokenOut, TokenRequest
from conseils.viewer import FacilitatorView
from conseils.web.client import client_ip
from conseils.web.headers import NO_STORE


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    cache_control = NO_STORE

    @post("/token", status_code=HTTP_201_CREATED)
    async def create_token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenOut:
        """Exchange a facilitator's email and password for a bearer token that expires.
        Failures slow down: after a few on one account or from one address, 429 with
        `Retry-After` until the delay has passed, even for the right password."""
        issued = await facilitators.issue_token(
            data.email, data.password, client=client_ip(request.scope)
        )
        return TokenOut(token=issued.token, expires_at=issued.expires_at_iso)

    @delete("/token", status_code=HTTP_204_NO_CONTENT, security=[{"bearer": []}])
    async def revoke_token(
        self, request: Request, viewer: NamedDependency[FacilitatorView]
    ) -> None:
        """Revoke the (valid) token this request carries: a log-out."""
        await facilitators.revoke_token(bearer_token(request) or "")
