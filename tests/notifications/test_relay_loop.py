"""The relay's own loop, run for real with a short scan interval: it queues each reminder once
and deletes exactly the registrations past their retention, with no test calling the scan.

Each test proves that the loop scanned again after what it checks (a second registration
becomes due, and the loop handles it too), so "once" and "nothing younger" are observed over
several scans, not assumed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.services.registrations import RETENTION
from meetings.tables import Registration
from notifications import relay as relay_module
from tests.support.mail_support import eventually, mail_settings, make_relay
from tests.support.registration_support import (
    outbox_rows,
    person,
    published_meeting,
    set_meeting,
    sign_up,
)

SCAN_SECONDS = 0.1


@pytest.fixture
async def running_relay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[None]:
    """The relay's loop, scanning every 0.1 s and delivering to a maildir."""
    monkeypatch.setattr(relay_module, "REMINDER_SCAN_SECONDS", SCAN_SECONDS)
    relay = make_relay(mail_settings(maildir=tmp_path / "maildir"), name="relay-loop")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.05))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def registered(client: AsyncClient, auth: dict[str, str], n: str) -> tuple[int, int]:
    """A meeting a month ahead with one confirmed registrant: (meeting id, registration id)."""
    starts = now_utc() + timedelta(days=30)
    meeting = await published_meeting(
        client,
        auth,
        title=f"Réunion {n}",
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    registration = await sign_up(client, meeting["id"], person(n))
    assert registration["status"] == "confirmed"
    return meeting["id"], registration["id"]


async def starts_in(meeting_id: int, delay: timedelta) -> None:
    starts = now_utc() + delay
    await set_meeting(meeting_id, starts_at=starts, ends_at=starts + timedelta(hours=2))


async def ended_ago(meeting_id: int, age: timedelta) -> None:
    ends = now_utc() - age
    await set_meeting(meeting_id, starts_at=ends - timedelta(hours=2), ends_at=ends)


async def reminders_to(address: str) -> list[dict]:
    return await outbox_rows("registration_reminder", recipient=address)


async def test_the_loop_queues_a_due_reminder_once_and_sends_it(
    client: AsyncClient, tamaris_auth: dict[str, str], running_relay: None
) -> None:
    first, _ = await registered(client, tamaris_auth, "a")
    second, _ = await registered(client, tamaris_auth, "b")
    await starts_in(first, timedelta(hours=3))

    async def first_reminded() -> bool:
        found = await reminders_to("habitante.a@example.org")
        return bool(found) and found[0]["status"] == "sent"

    await eventually(first_reminded, what="the loop's reminder, sent")
    # Let the loop scan several more times, then make another meeting due: once its reminder
    # is queued, the loop has scanned at least once after the first reminder went.
    await asyncio.sleep(5 * SCAN_SECONDS)
    await starts_in(second, timedelta(hours=3))

    async def second_reminded() -> bool:
        return bool(await reminders_to("habitante.b@example.org"))

    await eventually(second_reminded, what="a later scan")
    assert len(await reminders_to("habitante.a@example.org")) == 1
    assert len(await reminders_to("habitante.b@example.org")) == 1
    # Nothing else was reminded: the other meetings are not due.
    assert len(await outbox_rows("registration_reminder")) == 2


async def test_the_loop_deletes_exactly_the_registrations_past_retention(
    client: AsyncClient, tamaris_auth: dict[str, str], running_relay: None
) -> None:
    """A year after its meeting ended a registration goes; a minute younger, or a meeting
    still to come, it stays, however many times the loop scans."""
    expired, expired_registration = await registered(client, tamaris_auth, "vieille")
    younger, younger_registration = await registered(client, tamaris_auth, "jeune")
    recent, recent_registration = await registered(client, tamaris_auth, "recente")
    _, future_registration = await registered(client, tamaris_auth, "future")
    later, later_registration = await registered(client, tamaris_auth, "plus-tard")
    await ended_ago(younger, RETENTION - timedelta(minutes=1))
    await ended_ago(recent, timedelta(days=1))
    await ended_ago(expired, RETENTION + timedelta(minutes=1))

    async def gone(registration_id: int) -> bool:
        return await Registration.count().where(Registration.id == registration_id) == 0

    await eventually(lambda: gone(expired_registration), what="the expired registration purged")
    await asyncio.sleep(5 * SCAN_SECONDS)
    await ended_ago(later, RETENTION + timedelta(hours=1))
    await eventually(lambda: gone(later_registration), what="a later scan's purge")

    kept = {r["id"] for r in await Registration.select(Registration.id)}
    assert kept == {younger_registration, recent_registration, future_registration}


async def test_the_loop_scans_at_its_interval_not_at_every_poll(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Between scans the loop polls for mail many times: the scan (a query over every
    registration) waits for its interval."""
    scans: list[float] = []
    queue_reminders = relay_module.queue_reminders

    async def counted(*args: object) -> int:
        scans.append(asyncio.get_running_loop().time())
        return await queue_reminders(*args)

    monkeypatch.setattr(relay_module, "queue_reminders", counted)
    monkeypatch.setattr(relay_module, "REMINDER_SCAN_SECONDS", 0.5)
    relay = make_relay(mail_settings(maildir=tmp_path / "maildir"), name="relay-rythme")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.02))
    try:
        await asyncio.sleep(1.6)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    assert 2 <= len(scans) <= 4, scans  # at 0, 0.5, 1.0 and 1.5 s at most; ~80 polls
    assert all(later - earlier >= 0.45 for earlier, later in pairwise(scans)), scans
