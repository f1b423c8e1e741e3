"""The JSON API of accounts: facilitators exchange a password for a bearer token."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from accounts import services as facilitators
from accounts.guards import bearer_token
from accounts.schemas import TokenOut, TokenRequest
from conseils.viewer import FacilitatorView
from conseils.web.api_spec import (
    BEARER,
    JSON_BODY,
    PUBLIC_WRITE,
    JsonExample,
    Reason,
    operation,
)
from conseils.web.client import client_ip
from conseils.web.headers import NO_STORE

BAD_CREDENTIALS = Reason(
    401,
    "bad_credentials",
    "wrong address or password, or the account is deactivated or has no password yet",
)
LOGIN_THROTTLED = Reason(
    429,
    "login_throttled",
    "too many failures on this account or from this client: wait `Retry-After` seconds "
    "(even the right password is refused meanwhile)",
)
LOGIN_BUSY = Reason(
    429, "login_busy", "too many sign-ins at once on this server: wait `Retry-After` seconds"
)
TOKEN_REQUEST = JsonExample(
    id="password",
    summary="A facilitator's address and password",
    value={"email": "anim.tamaris@ales.fr", "password": "correct horse battery staple"},
)
TOKEN_OUT = JsonExample(
    id="token",
    summary="A token, and when it expires",
    value={
        "token": "q5I0c2b3VJ0xq9wQ4d8m1Yy7o6Hf3kPZ2aR8sLtUvWx",
        "expires_at": "2026-12-01T06:00:00+00:00",
        "token_type": "bearer",
    },
)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    cache_control = NO_STORE

    @post(
        "/token",
        status_code=HTTP_201_CREATED,
        **operation(
            "createToken",
            "Get a bearer token",
            *JSON_BODY,
            BAD_CREDENTIALS,
            *PUBLIC_WRITE,
            LOGIN_THROTTLED,
            LOGIN_BUSY,
            answers={
                HTTP_201_CREATED: ResponseSpec(
                    TokenOut,
                    description="The token: send it as `Authorization: Bearer <token>`",
                    examples=[TOKEN_OUT],
                    generate_examples=False,
                )
            },
        ),
    )
    async def create_token(
        self, request: Request, data: Annotated[TokenRequest, Body(examples=[TOKEN_REQUEST])]
    ) -> TokenOut:
        """Exchange a facilitator's email and password for a bearer token (anyone may call;
        an active facilitator's account succeeds). The token expires after
        `TOKEN_TTL_HOURS` (12 by default); it is shown once, and stored only as a hash.
        Failures slow down: after a few on one account or from one address, 429 with
        `Retry-After` until the delay has passed, even for the right password. No email is
        sent. Tokens can also be made, and revoked, in the back-office ("Mon compte")."""
        issued = await facilitators.issue_token(
            data.email, data.password, client=client_ip(request.scope)
        )
        return TokenOut(token=issued.token, expires_at=issued.expires_at_iso)

    @delete(
        "/token",
        status_code=HTTP_204_NO_CONTENT,
        security=[{"bearer": []}],
        **operation("revokeToken", "Revoke the token in use", *BEARER),
    )
    async def revoke_token(
        self, request: Request, viewer: NamedDependency[FacilitatorView]
    ) -> None:
        """Revoke the (valid) token this request carries: a log-out. Any facilitator, with
        the token to revoke; it is refused (401 `bad_token`) from then on."""
        await facilitators.revoke_token(bearer_token(request) or "")
