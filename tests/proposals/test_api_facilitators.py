"""The facilitators' proposals API over HTTP: the flows (moderation, status, answer, edit,
merge, agenda, café entry, CSV), another council's token (403), no token (401), invalid moves
(409) and bad input (400 naming the field)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from notifications.tables import OutboxMessage
from proposals.tables import Proposal, ProposalHistory
from tests.proposals.office_support import proposal, row, support
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import published_meeting

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
async def other_auth() -> dict[str, str]:
    return await make_facilitator("anim.rive-droite@ales.fr", "ales-rive-droite")


def _fields(answer: Any) -> dict[str, str]:
    assert answer.json()["code"] == "invalid", answer.text
    return {e["key"]: e["message"] for e in answer.json()["extra"]}


async def test_moderation_status_and_answer(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    pending = await proposal(title="Des bancs au square")
    other = await proposal(title="Un <script>alert(1)</script> jardin")
    base = f"/api/v1/proposals/{pending}"

    listed = await client.get(
        "/api/v1/councils/ales-tamaris/proposals/all",
        params={"status": "pending"},
        headers=tamaris_auth,
    )
    assert listed.status_code == 200, listed.text
    assert listed.headers["cache-control"] == "no-store"
    body = listed.json()
    assert body["total"] == 2 and {p["id"] for p in body["items"]} == {pending, other}
    first = next(p for p in body["items"] if p["id"] == pending)
    assert first["email"] == "autrice@example.org"  # the council's facilitator sees it
    assert first["council"] == "ales-tamaris" and first["moves"] == ["published", "rejected"]
    assert "token" not in listed.text and "digest" not in listed.text

    bad = await client.post(f"{base}/status", json={"status": "done"}, headers=tamaris_auth)
    assert bad.status_code == 409 and bad.json()["code"] == "invalid_transition"
    no_reason = await client.post(f"{base}/reject", json={"reason": " "}, headers=tamaris_auth)
    assert no_reason.status_code == 400 and "reason" in _fields(no_reason)
    answered_early = await client.put(
        f"{base}/answer", json={"answer": "Oui.", "answer_role": "Le bureau"}, headers=tamaris_auth
    )
    assert answered_early.status_code == 409
    assert answered_early.json()["code"] == "not_answerable"

    published = await client.post(f"{base}/publish", headers=tamaris_auth)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    again = await client.post(f"{base}/publish", headers=tamaris_auth)
    assert again.status_code == 200
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "autrice@example.org") == 1

    studied = await client.post(
        f"{base}/status", json={"status": "under_study"}, headers=tamaris_auth
    )
    assert studied.status_code == 200 and studied.json()["status"] == "under_study"
    unknown = await client.post(f"{base}/status", json={"status": "perdue"}, headers=tamaris_auth)
    assert unknown.status_code == 400 and "status" in _fields(unknown)

    bad_day = await client.put(
        f"{base}/answer",
        json={"answer": "Oui.", "answer_role": "Le bureau", "publish": True,
              "answered_on": "2999-01-01"},
        headers=tamaris_auth,
    )  # fmt: skip
    assert bad_day.status_code == 400 and "answered_on" in _fields(bad_day)
    empty = await client.put(
        f"{base}/answer", json={"answer": "", "answer_role": "Le bureau"}, headers=tamaris_auth
    )
    assert empty.status_code == 400 and "answer" in _fields(empty)
    answer = {"answer": "Les bancs arrivent en mai.", "answer_role": "Le bureau", "publish": True}
    done = await client.put(f"{base}/answer", json=answer, headers=tamaris_auth)
    assert done.status_code == 200, done.text
    assert done.json()["answered_at"] and done.json()["answer"] == answer["answer"]
    await client.put(f"{base}/answer", json=answer, headers=tamaris_auth)  # a retry: no email
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "autrice@example.org") == 3

    rejected = await client.post(
        f"/api/v1/proposals/{other}/status",
        json={"status": "rejected", "reason": "Hors du champ du conseil."},
        headers=tamaris_auth,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Hors du champ du conseil."

    record = await client.get(f"{base}/moderation", headers=tamaris_auth)
    assert record.status_code == 200
    assert [line["status_to"] for line in record.json()["history"]] == [
        "published", "under_study", "under_study",
    ]  # fmt: skip


async def test_edit_keeps_the_original_and_merge_counts_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    loser = await proposal(status="published", title="Des bnacs")
    survivor = await proposal(status="published", title="Des bancs au square")
    for address in ("a@example.org", "b@example.org"):
        await support(loser, address)
    await support(survivor, "a@example.org")

    edited = await client.patch(
        f"/api/v1/proposals/{loser}/moderation", json={"title": "Des bancs"}, headers=tamaris_auth
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Des bancs"
    assert edited.json()["theme"] == "cadre_de_vie"  # left as it was
    note = (
        await ProposalHistory.select(ProposalHistory.note)
        .where(ProposalHistory.action == "edited")
        .first()
    )
    assert "Des bnacs" in note["note"]
    huge = await client.patch(
        f"/api/v1/proposals/{loser}/moderation",
        json={"title": "x" * 151, "theme": "inconnu"},
        headers=tamaris_auth,
    )
    assert huge.status_code == 400 and {"title", "theme"} <= set(_fields(huge))

    itself = await client.post(
        f"/api/v1/proposals/{loser}/merge", json={"into": loser}, headers=tamaris_auth
    )
    assert itself.status_code == 400 and "into" in _fields(itself)
    nowhere = await client.post(
        f"/api/v1/proposals/{loser}/merge", json={"into": 0}, headers=tamaris_auth
    )
    assert nowhere.status_code == 400 and "into" in _fields(nowhere)
    merged = await client.post(
        f"/api/v1/proposals/{loser}/merge", json={"into": survivor}, headers=tamaris_auth
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["merged"]["merged_into"] == survivor
    assert merged.json()["survivor"]["supports"] == 2
    twice = await client.post(
        f"/api/v1/proposals/{loser}/merge", json={"into": survivor}, headers=tamaris_auth
    )
    assert twice.status_code == 409 and twice.json()["code"] == "not_mergeable"
    frozen = await client.patch(
        f"/api/v1/proposals/{loser}/moderation", json={"title": "Encore"}, headers=tamaris_auth
    )
    assert frozen.status_code == 409 and frozen.json()["code"] == "proposal_merged"


async def test_agenda_and_cafe_entry(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = (await published_meeting(client, tamaris_auth, title="Café citoyen"))["id"]
    pending = await proposal()
    public = await proposal(status="published", title="Un <b>terrain</b> de basket")
    put = f"/api/v1/meetings/{meeting}/agenda"

    early = await client.put(f"{put}/{pending}", headers=tamaris_auth)
    assert early.status_code == 409 and early.json()["code"] == "not_on_agenda_yet"
    on = await client.put(f"{put}/{public}", headers=tamaris_auth)
    assert on.status_code == 200, on.text
    assert [i["proposal_id"] for i in on.json()] == [public]
    page = await client.get(f"/reunions/{meeting}")
    assert "Un &lt;b&gt;terrain&lt;/b&gt; de basket" in page.text
    far = await client.put(f"{put}/{public}", json={"position": 0}, headers=tamaris_auth)
    assert far.status_code == 400 and "position" in _fields(far)
    off = await client.delete(f"{put}/{public}", headers=tamaris_auth)
    assert off.status_code == 204
    assert (await client.put(f"{put}/{public}", json={}, headers=tamaris_auth)).status_code == 200
    assert (await client.delete(f"{put}/{public}", headers=tamaris_auth)).status_code == 204

    collect = f"/api/v1/meetings/{meeting}/collected-proposals"
    rows = {
        "proposals": [
            {"title": "Plus de poubelles", "theme": "proprete"},
            {"title": "Une navette", "theme": "mobilite", "author_name": "Karim",
             "show_name": True, "email": "Karim@Example.org"},
        ]
    }  # fmt: skip
    key = {**tamaris_auth, "Idempotency-Key": "cafe-du-marche-1"}
    made = await client.post(collect, json=rows, headers=key)
    assert made.status_code == 201, made.text
    items = made.json()["items"]
    assert [i["status"] for i in items] == ["published", "published"]
    assert [i["public_author"] for i in items] == ["Anonyme", "Karim"]
    assert items[1]["email"] == "karim@example.org"
    repeat = await client.post(collect, json=rows, headers=key)
    assert repeat.status_code == 200 and repeat.json() == made.json()
    assert await Proposal.count().where(Proposal.origin == "collected_at_meeting") == 2

    wrong = await client.post(
        collect,
        json={"proposals": [{"title": "Bien", "theme": "autre"},
                            {"title": "", "theme": "nulle part", "email": "pas-une-adresse"}]},
        headers=tamaris_auth,
    )  # fmt: skip
    assert wrong.status_code == 400
    assert {"proposals[1].title", "proposals[1].theme", "proposals[1].email"} <= set(_fields(wrong))
    too_many = await client.post(
        collect, json={"proposals": [{"title": "x", "theme": "autre"}] * 31}, headers=tamaris_auth
    )
    assert too_many.status_code == 400 and "proposals" in _fields(too_many)
    none = await client.post(collect, json={"proposals": []}, headers=tamaris_auth)
    assert none.status_code == 400 and "proposals" in _fields(none)
    bad_key = await client.post(
        collect, json=rows, headers={**tamaris_auth, "Idempotency-Key": "k" * 101}
    )
    assert bad_key.status_code == 400 and "Idempotency-Key" in _fields(bad_key)
    assert await Proposal.count().where(Proposal.origin == "collected_at_meeting") == 2


async def test_csv_export(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    await proposal(title='=HYPERLINK("http://x")')
    await proposal(status="unconfirmed", title="Pas encore confirmée")
    answer = await client.get("/api/v1/councils/ales-tamaris/proposals.csv", headers=tamaris_auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "Pas encore confirmée" not in text
    assert "autrice@example.org" in text


async def test_another_councils_token_and_no_token(
    client: AsyncClient, other_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    pending = await proposal()
    before = await row(pending)
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/councils/ales-tamaris/proposals/all", None),
        ("GET", "/api/v1/councils/ales-tamaris/proposals.csv", None),
        ("GET", f"/api/v1/proposals/{pending}/moderation", None),
        ("PATCH", f"/api/v1/proposals/{pending}/moderation", {"title": "Pris"}),
        ("POST", f"/api/v1/proposals/{pending}/publish", None),
        ("POST", f"/api/v1/proposals/{pending}/reject", {"reason": "Non."}),
        ("POST", f"/api/v1/proposals/{pending}/status", {"status": "published"}),
        ("PUT", f"/api/v1/proposals/{pending}/answer", {"answer": "x", "answer_role": "y"}),
        ("POST", f"/api/v1/proposals/{pending}/merge", {"into": pending}),
    ]
    for method, path, body in calls:
        foreign = await client.request(method, path, json=body, headers=other_auth)
        assert foreign.status_code == 403, (path, foreign.text)
        assert foreign.json()["code"] == "not_your_council"
        assert "autrice@example.org" not in foreign.text
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        assert anonymous.json()["code"] == "auth_required"
    assert await row(pending) == before
    unknown = await client.get("/api/v1/proposals/987654/moderation", headers=other_auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "proposal_not_found"
    # An administrator runs every council.
    admin = await client.post(f"/api/v1/proposals/{pending}/publish", headers=admin_auth)
    assert admin.status_code == 200 and admin.json()["status"] == "published"


async def test_cafe_entry_sent_twice_at_once_creates_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = (await published_meeting(client, tamaris_auth, title="Café du marché"))["id"]
    rows = {"proposals": [{"title": "Un banc", "theme": "autre"}]}
    key = {**tamaris_auth, "Idempotency-Key": "double-clic"}
    path = f"/api/v1/meetings/{meeting}/collected-proposals"
    first, second = await asyncio.gather(
        client.post(path, json=rows, headers=key), client.post(path, json=rows, headers=key)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json() == second.json()
    assert await Proposal.count() == 1
