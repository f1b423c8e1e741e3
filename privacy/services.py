"""The personal-data link: asked for with an address, sent to that address only, valid one
hour; it shows, exports and erases everything held about the address.

- **The answer never tells whether an address is known**: the form's page is the same for
  all; only an address the service holds something about gets an email.
- **The token goes only to the inbox**: 256 random bits, stored as its SHA-256; a new
  request replaces the previous link. Viewing and downloading may be repeated within the
  hour (mail scanners open links: a GET changes nothing); erasing consumes the link.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from conseils import capabilities, personal_data, urls
from conseils.db import write_transaction
from conseils.errors import NotFound
from conseils.personal_data import AccessLinkRequested, Keeper, Record, json_ready
from conseils.timefmt import now_utc
from conseils.validation import required_email
from meetings.services import address_feeds
from notifications import outbox
from notifications.drafts import Draft
from notifications.rendering import render_pair
from privacy.tables import AccessRequest

VALIDITY = timedelta(hours=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkInvalid(NotFound):
    """An unknown, expired or used personal-data link."""

    def __init__(self) -> None:
        super().__init__("Ce lien n'est plus valable.", code="data_link_invalid")


async def request_link(value: Any) -> None:
    """Someone typed an address: if anything is held about it, its link goes to it. The
    caller answers the same either way."""
    email = required_email(value)
    async with write_transaction():
        if await personal_data.holds(email):
            await send_link(email)


async def link_requested(event: AccessLinkRequested) -> None:
    """A registration's manage page asked for its address's link (in its transaction)."""
    await send_link(event.email)


async def send_link(email: str) -> None:
    """A new link for `email`, by email (older links die); inside a write transaction.

    Past the outbox's cap on repeated messages (three a day), nothing changes: the request
    is recorded as held and the address's live link stays, so that someone typing another
    person's address again and again can neither flood their inbox nor kill their link."""
    token = capabilities.new_token()
    now = now_utc()
    text, html = render_pair("privacy_link", data_url=urls.personal_data_url(token))
    draft = Draft(
        key=f"privacy_link:{capabilities.digest(token)[:32]}",
        kind="privacy_link",
        recipient=email,
        subject="Vos données personnelles — conseils citoyens",
        text_body=text,
        html_body=html,
        capped=True,
    )
    if not await outbox.over_cap(draft, now):
        await AccessRequest.delete().where(AccessRequest.email == email)
        await AccessRequest.insert(
            AccessRequest(
                email=email,
                token_hash=capabilities.digest(token),
                expires_at=now + VALIDITY,
                created_at=now,
            )
        )
    await outbox.enqueue([draft])  # held past the cap: recorded, without its body


async def email_of(token: str) -> str:
    """The address of a live link (LinkInvalid otherwise)."""
    if not _TOKEN.match(token):
        raise LinkInvalid()
    hashed = capabilities.digest(token)
    row = await AccessRequest.select().where(AccessRequest.token_hash == hashed).first()
    if (
        row is None
        or not secrets.compare_digest(row["token_hash"], hashed)
        or row["expires_at"] <= now_utc()
    ):
        raise LinkInvalid()
    return row["email"]


async def held(token: str) -> tuple[str, dict[str, list[Record]]]:
    """The address of the link and everything held about it, by keeper."""
    email = await email_of(token)
    return email, await personal_data.export(email)


async def feed_url(token: str) -> str:
    """The address-level calendar feed's URL (made the first time)."""
    return urls.address_feed_url(await address_feeds.token_for(await email_of(token)))


async def renew_feed(token: str) -> None:
    await address_feeds.renew(await email_of(token))


async def erase(token: str) -> dict[str, int]:
    """Erase everything held about the link's address, in one transaction; the link dies
    with it (its row is among what is erased)."""
    async with write_transaction():
        email = await email_of(token)
        return await personal_data.erase(email)


async def _export_requests(email: str) -> list[Record]:
    rows = await AccessRequest.select(AccessRequest.created_at, AccessRequest.expires_at).where(
        AccessRequest.email == email
    )
    return [{key: json_ready(value) for key, value in row.items()} for row in rows]


async def _erase_requests(email: str) -> int:
    gone = (
        await AccessRequest.delete().where(AccessRequest.email == email).returning(AccessRequest.id)
    )
    return len(gone)


KEEPER = Keeper(
    name="data_links",
    title="Lien d'accès à mes données",
    export=_export_requests,
    erase=_erase_requests,
    labels={"created_at": "Demandé le", "expires_at": "Valable jusqu'au"},
)
