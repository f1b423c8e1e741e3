"""HTTP for email: subscription pages (French), one-click unsubscribe, and the JSON API
(public subscription request; facilitators' view of the outbox)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from msgspec import Struct

from conseils.errors import InvalidInput
from conseils.viewer import FacilitatorView
from conseils.web.headers import NO_STORE
from conseils.web.shapes import present, shape_of
from meetings.services.councils import get_council
from notifications import outbox, subscriptions

HONEYPOT = "site_web"  # hidden from people; bots fill it in
Form = URLEncodedBody[dict[str, str]]
SENT = (
    "Si cette adresse n'était pas encore abonnée, un courriel de confirmation vient de lui "
    "être envoyé : ouvrez le lien qu'il contient pour recevoir les annonces."
)


class SubscriptionPages(Controller):
    include_in_schema = False

    @post("/conseils/{slug:str}/abonnement", status_code=HTTP_200_OK)
    async def subscribe(self, slug: FromPath[str], data: Form) -> Template:
        council = await get_council(slug)
        email = data.get("email", "")
        if data.get(HONEYPOT):
            return Template("pages/subscription.html", context={"council": council, "sent": True})
        try:
            await subscriptions.subscribe(slug, email)
        except InvalidInput as exc:
            return Template(
                "pages/subscription.html",
                context={"council": council, "email": email, "error": exc.errors.get("email")},
                status_code=400,
            )
        return Template("pages/subscription.html", context={"council": council, "sent": True})

    @get("/abonnements/{token:str}/confirmer")
    async def confirm_form(self, token: FromPath[str]) -> Template:
        subscription = await subscriptions.get_subscription(token)
        return Template(
            "pages/subscription_link.html",
            context={"subscription": subscription, "action": "confirmer"},
        )

    @post("/abonnements/{token:str}/confirmer", status_code=HTTP_200_OK)
    async def confirm(self, token: FromPath[str]) -> Template:
        subscription = await subscriptions.confirm(token)
        return Template(
            "pages/subscription_link.html",
            context={"subscription": subscription, "action": "confirmer", "done": True},
        )

    @get("/abonnements/{token:str}/desabonner")
    async def unsubscribe_form(self, token: FromPath[str]) -> Template:
        subscription = await subscriptions.subscription_to_unsubscribe(token)
        return Template(
            "pages/subscription_link.html",
            context={"subscription": subscription, "action": "desabonner"},
        )

    @post("/abonnements/{token:str}/desabonner", status_code=HTTP_200_OK)
    async def unsubscribe(self, request: Request, token: FromPath[str]) -> Template:
        """RFC 8058 one-click: mail providers POST `List-Unsubscribe=One-Click` here with no
        cookie and no CSRF token; the token in the address is the only credential."""
        subscription = await subscriptions.unsubscribe(token)
        return Template(
            "pages/subscription_link.html",
            context={"subscription": subscription, "action": "desabonner", "done": True},
        )


# ---------------------------------------------------------------- JSON API


class SubscriptionIn(Struct, forbid_unknown_fields=True):
    email: str
    site_web: str = ""  # the honeypot: filled in by robots only, answered like anyone else


class SubscriptionAccepted(Struct):
    status: Literal["pending"]
    detail: str


# The facilitators' view of a message, as the outbox service defines it.
OutboxOut = shape_of(outbox.OutboxView, "OutboxOut")


class OutboxPage(Struct):
    items: list[OutboxOut]
    total: int
    limit: int
    offset: int


class SubscriptionApi(Controller):
    path = "/councils"
    tags = ["subscriptions"]

    @post("/{slug:str}/subscriptions", status_code=HTTP_202_ACCEPTED)
    async def subscribe(
        self, slug: FromPath[str], data: JSONBody[SubscriptionIn]
    ) -> SubscriptionAccepted:
        """Ask for a council's announcements; the address receives a confirmation link."""
        if not data.site_web:
            await subscriptions.subscribe(slug, data.email)
        return SubscriptionAccepted("pending", SENT)


class OutboxApi(Controller):
    path = "/outbox"
    tags = ["outbox"]
    cache_control = NO_STORE
    security = [{"bearer": []}]

    @get("/")
    async def list_messages(
        self,
        viewer: NamedDependency[FacilitatorView],
        status: FromQuery[
            Literal["queued", "sending", "sent", "failed", "cancelled", "held"] | None
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> OutboxPage:
        """The emails of the viewer's councils, newest first, with failures and reasons."""
        items, total = await outbox.list_messages(viewer, status=status, limit=limit, offset=offset)
        return OutboxPage([present(OutboxOut, item) for item in items], total, limit, offset)

    @post("/{message_id:int}/retry", status_code=HTTP_200_OK)
    async def retry(
        self, viewer: NamedDependency[FacilitatorView], message_id: FromPath[int]
    ) -> OutboxOut:
        """Queue a failed message again (409 if it has not failed)."""
        return present(OutboxOut, await outbox.retry_message(viewer, message_id))
