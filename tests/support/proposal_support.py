"""Helpers of the proposals tests: a proposal sent and confirmed as a resident does it (the
links read from the emails queued for the address), published by a facilitator through the
one `set_status`, and the rows as the database holds them."""

from __future__ import annotations

import re
from typing import Any

from conseils.viewer import FacilitatorView
from meetings.tables import Council
from notifications.tables import OutboxMessage
from proposals.services import common, submissions
from proposals.tables import Proposal, Support
from tests.support.registration_support import message_of, plain_text

_PROPOSAL_LINK = re.compile(r"https?://[^\s<>\"]+/propositions/confirmer/([A-Za-z0-9_-]{43})")
_SUPPORT_LINK = re.compile(r"https?://[^\s<>\"]+/soutiens/confirmer/([A-Za-z0-9_-]{43})")
ADMIN = FacilitatorView(1, "admin@ales.fr", "Admin", True, frozenset())


def proposal_fields(n: int | str = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "title": f"Des bancs sur la place du marché {n}",
        "body": "Les personnes âgées n'ont **nulle part** où s'asseoir.",
        "theme": "cadre_de_vie",
        "author_name": "Camille Martin",
        "show_name": False,
        "email": f"habitant{n}@example.org",
        **overrides,
    }


async def _links(kind: str, address: str, pattern: re.Pattern[str]) -> list[str]:
    rows = (
        await OutboxMessage.select()
        .where((OutboxMessage.kind == kind) & (OutboxMessage.recipient == address))
        .order_by(OutboxMessage.id)
    )
    return [t for row in rows for t in pattern.findall(plain_text(message_of(row)))]


async def proposal_tokens(address: str) -> list[str]:
    return await _links("proposal_confirm", address, _PROPOSAL_LINK)


async def support_tokens(address: str) -> list[str]:
    return await _links("support_confirm", address, _SUPPORT_LINK)


async def proposal_row(**where: Any) -> dict[str, Any]:
    query = Proposal.select()
    for name, value in where.items():
        query = query.where(getattr(Proposal, name) == value)
    found = await query.first()
    assert found is not None
    return found


async def sent_and_confirmed(slug: str = "ales-tamaris", **fields: Any) -> int:
    """A proposal sent and confirmed by its author: pending moderation. Its id."""
    sent = proposal_fields(**fields)
    await submissions.submit(slug, sent)
    token = (await proposal_tokens(sent["email"]))[-1]
    confirmation = await submissions.confirm_proposal(token)
    return confirmation.proposal_id


async def published(slug: str = "ales-tamaris", **fields: Any) -> int:
    proposal_id = await sent_and_confirmed(slug, **fields)
    await common.set_status(ADMIN, proposal_id, "published")
    return proposal_id


async def supporter(proposal_id: int, address: str, *, wants_news: bool = False) -> str:
    """A support asked for; the token of its emailed link."""
    await submissions.request_support(proposal_id, address, wants_news=wants_news)
    return (await support_tokens(address))[-1]


async def confirmed_supports(proposal_id: int) -> tuple[int, int]:
    """(the count on the proposal, the confirmed supports counted one by one)."""
    row = await proposal_row(id=proposal_id)
    counted = await Support.count().where(
        (Support.proposal == proposal_id) & (Support.status == "confirmed")
    )
    return row["supports"], counted


async def council_id(slug: str) -> int:
    row = await Council.select(Council.id).where(Council.slug == slug).first()
    assert row is not None
    return row["id"]
