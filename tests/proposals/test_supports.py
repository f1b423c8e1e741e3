"""Supports: one per address, counted once confirmed by the emailed link; the count always
equals the confirmed supports, whatever is clicked twice."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

from conseils.errors import NotFound
from notifications.tables import OutboxMessage
from proposals.services import submissions
from proposals.tables import Support
from tests.support.proposal_support import (
    confirmed_supports,
    published,
    sent_and_confirmed,
    support_tokens,
    supporter,
)

pytestmark = pytest.mark.usefixtures("demo")


async def test_a_support_counts_once_confirmed_and_once_only() -> None:
    proposal_id = await published()
    token = await supporter(proposal_id, "voisin@example.org", wants_news=True)
    assert await confirmed_supports(proposal_id) == (0, 0)
    preview = await submissions.support_to_confirm(token)
    assert not preview.confirmed and await confirmed_supports(proposal_id) == (0, 0)

    first = await submissions.confirm_support(token)
    second = await submissions.confirm_support(token)
    assert first.confirmed and first == second and first.supports == 1
    assert await confirmed_supports(proposal_id) == (1, 1)

    # The same address again: no second support, no email, the same silence.
    await submissions.request_support(proposal_id, " Voisin@Example.org ")
    assert await Support.count() == 1
    assert await OutboxMessage.count().where(OutboxMessage.kind == "support_confirm") == 1
    assert await confirmed_supports(proposal_id) == (1, 1)
    row = await Support.select().first()
    assert row["wants_news"] is True and row["token_digest"] != token


async def test_a_double_request_is_one_email_and_concurrent_clicks_count_once() -> None:
    proposal_id = await published()
    await submissions.request_support(proposal_id, "double@example.org")
    await submissions.request_support(proposal_id, "double@example.org")
    [token] = await support_tokens("double@example.org")
    others = [await supporter(proposal_id, f"s{n}@example.org") for n in range(5)]
    await asyncio.gather(
        *(submissions.confirm_support(t) for t in [token, token, token, *others, *others])
    )
    assert await confirmed_supports(proposal_id) == (6, 6)


async def test_only_public_proposals_can_be_supported() -> None:
    pending = await sent_and_confirmed(n=2)
    with pytest.raises(NotFound):
        await submissions.request_support(pending, "voisin@example.org")
    with pytest.raises(NotFound):
        await submissions.request_support(987_654, "voisin@example.org")
    assert await Support.count() == 0


async def test_supporting_through_the_page(client: AsyncClient) -> None:
    proposal_id = await published()
    answer = await client.post(
        f"/propositions/{proposal_id}/soutien",
        data={"email": "page@example.org", "wants_news": "oui"},
    )
    assert answer.status_code == 303
    sent = await client.get(answer.headers["location"])
    [token] = await support_tokens("page@example.org")
    assert token not in sent.text and "Vérifiez votre boîte" in sent.text
    shown = await client.get(f"/soutiens/confirmer/{token}")
    assert "Confirmer mon soutien" in shown.text
    assert await confirmed_supports(proposal_id) == (0, 0)
    done = await client.post(f"/soutiens/confirmer/{token}")
    assert done.status_code == 200 and "1 soutien." in done.text
    again = await client.post(f"/soutiens/confirmer/{token}")
    assert again.status_code == 200 and "1 soutien." in again.text
    assert await confirmed_supports(proposal_id) == (1, 1)
    page = await client.get(f"/propositions/{proposal_id}")
    assert "1 soutien<" in page.text

    wrong = await client.post(f"/propositions/{proposal_id}/soutien", data={"email": "x"})
    assert wrong.status_code == 400 and 'id="email-erreur"' in wrong.text


async def test_supporting_through_the_api(client: AsyncClient) -> None:
    proposal_id = await published()
    for _ in range(2):
        answer = await client.post(
            f"/api/v1/proposals/{proposal_id}/supports", json={"email": "api@example.org"}
        )
        assert answer.status_code == 202
        assert answer.json()["status"] == "received"
    [token] = await support_tokens("api@example.org")
    assert token not in answer.text
    missing = await client.post(
        "/api/v1/proposals/987654/supports", json={"email": "api@example.org"}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "proposal_not_found"
