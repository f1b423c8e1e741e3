"""HTTP for email: subscription pages (French), one-click unsubscribe, and the JSON API
(public subscription request; facilitators' view of the outbox)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import (
    Body,
    FromPath,
    PathParameter,
    QueryParameter,
    URLEncodedBody,
)
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from msgspec import Struct

from conseils.errors import InvalidInput
from conseils.viewer import FacilitatorView
from conseils.web.api_spec import (
    BEARER,
    INVALID,
    JSON_BODY,
    PUBLIC_WRITE,
    JsonExample,
    Reason,
    operation,
)
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


COUNCIL_NOT_FOUND = Reason(404, "council_not_found", "no council has this slug")
NO_COUNCIL = Reason(403, "no_council", "you run no council (and are no administrator)")
MESSAGE_NOT_FOUND = Reason(
    404, "message_not_found", "no such message among your councils' (administrators: any)"
)
MESSAGE_NOT_FAILED = Reason(
    409, "message_not_failed", "the message has not failed: only a failed one is queued again"
)
SUBSCRIPTION_IN = JsonExample(
    id="resident",
    summary="A resident asks for the announcements",
    value={"email": "camille.martin@example.org"},
)
SUBSCRIPTION_ACCEPTED = JsonExample(
    id="pending",
    summary="The one answer, whatever the address",
    value={"status": "pending", "detail": SENT},
)


class SubscriptionApi(Controller):
    path = "/councils"
    tags = ["subscriptions"]

    @post(
        "/{slug:str}/subscriptions",
        status_code=HTTP_202_ACCEPTED,
        **operation(
            "subscribeToCouncil",
            "Subscribe to a council's announcements",
            *JSON_BODY,
            *PUBLIC_WRITE,
            COUNCIL_NOT_FOUND,
            answers={
                HTTP_202_ACCEPTED: ResponseSpec(
                    SubscriptionAccepted,
                    description="Pending: the address gets a confirmation link by email",
                    examples=[SUBSCRIPTION_ACCEPTED],
                    generate_examples=False,
                )
            },
        ),
    )
    async def subscribe(
        self,
        slug: Annotated[str, PathParameter(description="The council's slug")],
        data: Annotated[SubscriptionIn, Body(examples=[SUBSCRIPTION_IN])],
    ) -> SubscriptionAccepted:
        """Ask for a council's announcements by email (anyone may call; no token). Always
        202 `pending`, whether the address was new or subscribed already: a new address
        gets an email with a confirmation link (not again within 10 minutes; an address
        already confirmed gets nothing), and no announcement until that link is opened.
        Every announcement carries a one-click unsubscribe link."""
        if not data.site_web:
            await subscriptions.subscribe(slug, data.email)
        return SubscriptionAccepted("pending", SENT)


class OutboxApi(Controller):
    path = "/outbox"
    tags = ["outbox"]
    cache_control = NO_STORE
    security = [{"bearer": []}]

    @get("/", **operation("listOutboxMessages", "List the emails sent", INVALID, *BEARER))
    async def list_messages(
        self,
        viewer: NamedDependency[FacilitatorView],
        status: Annotated[
            Literal["queued", "sending", "sent", "failed", "cancelled", "held"] | None,
            QueryParameter(description="Only the messages in this state"),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> OutboxPage:
        """The emails of your councils (administrators: all of them), newest first, with
        their state, attempts and, for failures, the reason. Any facilitator; a
        facilitator of no council sees an empty list. `total` counts every match; page
        with `limit` (1 to 200) and `offset`."""
        items, total = await outbox.list_messages(viewer, status=status, limit=limit, offset=offset)
        return OutboxPage([present(OutboxOut, item) for item in items], total, limit, offset)

    @post(
        "/{message_id:int}/retry",
        status_code=HTTP_200_OK,
        **operation(
            "retryOutboxMessage",
            "Send a failed email again",
            *BEARER,
            NO_COUNCIL,
            MESSAGE_NOT_FOUND,
            MESSAGE_NOT_FAILED,
        ),
    )
    async def retry(
        self,
        viewer: NamedDependency[FacilitatorView],
        message_id: Annotated[int, PathParameter(description="Message id")],
    ) -> OutboxOut:
        """Queue a failed email again, now (its two days of retries start afresh).
        Facilitators of the message's council and administrators. Only a failed message
        goes back to the queue (409 otherwise), so a message sent is never sent twice."""
        return present(OutboxOut, await outbox.retry_message(viewer, message_id))
