"""The back-office's doors: sign-in, sign-out, a forgotten password, the link that lets an
account choose its password (reset or invitation), and the dashboard.

Every page under /animation gets `viewer` from the session (see `accounts.sessions`); the
sign-in and password pages are the only ones reachable without one.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from accounts import links, sessions
from accounts.services import MIN_PASSWORD_LENGTH, authenticate, facilitator_view
from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import InvalidInput, TooManyRequests, Unauthorized
from conseils.viewer import FacilitatorView
from conseils.web.client import client_ip
from conseils.web.csrf import BACKOFFICE

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
        email = form_text(data, "email", 254)
        suite = safe_next(data.get("suite"))
        try:
            facilitator_id = await authenticate(
                email, form_text(data, "password", 1025), client=client_ip(request.scope)
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


FORGOT = f"{BACKOFFICE}/mot-de-passe-oublie"


def _link_refused(refused: links.LinkRefused) -> Template:
    """An unknown link: 404; an expired, used or replaced one (or a deactivated account's):
    410. The page is the same: ask for a new link."""
    return backoffice.page(
        "animation/password_link_invalid.html", None, status_code=410 if refused.gone else 404
    )


class PasswordPages(Controller):
    """A forgotten password, and the emailed link (reset or invitation) that lets an account
    choose one. Reachable without a session; the link's token is in the path, which the
    logs redact (`conseils.web.access_log`)."""

    path = ""
    opt = {"anonymous": True}

    @get("/mot-de-passe-oublie")
    async def forgot_form(self) -> Template:
        return backoffice.page("animation/password_forgot.html", None, email="", errors={})

    @post("/mot-de-passe-oublie", status_code=HTTP_303_SEE_OTHER)
    async def forgot(self, request: Request, data: Form) -> Redirect | Template:
        """The same answer for every address (`accounts.links.request_reset`)."""
        email = form_text(data, "email", 254)
        try:
            await links.request_reset(email, client=client_ip(request.scope))
        except InvalidInput as exc:
            return backoffice.page(
                "animation/password_forgot.html",
                None,
                status_code=400,
                email=email,
                errors=exc.errors,
            )
        except TooManyRequests as exc:
            response = backoffice.page(
                "animation/password_forgot.html",
                None,
                status_code=429,
                email=email,
                errors={"email": exc.message.rstrip(".")},
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return Redirect(f"{FORGOT}/envoye", status_code=HTTP_303_SEE_OTHER)

    @get("/mot-de-passe-oublie/envoye")
    async def forgot_sent(self) -> Template:
        return backoffice.page("animation/password_forgot_sent.html", None)

    @get("/mot-de-passe/{token:str}")
    async def choose_form(self, token: FromPath[str]) -> Template:
        try:
            link = await links.check(token)
        except links.LinkRefused as refused:
            return _link_refused(refused)
        return backoffice.page(
            "animation/password_choose.html",
            None,
            link=link,
            token=token,
            errors={},
            minimum=MIN_PASSWORD_LENGTH,
        )

    @post("/mot-de-passe/{token:str}", status_code=HTTP_303_SEE_OTHER)
    async def choose(self, token: FromPath[str], data: Form) -> Redirect | Template:
        """Using the link ends it, and every session of the account."""
        try:
            await links.choose_password(
                token, form_text(data, "password", 1025), form_text(data, "confirmation", 1025)
            )
        except links.LinkRefused as refused:
            return _link_refused(refused)
        except InvalidInput as exc:
            return backoffice.page(
                "animation/password_choose.html",
                None,
                status_code=400,
                link=await links.check(token),
                token=token,
                errors=exc.errors,
                minimum=MIN_PASSWORD_LENGTH,
            )
        return Redirect(f"{BACKOFFICE}/mot-de-passe-enregistre", status_code=HTTP_303_SEE_OTHER)

    @get("/mot-de-passe-enregistre")
    async def chosen(self) -> Template:
        return backoffice.page("animation/password_done.html", None)


class DashboardPage(Controller):
    path = ""

    @get("/", status_code=HTTP_200_OK)
    async def dashboard(self, viewer: NamedDependency[FacilitatorView]) -> Template:
        """What needs the facilitator's attention, in every council they run: each app
        contributes its panel (`conseils.backoffice`)."""
        return backoffice.page(
            "animation/dashboard.html", viewer, panels=await backoffice.panels_for(viewer)
        )
