"""Residents' rights over their proposals and supports (through the /mes-donnees pages), and
bursts from one client cut at the limit, as for sign-ups."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx import AsyncClient

from conseils.app import create_app
from proposals.services import submissions
from proposals.tables import Proposal, Support
from tests.support.limits_support import with_limits
from tests.support.privacy_support import ask_link, tables_holding
from tests.support.proposal_support import (
    confirmed_supports,
    proposal_fields,
    published,
    supporter,
)

pytestmark = pytest.mark.usefixtures("demo")
ADDRESS = "habitante.a@example.org"


async def test_erasure_anonymises_proposals_and_takes_back_exactly_the_confirmed_supports(
    client: AsyncClient,
) -> None:
    mine = await published(
        n="a", email=ADDRESS, author_name="Alice Martin", show_name=True, title="Un jardin"
    )
    await submissions.submit("ales-tamaris", proposal_fields("x", email=ADDRESS, title="Brouillon"))
    other = await published(n="b", title="Des bancs")
    third = await published(n="c", title="Des arbres")
    await submissions.confirm_support(await supporter(other, ADDRESS))
    await submissions.confirm_support(await supporter(other, "voisin@example.org"))
    await supporter(third, ADDRESS)  # never confirmed: never counted
    await submissions.confirm_support(await supporter(third, "voisin@example.org"))
    assert await confirmed_supports(other) == (2, 2)
    assert await confirmed_supports(third) == (1, 1)

    token = await ask_link(client, ADDRESS)
    exported = json.loads((await client.get(f"/mes-donnees/{token}/export.json")).content)
    assert {p["title"] for p in exported["proposals"]} == {"Un jardin", "Brouillon"}
    assert {s["title"] for s in exported["supports"]} == {"Des bancs", "Des arbres"}
    page = await client.get(f"/mes-donnees/{token}")
    assert "Propositions envoyées" in page.text and "Soutiens à des propositions" in page.text

    erased = await client.post(f"/mes-donnees/{token}/effacer")
    assert erased.status_code == 303
    assert await tables_holding(ADDRESS) == []
    assert await tables_holding("Alice Martin") == []
    kept = await Proposal.select().where(Proposal.id == mine).first()
    assert (kept["email"], kept["author_name"], kept["show_name"]) == (None, "", False)
    assert await Proposal.count().where(Proposal.title == "Brouillon") == 0  # seen by no one
    assert await confirmed_supports(other) == (1, 1)
    assert await confirmed_supports(third) == (1, 1)
    assert await Support.count().where(Support.email == ADDRESS) == 0
    shown = await client.get(f"/propositions/{mine}")
    assert "Une habitante ou un habitant" in shown.text and "Alice" not in shown.text


async def test_a_burst_of_submissions_or_supports_answers_429_in_french(
    client: AsyncClient,
) -> None:
    proposal_id = await published(n="p")
    async with with_limits(RATE_LIMIT_PER_MINUTE="2"):
        limited = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app()), base_url="http://testserver.local"
        )
        async with limited:
            for n in range(2):
                form = {k: v for k, v in proposal_fields(n).items() if k != "show_name"}
                sent = await limited.post("/conseils/ales-tamaris/propositions/nouvelle", data=form)
                assert sent.status_code in (200, 303)
            page = await limited.post(
                f"/propositions/{proposal_id}/soutien", data={"email": "s@example.org"}
            )
            assert page.status_code == 429
            assert "Trop de demandes" in page.text and page.headers["Retry-After"].isdigit()
            api = await limited.post(
                "/api/v1/councils/ales-tamaris/proposals",
                json={k: v for k, v in proposal_fields(5).items()},
            )
            assert api.status_code == 429 and api.json()["code"] == "too_many_requests"
    assert await Support.count() == 0
