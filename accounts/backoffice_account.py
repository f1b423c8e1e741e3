""" "Mon compte": every facilitator changes their own password and manages their own API
tokens (for scripts). A new token is shown once, on the page that answers its creation;
only its SHA-256 is kept."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from accounts import services, sessions
from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import InvalidInput, TooManyRequests
from conseils.viewer import FacilitatorView
from conseils.web.client import client_ip
from conseils.web.csrf import BACKOFFICE

MY_ACCOUNT = f"{BACKOFFICE}/mon-compte"
FLASHES = {
    "mot-de-passe": "Votre mot de passe est changé ; vos autres sessions sont fermées.",
    "jeton-revoque": "Le jeton est révoqué : il ne donne plus accès à l'API.",
}


async def _page(
    viewer: FacilitatorView, *, status_code: int = 200, flash: str | None = None, **context: Any
) -> Template:
    values: dict[str, Any] = {
        "password_errors": {},
        "token_errors": {},
        "token_form": {"label": "", "days": "30"},
        "new_token": None,
        **context,
    }
    return backoffice.page(
        "animation/my_account.html",
        viewer,
        status_code=status_code,
        flash=flash,
        tokens=await services.tokens_of(viewer),
        token_days=services.TOKEN_DAYS,
        minimum=services.MIN_PASSWORD_LENGTH,
        **values,
    )


class MyAccountPages(Controller):
    path = "/mon-compte"

    @get("/", status_code=HTTP_200_OK)
    async def show(
        self, viewer: NamedDependency[FacilitatorView], fait: FromQuery[str] = ""
    ) -> Template:
        return await _page(viewer, flash=FLASHES.get(fait))

    @post("/mot-de-passe", status_code=HTTP_303_SEE_OTHER)
    async def change_password(
        self, request: Request, viewer: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        """The current password is required; this session is renewed (a new id, under the
        new `session_version`), every other session of the account dies."""
        try:
            version = await services.change_password(
                viewer,
                form_text(data, "current", 1025),
                form_text(data, "password", 1025),
                form_text(data, "confirmation", 1025),
                client=client_ip(request.scope),
            )
        except InvalidInput as exc:
            return await _page(viewer, status_code=400, password_errors=exc.errors)
        except TooManyRequests as exc:
            page = await _page(viewer, status_code=429, password_errors={"current": exc.message})
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        await sessions.sign_in(request, viewer, version)
        return Redirect(f"{MY_ACCOUNT}?fait=mot-de-passe", status_code=HTTP_303_SEE_OTHER)

    @post("/jetons", status_code=HTTP_200_OK)
    async def create_token(self, viewer: NamedDependency[FacilitatorView], data: Form) -> Template:
        """Answered with the page itself, not a redirect: the token is shown here, once."""
        form = {"label": form_text(data, "label", 200), "days": form_text(data, "days", 10)}
        try:
            issued = await services.create_token(viewer, form["label"], form["days"])
        except InvalidInput as exc:
            return await _page(viewer, status_code=400, token_errors=exc.errors, token_form=form)
        return await _page(viewer, new_token=issued, token_form={"label": "", "days": "30"})

    @post("/jetons/{token_id:int}/revoquer", status_code=HTTP_303_SEE_OTHER)
    async def revoke_token(
        self, viewer: NamedDependency[FacilitatorView], token_id: FromPath[int]
    ) -> Redirect:
        await services.revoke_token_of(viewer, token_id)
        return Redirect(f"{MY_ACCOUNT}?fait=jeton-revoque", status_code=HTTP_303_SEE_OTHER)
