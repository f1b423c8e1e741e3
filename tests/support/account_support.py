"""Helpers of the accounts tests: the password links as the emails carry them."""

from __future__ import annotations

import re

from notifications.tables import OutboxMessage
from tests.support.registration_support import message_of, plain_text

_PASSWORD_LINK = re.compile(r"https?://[^\s<>\"]+/animation/mot-de-passe/([A-Za-z0-9_-]{43})")
KINDS = {"reset": "password_reset", "invitation": "facilitator_invitation"}


def links_in(text: str) -> list[str]:
    return _PASSWORD_LINK.findall(text)


async def emailed_links(address: str, purpose: str = "reset") -> list[str]:
    """The tokens of the password links emailed to `address`, oldest first."""
    rows = (
        await OutboxMessage.select()
        .where((OutboxMessage.kind == KINDS[purpose]) & (OutboxMessage.recipient == address))
        .order_by(OutboxMessage.id)
    )
    return [token for row in rows for token in links_in(plain_text(message_of(row)))]


def link_path(token: str) -> str:
    return f"/animation/mot-de-passe/{token}"
