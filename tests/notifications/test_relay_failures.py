"""The relay under unexpected failures: it backs off and says so once, and a maildir in a
data directory that does not exist yet is made, parents included."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest

from notifications import relay as relay_module
from tests.support.mail_support import deliver_all, mail_settings, make_relay, queue_plain


async def test_a_batch_failing_for_an_unexpected_reason_backs_off_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    relay = make_relay(mail_settings())
    attempts = 0

    async def broken() -> int:
        nonlocal attempts
        attempts += 1
        raise FileNotFoundError(2, "No such file or directory", "var/maildir/tmp")

    monkeypatch.setattr(relay, "deliver_once", broken)
    stop = asyncio.Event()
    caplog.set_level(logging.ERROR, logger="conseils.relay")
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.05))
    for _ in range(40):  # woken again and again, as requests queueing mail would
        await asyncio.sleep(0.05)
        relay.wake()
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    # 2 s of failures: pauses of 0.1, 0.2, 0.4, 0.8 s... (deaf to wake-ups), not 40 retries.
    assert 3 <= attempts <= 6
    failures = [r for r in caplog.records if "batch failed" in r.getMessage()]
    assert len(failures) == 1
    assert "FileNotFoundError" in failures[0].getMessage()


async def test_the_relay_recovers_when_the_failure_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    relay = make_relay(mail_settings())
    real = relay.deliver_once
    failures_left = 2

    async def flaky() -> int:
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            raise OSError("disque plein")
        return await real()

    monkeypatch.setattr(relay, "deliver_once", flaky)
    await queue_plain(3)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.02))
    try:
        for _ in range(100):
            if not await relay_module.OutboxMessage.count().where(
                relay_module.OutboxMessage.status != "sent"
            ):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert failures_left == 0
    assert (
        await relay_module.OutboxMessage.count().where(relay_module.OutboxMessage.status == "sent")
        == 3
    )


async def test_the_maildir_is_made_with_its_parents(tmp_path: Path) -> None:
    maildir = tmp_path / "donnees" / "jamais" / "creees" / "maildir"
    relay = make_relay(dataclasses.replace(mail_settings(), maildir=maildir))
    await queue_plain(2)
    assert await deliver_all(relay) == 2
    assert len(list((maildir / "new").iterdir())) == 2


async def test_an_unwritable_maildir_is_retried_later_not_lost(tmp_path: Path) -> None:
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    relay = make_relay(dataclasses.replace(mail_settings(), maildir=blocker / "maildir"))
    await queue_plain(1)
    assert await relay.deliver_once() == 1
    [row] = await relay_module.OutboxMessage.select(
        relay_module.OutboxMessage.status, relay_module.OutboxMessage.last_error
    )
    assert row["status"] == "queued"  # waits for a retry, like an SMTP server away
    assert "maildir" in row["last_error"]


async def test_an_empty_maildir_folder_made_beforehand_is_used(tmp_path: Path) -> None:
    """mailbox.Maildir(create=True) makes nothing in a folder that exists: we do."""
    maildir = tmp_path / "maildir"
    maildir.mkdir()
    relay = make_relay(dataclasses.replace(mail_settings(), maildir=maildir))
    await queue_plain(1)
    assert await deliver_all(relay) == 1
    assert len(list((maildir / "new").iterdir())) == 1


async def test_pauses_after_failures_double_up_to_a_minute_and_a_success_resets_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop's own arithmetic, read from the pauses it asks for (none is waited here):
    poll × 2, × 4, × 8 … after each failure in a row, at most a minute, deaf to wake-ups;
    after a batch that went through, the ordinary poll again, and the doubling starts over."""
    relay = make_relay(mail_settings())
    outcomes = iter(["fail"] * 8 + ["idle", "fail"])
    pauses: list[tuple[float, bool]] = []
    stop = asyncio.Event()

    async def deliver_once() -> int:
        if next(outcomes) == "fail":
            raise OSError("disque plein")
        return 0

    async def pause(_stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> None:
        pauses.append((seconds, wakeable))
        if len(pauses) == 10:
            stop.set()

    monkeypatch.setattr(relay, "deliver_once", deliver_once)
    monkeypatch.setattr(relay, "_pause", pause)
    await asyncio.wait_for(relay.run(stop, poll_seconds=1.0), timeout=10)
    assert pauses == [
        (2.0, False),
        (4.0, False),
        (8.0, False),
        (16.0, False),
        (32.0, False),
        (relay_module.MAX_FAILURE_PAUSE_S, False),
        (relay_module.MAX_FAILURE_PAUSE_S, False),
        (relay_module.MAX_FAILURE_PAUSE_S, False),
        (1.0, True),  # nothing to send: wait for the poll or a wake-up
        (2.0, False),
    ]
