"""Sending a proposal without an account: confirmed by the emailed link only, never seen
before, one proposal for a double submission, bad input refused field by field."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from conseils.errors import InvalidInput, NotFound
from notifications.tables import OutboxMessage
from proposals.services import submissions
from proposals.services.common import BODY_MAX
from proposals.tables import Proposal, ProposalHistory
from tests.support.proposal_support import (
    proposal_fields,
    proposal_row,
    proposal_tokens,
    published,
)
from tests.support.registration_support import published_meeting

pytestmark = pytest.mark.usefixtures("demo")


async def test_a_proposal_waits_for_its_link_then_goes_to_moderation() -> None:
    await submissions.submit("ales-tamaris", proposal_fields(1))
    row = await proposal_row(email="habitant1@example.org")
    assert row["status"] == "unconfirmed" and row["origin"] == "online"
    [token] = await proposal_tokens("habitant1@example.org")
    assert row["token_digest"] != token and len(row["token_digest"]) == 64  # its digest only

    preview = await submissions.proposal_to_confirm(token)  # a GET: a previewer's visit
    assert not preview.confirmed
    assert (await proposal_row(id=row["id"]))["status"] == "unconfirmed"

    first = await submissions.confirm_proposal(token)
    again = await submissions.confirm_proposal(token)
    assert first.confirmed and again == first
    row = await proposal_row(id=row["id"])
    assert row["status"] == "pending" and row["confirmed_at"] is not None
    actions = [
        r["action"]
        for r in await ProposalHistory.select().where(ProposalHistory.proposal == row["id"])
    ]
    assert actions == ["submitted", "confirmed"]


async def test_the_same_proposal_twice_in_a_row_is_one_proposal_and_one_email() -> None:
    await submissions.submit("ales-tamaris", proposal_fields(1))
    await submissions.submit("ales-tamaris", proposal_fields(1, email=" HABITANT1@example.org"))
    assert await Proposal.count() == 1
    assert await OutboxMessage.count().where(OutboxMessage.kind == "proposal_confirm") == 1
    # Another text from the same address is another proposal.
    await submissions.submit("ales-tamaris", proposal_fields(1, body="Et des poubelles."))
    assert await Proposal.count() == 2


async def test_bad_fields_are_refused_one_by_one() -> None:
    with pytest.raises(InvalidInput) as refused:
        await submissions.submit(
            "ales-tamaris",
            proposal_fields(title="x" * 151, body="", theme="astrologie", email="pas-une-adresse"),
        )
    assert set(refused.value.errors) == {"title", "body", "theme", "email"}
    with pytest.raises(InvalidInput) as huge:
        await submissions.submit("ales-tamaris", proposal_fields(body="a" * (BODY_MAX + 1)))
    assert "5000" in huge.value.errors["body"]
    with pytest.raises(InvalidInput) as nameless:
        await submissions.submit("ales-tamaris", proposal_fields(author_name="", show_name=True))
    assert set(nameless.value.errors) == {"author_name"}
    with pytest.raises(InvalidInput) as foreign:
        await submissions.submit("ales-tamaris", proposal_fields(meeting_id=987_654))
    assert set(foreign.value.errors) == {"meeting_id"}
    with pytest.raises(NotFound):
        await submissions.submit("inconnu", proposal_fields())
    assert await Proposal.count() == 0 and await OutboxMessage.count() == 0


async def test_a_wrong_link_is_not_found() -> None:
    for token in ("court", "a" * 43, "../" * 15):
        with pytest.raises(NotFound):
            await submissions.confirm_proposal(token)


async def test_the_form_sends_and_the_answer_shows_no_link(client: AsyncClient) -> None:
    form = {**proposal_fields(2), "show_name": "oui"}
    form.pop("show_name")
    answer = await client.post("/conseils/ales-tamaris/propositions/nouvelle", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/conseils/ales-tamaris/propositions/envoyee"
    [token] = await proposal_tokens("habitant2@example.org")
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200 and token not in page.text
    assert "Vérifiez votre boîte" in page.text

    shown = await client.get(f"/propositions/confirmer/{token}")
    assert shown.status_code == 200 and "Confirmer ma proposition" in shown.text
    assert (await proposal_row(email="habitant2@example.org"))["status"] == "unconfirmed"
    confirmed = await client.post(f"/propositions/confirmer/{token}")
    assert confirmed.status_code == 200 and "est confirmée" in confirmed.text
    assert (await proposal_row(email="habitant2@example.org"))["status"] == "pending"
    assert (await client.get("/propositions/confirmer/" + "b" * 43)).status_code == 404


async def test_the_form_shows_errors_next_to_their_fields(client: AsyncClient) -> None:
    answer = await client.post(
        "/conseils/ales-tamaris/propositions/nouvelle",
        data={"title": "<script>alert(1)</script>", "body": "", "theme": "", "email": ""},
    )
    assert answer.status_code == 400
    assert 'id="body-erreur"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


async def test_a_robot_filling_the_honeypot_hears_the_same_and_stores_nothing(
    client: AsyncClient,
) -> None:
    form = {**proposal_fields(3), "site_web": "http://spam.example"}
    form.pop("show_name")
    answer = await client.post("/conseils/ales-tamaris/propositions/nouvelle", data=form)
    assert answer.status_code == 303
    assert await Proposal.count() == 0 and await OutboxMessage.count() == 0


async def test_the_form_is_reached_from_council_and_meeting_pages(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    council = await client.get("/conseils/ales-tamaris")
    assert 'href="/conseils/ales-tamaris/propositions/nouvelle"' in council.text
    meeting = await published_meeting(client, tamaris_auth)
    page = await client.get(f"/reunions/{meeting['id']}")
    link = f"/conseils/ales-tamaris/propositions/nouvelle?reunion={meeting['id']}"
    assert link in page.text
    form = await client.get(link)
    assert form.status_code == 200 and meeting["title"] in form.text
    await submissions.submit("ales-tamaris", proposal_fields(4, meeting_id=meeting["id"]))
    assert (await proposal_row(email="habitant4@example.org"))["meeting"] == meeting["id"]


async def test_published_text_is_rendered_safely(client: AsyncClient) -> None:
    proposal_id = await published(
        body="<script>alert('x')</script> [site](https://example.org) [js](javascript:alert(1))",
        title="<b>Gras</b> & co",
    )
    page = await client.get(f"/propositions/{proposal_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert '<a href="https://example.org" rel="nofollow ugc">site</a>' in page.text
    assert 'href="javascript' not in page.text
    assert "&lt;b&gt;Gras&lt;/b&gt; &amp; co" in page.text
    assert "Une habitante ou un habitant" in page.text and "Camille Martin" not in page.text


async def test_the_api_answers_202_and_no_link(client: AsyncClient) -> None:
    body = {k: v for k, v in proposal_fields(6).items()}
    for _ in range(2):
        answer = await client.post("/api/v1/councils/ales-tamaris/proposals", json=body)
        assert answer.status_code == 202 and answer.json()["status"] == "received"
    [token] = await proposal_tokens("habitant6@example.org")
    assert token not in answer.text and await Proposal.count() == 1
    bad = await client.post(
        "/api/v1/councils/ales-tamaris/proposals", json={**body, "title": "", "theme": "x"}
    )
    assert bad.status_code == 400
    assert {e["key"] for e in bad.json()["extra"]} == {"title", "theme"}
    missing = await client.post("/api/v1/councils/inconnu/proposals", json=body)
    assert missing.status_code == 404 and missing.json()["code"] == "council_not_found"
