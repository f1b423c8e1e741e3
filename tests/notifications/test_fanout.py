"""Announcements to a council's subscribers as one fan-out job, expanded by the relay."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from conseils.db import write_transaction
from conseils.timefmt import now_utc
from notifications import fanout, outbox
from notifications.drafts import Draft
from notifications.tables import FanoutJob, OutboxMessage, Subscription
from tests.support.mail_support import council_id, create_meeting, publish, rows
from tests.support.registration_support import RECEIVED

MANY = 1_200  # more than two expansion batches


async def subscribers(count: int, slug: str = "ales-tamaris") -> list[str]:
    """`count` confirmed subscribers, written directly (the API's double opt-in is tested
    elsewhere); returns their addresses."""
    council = await council_id(slug)
    now = now_utc()
    addresses = [f"habitant{n}@example.org" for n in range(count)]
    async with write_transaction():
        await Subscription.insert(
            *(
                Subscription(
                    council=council,
                    email=address,
                    key=f"{council}:{address}",
                    status="active",
                    token=f"{n:043d}",
                    created_at=now,
                    confirmed_at=now,
                )
                for n, address in enumerate(addresses)
            )
        )
    return addresses


async def announced() -> list[dict[str, Any]]:
    """The subscribers' announcement messages as they are, without expanding anything."""
    return await OutboxMessage.select(
        OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.idempotency_key
    ).where(OutboxMessage.kind == "meeting_published")


async def test_publishing_to_many_queues_one_job_and_no_message(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await subscribers(MANY)
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    # The request wrote one job, whatever the number of subscribers.
    [job] = await FanoutJob.select().where(FanoutJob.meeting_id == meeting["id"])
    assert (job["kind"], job["status"], job["cursor"]) == ("meeting_published", "pending", 0)
    assert await announced() == []

    expanded = 0
    while handled := await fanout.expand_next(batch=500):
        expanded += handled
    assert expanded == MANY
    messages = await announced()
    assert len(messages) == MANY
    assert len({m["recipient"] for m in messages}) == MANY
    [job] = await FanoutJob.select().where(FanoutJob.meeting_id == meeting["id"])
    assert (job["status"], job["queued"]) == ("done", MANY)
    assert job["finished_at"] is not None


async def test_an_expansion_killed_midway_sends_nobody_twice_and_skips_nobody(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second batch dies after writing its messages, before committing: its messages and
    its cursor roll back together; the next relay resumes exactly there."""
    addresses = await subscribers(25)
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    real_enqueue = outbox.enqueue
    calls = 0

    async def enqueue_then_die(drafts: list) -> int:
        nonlocal calls
        calls += 1
        queued = await real_enqueue(drafts)
        if calls == 2:
            assert (
                await OutboxMessage.count().where(OutboxMessage.kind == "meeting_published") == 20
            )  # visible inside the dying transaction
            raise ConnectionResetError("the relay's process was killed")
        return queued

    monkeypatch.setattr(fanout.outbox, "enqueue", enqueue_then_die)
    assert await fanout.expand_next(batch=10) == 10
    with pytest.raises(ConnectionResetError):
        await fanout.expand_next(batch=10)
    assert len(await announced()) == 10
    [job] = await FanoutJob.select(FanoutJob.status, FanoutJob.queued)
    assert job == {"status": "pending", "queued": 10}

    monkeypatch.setattr(fanout.outbox, "enqueue", real_enqueue)
    while await fanout.expand_next(batch=10):
        pass
    recipients = sorted(m["recipient"] for m in await announced())
    assert recipients == sorted(addresses)


async def test_two_relays_expanding_at_once_queue_each_message_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    addresses = await subscribers(300)
    for n in range(3):
        meeting = await create_meeting(client, tamaris_auth, title=f"Café n° {n}")
        await publish(client, tamaris_auth, meeting["id"])

    async def relay() -> int:
        total = 0
        while handled := await fanout.expand_next(batch=40):
            total += handled
        return total

    assert sum(await asyncio.gather(relay(), relay())) == 3 * len(addresses)
    keys = [m["idempotency_key"] for m in await announced()]
    assert len(keys) == len(set(keys)) == 3 * len(addresses)


async def test_a_registrant_who_also_subscribed_hears_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await subscribers(3)
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    signed = await client.post(
        f"/api/v1/meetings/{meeting['id']}/registrations",
        json={
            "name": "Habitant Zéro",
            "email": "Habitant0@Example.org ",
            "attending_as": "resident",
            "consent": True,
        },
    )
    assert signed.status_code == 202, signed.text
    assert signed.json() == RECEIVED
    moved = await client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        json={"venue": "Salle polyvalente"},
        headers=tamaris_auth,
    )
    assert moved.status_code == 200
    changed = [
        (r["recipient"], ":registration:" in r["idempotency_key"])
        for r in await rows("meeting_changed")
    ]
    assert sorted(changed) == [
        ("habitant0@example.org", True),  # as a registrant, not as a subscriber too
        ("habitant1@example.org", False),
        ("habitant2@example.org", False),
    ]


async def test_a_job_without_subscribers_finishes_at_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    assert await fanout.expand_next() == 1
    [job] = await FanoutJob.select(FanoutJob.status, FanoutJob.queued)
    assert job == {"status": "done", "queued": 0}
    assert await fanout.expand_next() == 0


async def test_what_changes_between_rendering_and_queueing_is_read_again(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is rendered before its write transaction: an address that unsubscribes in
    between gets nothing, one whose link changed gets its new link, and the rest go out as
    rendered (the same Message-ID as composed beforehand)."""
    await subscribers(6)
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    real_prepared = fanout._prepared
    ahead: dict = {}

    async def prepared_then_changed(batch: int) -> dict:
        ahead.update(await real_prepared(batch))
        async with write_transaction():
            await Subscription.update({Subscription.status: "unsubscribed"}).where(
                Subscription.email == "habitant1@example.org"
            )
            await Subscription.update({Subscription.token: "n" * 43}).where(
                Subscription.email == "habitant2@example.org"
            )
        return ahead

    monkeypatch.setattr(fanout, "_prepared", prepared_then_changed)
    assert await fanout.expand_next(batch=10) == 5
    sent = await OutboxMessage.select(
        OutboxMessage.recipient, OutboxMessage.message_id, OutboxMessage.mime
    ).where(OutboxMessage.kind == "meeting_published")
    by_address = {m["recipient"]: m for m in sent}
    assert sorted(by_address) == [f"habitant{n}@example.org" for n in (0, 2, 3, 4, 5)]
    assert len(ahead) == 6  # all six were rendered beforehand
    composed_ids = {message.message_id for message in ahead.values()}
    assert by_address["habitant0@example.org"]["message_id"] in composed_ids
    assert by_address["habitant2@example.org"]["message_id"] not in composed_ids
    assert "n" * 43 in by_address["habitant2@example.org"]["mime"].replace("=\r\n", "")
    [job] = await FanoutJob.select(FanoutJob.status, FanoutJob.queued)
    assert job == {"status": "done", "queued": 5}


def test_a_capped_message_is_not_composed_ahead() -> None:
    draft = Draft(key="k", kind="k", recipient="a@example.org", subject="s", text_body="t",
                  capped=True)  # fmt: skip
    with pytest.raises(ValueError, match="capped"):
        outbox.compose_all([draft])
