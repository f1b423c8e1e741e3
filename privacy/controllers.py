"""The `/mes-donnees` pages: ask for the link, then (through it) see, download and erase
what is held about an address, and its address-level calendar feed. French, no JavaScript;
every answer reached through the link is `no-store`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from conseils import personal_data
from conseils.errors import InvalidInput
from conseils.timefmt import french_date, french_time
from conseils.web.headers import NO_STORE
from privacy import services

WORDS = {
    "confirmed": "confirmée", "waitlisted": "sur liste d'attente", "cancelled": "annulée",
    "pending": "en attente de confirmation", "active": "actif", "unsubscribed": "désabonné·e",
    "queued": "en attente d'envoi", "sending": "en cours d'envoi", "sent": "envoyé",
    "failed": "non distribué",
}  # fmt: skip
_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
NOT_VALID = 404


def shown(value: Any) -> str:
    """A record's value as the page shows it: dates the French way, statuses in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and _MOMENT.match(value):
        moment = datetime.fromisoformat(value)
        return f"{french_date(moment)} à {french_time(moment)}"
    return WORDS.get(value, str(value)) if isinstance(value, str) else str(value)


def _invalid() -> Template:
    return Template("pages/privacy_invalid.html", status_code=NOT_VALID, context={})


Form = URLEncodedBody[dict[str, str]]


class PrivacyPages(Controller):
    include_in_schema = False

    @get("/mes-donnees")
    async def ask(self) -> Template:
        return Template("pages/privacy_request.html", context={"form": {}, "errors": {}})

    @post("/mes-donnees", status_code=HTTP_200_OK)
    async def request_link(self, data: Form) -> Template | Redirect:
        """The same answer for every address: a link goes only to an address the service
        holds something about, and only to its inbox."""
        try:
            await services.request_link(data.get("email"))
        except InvalidInput as exc:
            context = {"form": data, "errors": exc.errors}
            return Template("pages/privacy_request.html", context=context, status_code=400)
        return Redirect("/mes-donnees/demande-envoyee", status_code=303)

    @get("/mes-donnees/demande-envoyee")
    async def sent(self) -> Template:
        return Template("pages/privacy_sent.html", context={})

    @get("/mes-donnees/effacees")
    async def erased(self) -> Template:
        return Template("pages/privacy_erased.html", context={})

    @get("/mes-donnees/{token:str}", cache_control=NO_STORE)
    async def show(self, token: FromPath[str]) -> Template:
        return await _data_page(token)

    @get("/mes-donnees/{token:str}/export.json", cache_control=NO_STORE)
    async def export(self, token: FromPath[str]) -> Response:
        try:
            email, held = await services.held(token)
        except services.LinkInvalid:
            return _invalid()
        body = {"email": email, **held}
        return Response(
            json.dumps(body, ensure_ascii=False, indent=2).encode(),
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="mes-donnees.json"'},
        )

    @get("/mes-donnees/{token:str}/effacer", cache_control=NO_STORE)
    async def confirm_erase(self, token: FromPath[str]) -> Template:
        """Erasing asks first: a second click, on purpose."""
        return await _data_page(token, confirm_erase=True)

    @post("/mes-donnees/{token:str}/effacer", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def erase(self, token: FromPath[str]) -> Template | Redirect:
        try:
            await services.erase(token)
        except services.LinkInvalid:
            return _invalid()
        return Redirect("/mes-donnees/effacees", status_code=303)

    @post("/mes-donnees/{token:str}/agenda", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def renew_feed(self, token: FromPath[str]) -> Template:
        """A new address for the calendar of all the address's meetings; the old one dies."""
        try:
            await services.renew_feed(token)
        except services.LinkInvalid:
            return _invalid()
        return await _data_page(token, feed_renewed=True)


async def _data_page(
    token: str, *, confirm_erase: bool = False, feed_renewed: bool = False
) -> Template:
    try:
        email, held = await services.held(token)
        feed_url = await services.feed_url(token)
    except services.LinkInvalid:
        return _invalid()
    sections = [
        {
            "title": keeper.title,
            "labels": keeper.labels,
            "records": [
                {label: shown(record.get(field)) for field, label in keeper.labels.items()}
                for record in held.get(keeper.name, [])
            ],
        }
        for keeper in personal_data.keepers()
    ]
    return Template(
        "pages/privacy_data.html",
        context={
            "token": token,
            "email": email,
            "sections": sections,
            "feed_url": feed_url,
            "feed_renewed": feed_renewed,
            "confirm_erase": confirm_erase,
        },
    )
