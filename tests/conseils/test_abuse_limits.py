"""Abuse limits on the public side: per-client rate limits (shared counters), JSON only on
the API, same-origin form posts, honeypots answered like successes, and the cap on repeated
resident-triggered mail."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar import Litestar

from conseils.app import create_app
from conseils.counters import FileCounters
from meetings.tables import Registration
from notifications.tables import OutboxMessage, Subscription
from tests.support.limits_support import REDIS_URL, with_limits
from tests.support.registration_support import (
    RECEIVED,
    form_of,
    person,
    published_meeting,
    registration_of,
    token_of,
)

SIGN_UP = "/api/v1/meetings/{}/registrations"


def _from(ip: str) -> dict[str, str]:
    """As a request relayed by our reverse proxy (loopback, trusted) for client `ip`."""
    return {"X-Forwarded-For": ip}


async def _client(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    )


@pytest.mark.parametrize("store", ["redis", "file"])
async def test_a_burst_from_one_ip_is_cut_at_the_limit_while_another_ip_signs_up(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str], store: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    environment = {"RATE_LIMIT_PER_MINUTE": "20"}
    if store == "redis":
        environment["REDIS_URL"] = REDIS_URL
    async with with_limits(**environment), await _client(create_app()) as limited:
        answers = await asyncio.gather(
            *(
                limited.post(
                    SIGN_UP.format(meeting["id"]), json=person(n), headers=_from("203.0.113.7")
                )
                for n in range(200)
            )
        )
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(202) == 20
        assert statuses.count(429) == 180
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["code"] == "too_many_requests"
        assert "réessayez dans" in refused.json()["detail"]
        other = await limited.post(
            SIGN_UP.format(meeting["id"]), json=person("autre"), headers=_from("198.51.100.9")
        )
        assert other.status_code == 202
    assert await Registration.count().where(Registration.meeting == meeting["id"]) == 21


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    # The test client connects from 127.0.0.1: not a trusted proxy here.
    async with (
        with_limits(RATE_LIMIT_PER_MINUTE="3", TRUSTED_PROXIES="10.9.9.9"),
        await _client(create_app()) as limited,
    ):
        statuses = [
            (
                await limited.post(
                    SIGN_UP.format(meeting["id"]), json=person(n), headers=_from(f"192.0.2.{n}")
                )
            ).status_code
            for n in range(5)
        ]
    assert statuses == [202, 202, 202, 429, 429]


async def test_the_page_says_it_in_french_and_one_click_unsubscribe_is_exempt(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    await client.post(
        "/api/v1/councils/ales-tamaris/subscriptions", json={"email": "a@example.org"}
    )
    token = (await Subscription.select(Subscription.token).first())["token"]
    async with with_limits(RATE_LIMIT_PER_MINUTE="2"), await _client(create_app()) as limited:
        for n in range(2):
            page = await limited.post(
                f"/reunions/{meeting['id']}/inscription", data=form_of(person(n))
            )
            assert page.status_code == 303
        page = await limited.post(f"/reunions/{meeting['id']}/inscription", data=form_of(person(9)))
        assert page.status_code == 429
        assert page.headers["content-type"].startswith("text/html")
        assert "Trop de demandes" in page.text
        assert page.headers["Retry-After"].isdigit()
        # RFC 8058: a mail provider's server posts the one-click unsubscribe, from anywhere.
        for _ in range(3):
            unsubscribed = await limited.post(
                f"/abonnements/{token}/desabonner",
                data={"List-Unsubscribe": "One-Click"},
                headers={"Origin": "https://mail.provider.example"},
            )
            assert unsubscribed.status_code == 200


async def test_counts_are_shared_by_every_process_of_a_host(tmp_path: Any) -> None:
    """Two stores on one file (as two processes have): one count, never a lost hit."""
    first, second = FileCounters(tmp_path / "c.sqlite"), FileCounters(tmp_path / "c.sqlite")
    counts = await asyncio.gather(
        *(store.hit("post:1.2.3.4", 60) for store in [first, second] * 50)
    )
    assert sorted(count for count, _ in counts) == list(range(1, 101))
    assert await first.count("post:1.2.3.4") == 100
    # Only pseudonyms are stored: no address in the file.
    files = b"".join(path.read_bytes() for path in tmp_path.iterdir())  # with the WAL
    assert b"post:" in files
    assert b"1.2.3.4" not in files
    await second.block("login:x", 5)
    assert 4 < await first.blocked_for("login:x") <= 5
    await first.reset("login:x", "post:1.2.3.4")
    assert await second.blocked_for("login:x") == 0
    assert await second.count("post:1.2.3.4") == 0


async def test_the_api_reads_json_only(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        answer = await client.post(
            SIGN_UP.format(meeting["id"]),
            content=b'{"name": "x"}',
            headers={"Content-Type": content_type} if content_type else {},
        )
        assert answer.status_code == 415, content_type
        assert answer.json()["code"] == "unsupported_media_type"
    assert await Registration.count() == 0
    # application/json with a charset, or a +json type, is JSON.
    answer = await client.post(
        SIGN_UP.format(meeting["id"]),
        content=httpx.Request("POST", "/", json=person(1)).content,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 202


async def test_form_posts_from_another_site_are_refused(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    url = f"/reunions/{meeting['id']}/inscription"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        page = await client.post(url, data=form_of(person(1)), headers=headers)
        assert page.status_code == 403, headers
        assert "depuis le site lui-même" in page.text
    assert await Registration.count() == 0
    same = await client.post(
        url,
        data=form_of(person(1)),
        headers={"Origin": "http://testserver.local", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 303
    assert await Registration.count() == 1


async def test_honeypots_answer_like_a_success_and_store_nothing(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    answer = await client.post(
        SIGN_UP.format(meeting["id"]), json=person(1, site_web="http://spam.example")
    )
    assert answer.status_code == 202
    assert answer.json() == RECEIVED
    page = await client.post(
        f"/reunions/{meeting['id']}/inscription",
        data={**form_of(person(2)), "site_web": "http://spam.example"},
    )
    assert page.status_code == 303
    assert page.headers["location"] == f"/reunions/{meeting['id']}/inscription/enregistree"
    subscribed = await client.post(
        "/api/v1/councils/ales-tamaris/subscriptions",
        json={"email": "robot@example.org", "site_web": "x"},
    )
    assert subscribed.status_code == 202
    assert await Registration.count() == 0
    assert await Subscription.count() == 0
    assert await OutboxMessage.count().where(OutboxMessage.kind != "meeting_published") == 0


async def test_thirty_sign_up_and_cancel_pairs_send_at_most_three_of_each(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    victim = person("victime", name="URGENT : votre aide CAF est suspendue")
    for _ in range(30):
        answer = await client.post(SIGN_UP.format(meeting["id"]), json=victim)
        assert answer.status_code == 202
        token = token_of((await registration_of(meeting["id"], victim["email"]))["manage_url"])
        cancelled = await client.post(f"/inscriptions/{token}/annuler")
        assert cancelled.status_code == 200
    rows = await OutboxMessage.select(
        OutboxMessage.kind, OutboxMessage.status, OutboxMessage.mime
    ).where(OutboxMessage.recipient == victim["email"])
    to_send = [row["kind"] for row in rows if row["status"] != "held"]
    assert sorted(to_send) == ["registration_cancelled"] * 3 + ["registration_confirmed"] * 3
    held = [row for row in rows if row["status"] == "held"]
    assert len(held) == 54  # recorded, not sent, and holding no message body
    assert all(row["mime"] == "" for row in held)


async def test_the_cap_holds_repeats_only_a_first_message_always_goes(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """Three subscription requests for one council a day; another council's first one goes."""
    for _ in range(5):
        answer = await client.post(
            "/api/v1/councils/ales-tamaris/subscriptions", json={"email": "x@example.org"}
        )
        assert answer.status_code == 202
        # Past the subscriptions' own ten minutes between two confirmations.
        await Subscription.update({Subscription.confirmation_sent_at: None}).where(
            Subscription.id > 0
        )
    statuses = await OutboxMessage.select(OutboxMessage.status).where(
        OutboxMessage.kind == "subscription_confirm"
    )
    assert [row["status"] for row in statuses] == ["queued"] * 3 + ["held"] * 2
    other = await client.post(
        "/api/v1/councils/ales-rive-droite/subscriptions", json={"email": "x@example.org"}
    )
    assert other.status_code == 202
    last = (
        await OutboxMessage.select(OutboxMessage.status)
        .order_by(OutboxMessage.id, ascending=False)
        .first()
    )
    assert last["status"] == "queued"
