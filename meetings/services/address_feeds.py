"""The address-level calendar feed ("toutes mes réunions"): every meeting an address holds
a seat at, in every council, behind a read-only token of its own.

The token is shown only on the personal-data page, itself reached from a link emailed to
the address: knowing an address is never enough to read its calendar. Renewing the token
kills the old URL; erasing the address's data deletes it.
"""

from __future__ import annotations

import re
import secrets

from conseils.errors import NotFound
from conseils.timefmt import now_utc
from meetings.tables import AddressFeed, Registration

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _no_feed() -> NotFound:
    return NotFound("Ce lien d'agenda n'est pas valable.", code="feed_not_found")


async def token_for(email: str) -> str:
    """The address's feed token, made the first time it is asked for."""
    row = await AddressFeed.select(AddressFeed.token).where(AddressFeed.email == email).first()
    if row is not None:
        return row["token"]
    token = secrets.token_urlsafe(32)
    await AddressFeed.insert(
        AddressFeed(email=email, token=token, created_at=now_utc())
    ).on_conflict(action="DO NOTHING")
    row = await AddressFeed.select(AddressFeed.token).where(AddressFeed.email == email).first()
    return row["token"]


async def renew(email: str) -> str:
    """A new token for the address's feed: the old URL stops working at once."""
    await forget(email)
    return await token_for(email)


async def forget(email: str) -> int:
    """Delete the address's feed token (renewal, erasure). Returns how many."""
    gone = await AddressFeed.delete().where(AddressFeed.email == email).returning(AddressFeed.id)
    return len(gone)


async def export(email: str) -> list[dict]:
    """The feed as a record of the address's data (its token is a credential, left out)."""
    return await AddressFeed.select(AddressFeed.created_at).where(AddressFeed.email == email)


async def meetings_of(token: str) -> list[int]:
    """The meetings whose seat the feed's address holds (confirmed), in every council. The
    token is compared in constant time."""
    if not _TOKEN.match(token):
        raise _no_feed()
    row = await AddressFeed.select().where(AddressFeed.token == token).first()
    if row is None or not secrets.compare_digest(row["token"], token):
        raise _no_feed()
    rows = await Registration.select(Registration.meeting).where(
        (Registration.email == row["email"]) & (Registration.status == "confirmed")
    )
    return [r["meeting"] for r in rows]
