"""The back-office's doors: sign-in, sign-out and the dashboard.

Every page under /animation gets `viewer` from the session (see `accounts.sessions`); the
sign-in pages are the only ones reachable without one.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from accounts import sessions
from accounts.services import authenticate, facilitator_view
from conseils import backoffice
from conseils.errors import TooManyRequests, Unauthorized
from conseils.viewer import FacilitatorView
from conseils.web.client import client_ip
from conseils.web.csrf import BACKOFFICE

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
HOME = f"{BACKOFFICE}/"


def safe_next(target: object) -> str:
    """Where to go after signing in: a back-office path of ours, never another site."""
    if (
        isinstance(target, str)
        and target.startswith(HOME)
        and not target.startswith("//")
        and "\\" not in target
        and len(target) <= 500
    ):
        return target
    return HOME


def _field(form: dict[str, Any], name: str, limit: int) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


class SignInPages(Controller):
    """Reachable without a session (`anonymous` opt): everything else is not."""

    path = ""
    opt = {"anonymous": True}

    @get("/connexion")
    async def sign_in_form(self, suite: FromQuery[str | None] = None) -> Template:
        return backoffice.page(
            "animation/sign_in.html", None, suite=safe_next(suite), email="", message=None
        )

    @post("/connexion", status_code=HTTP_303_SEE_OTHER)
    async def sign_in(self, request: Request, data: Form) -> Redirect | Template:
        """Wrong password and unknown address get the same answer, after the same argon2
        check (see `accounts.services.authenticate`); repeated failures are throttled."""
        email = _field(data, "email", 254)
        suite = safe_next(data.get("suite"))
        try:
            facilitator_id = await authenticate(
                email, _field(data, "password", 1025), client=client_ip(request.scope)
            )
            found = await facilitator_view(facilitator_id)
            if found is None:
                raise Unauthorized("Adresse ou mot de passe incorrect.", code="bad_credentials")
        except (Unauthorized, TooManyRequests) as refused:
            status = 429 if isinstance(refused, TooManyRequests) else 401
            response = backoffice.page(
                "animation/sign_in.html",
                None,
                status_code=status,
                suite=suite,
                email=email,
                message=refused.message,
            )
            if isinstance(refused, TooManyRequests):
                response.headers["Retry-After"] = str(refused.retry_after)
            return response
        view, version = found
        await sessions.sign_in(request, view, version)
        return Redirect(suite, status_code=HTTP_303_SEE_OTHER)

    @post("/deconnexion", status_code=HTTP_303_SEE_OTHER)
    async def sign_out(self, request: Request) -> Redirect:
        sessions.sign_out(request)
        return Redirect(sessions.SIGN_IN_PATH, status_code=HTTP_303_SEE_OTHER)


class DashboardPage(Controller):
    path = ""

    @get("/", status_code=HTTP_200_OK)
    async def dashboard(self, viewer: NamedDependency[FacilitatorView]) -> Template:
        """What needs the facilitator's attention, in every council they run: each app
        contributes its panel (`conseils.backoffice`)."""
        return backoffice.page(
            "animation/dashboard.html", viewer, panels=await backoffice.panels_for(viewer)
        )
