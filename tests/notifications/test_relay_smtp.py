"""The relay against a real SMTP server (aiosmtpd) whose behaviour each test sets: accepted,
greylisted (451), refused (550), unreachable then back, hanging; and the maildir without one.

Every count is by Message-ID at the server, so a message sent twice would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conseils import db
from conseils.settings import get_settings
from conseils.timefmt import now_utc
from notifications.ledger import Ledger
from notifications.relay import CLAIM_PER_TRANSACTION, LEASE, Relay
from notifications.tables import OutboxMessage
from tests.support.mail_support import (
    deliver_all,
    eventually,
    mail_settings,
    make_relay,
    pending_count,
    queue_plain,
    row,
    rows,
    sender,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink


async def test_a_batch_goes_over_one_connection_and_each_row_is_marked_sent(
    smtp_sink: SmtpSink,
) -> None:
    ids = await queue_plain(5)
    relay = make_relay(mail_settings(smtp_sink))
    assert await relay.deliver_once() == 5
    assert await relay.deliver_once() == 0

    received = smtp_sink.received
    assert [m.message_id for m in received] == ids
    assert len({m.session for m in received}) == 1  # one connection for the batch
    assert [m.rcpt_tos for m in received] == [(f"m{i}@example.org",) for i in range(5)]
    assert {m.mail_from for m in received} == {sender().addr_spec}
    for stored in await rows():
        assert stored["status"] == "sent"
        assert stored["attempts"] == 1
        assert stored["last_error"] == ""
        assert stored["sent_at"] is not None
        assert stored["lease_until"] is None


async def test_smtp_down_then_back_everything_arrives_once(smtp_sink: SmtpSink) -> None:
    smtp_sink.stop()
    ids = await queue_plain(12)
    relay = make_relay(mail_settings(smtp_sink, batch_size=5))
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.05))
    try:

        async def retried_while_down() -> bool:
            return all(r["attempts"] >= 2 for r in await rows())

        await eventually(retried_while_down, what="retries while the server is down")
        for stored in await rows():
            assert stored["status"] in ("queued", "sending")
            assert "injoignable" in stored["last_error"] or stored["status"] == "sending"
        assert smtp_sink.received == []

        smtp_sink.start()

        async def all_sent() -> bool:
            return await OutboxMessage.count().where(OutboxMessage.status == "sent") == 12

        await eventually(all_sent, what="delivery once the server is back")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert sorted(smtp_sink.message_ids().elements()) == sorted(ids)
    assert set(smtp_sink.message_ids().values()) == {1}
    for stored in await rows():
        assert stored["last_error"] == ""


async def test_smtp_dying_mid_batch_then_back_loses_nothing(smtp_sink: SmtpSink) -> None:
    ids = await queue_plain(10)
    smtp_sink.data_delay = 0.05
    relay = make_relay(mail_settings(smtp_sink, timeout=1))
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, poll_seconds=0.05))
    try:

        async def some_sent() -> bool:
            return len(smtp_sink.received) >= 3

        await eventually(some_sent, what="the first messages")
        await asyncio.to_thread(smtp_sink.stop)  # the connection drops in the middle of a batch

        async def retried() -> bool:
            return "injoignable" in " ".join(r["last_error"] for r in await rows())

        await eventually(retried, what="a failed reconnection")
        assert len(smtp_sink.received) < 10
        smtp_sink.data_delay = 0
        smtp_sink.start()

        async def all_sent() -> bool:
            return await OutboxMessage.count().where(OutboxMessage.status == "sent") == 10

        await eventually(all_sent, what="delivery once the server is back")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    counts = smtp_sink.message_ids()
    assert sorted(counts) == sorted(ids)
    # A reply lost with the connection can make the message in flight go twice, no more.
    assert sum(counts.values()) - len(counts) <= 1, counts


async def test_451_then_250_delivers_once_on_the_second_attempt(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_data = 1
    [message_id] = await queue_plain(1)
    relay = make_relay(mail_settings(smtp_sink))
    before = now_utc()
    assert await relay.deliver_once() == 1

    [first] = await rows()
    assert first["status"] == "queued"
    assert first["attempts"] == 1
    assert first["last_error"].startswith("451")
    assert "Greylisted" in first["last_error"]
    assert first["sent_at"] is None
    # Backoff: base × 2^0, ±20 %.
    assert first["next_attempt_at"] >= before + relay.settings.retry_base * 0.8
    assert smtp_sink.received == []

    await deliver_all(relay)
    [second] = await rows()
    assert second["status"] == "sent"
    assert second["attempts"] == 2
    assert second["last_error"] == ""
    assert smtp_sink.data_commands == 2
    assert [m.message_id for m in smtp_sink.received] == [message_id]


async def test_a_451_does_not_hold_back_the_rest_of_the_batch(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_data = 1
    ids = await queue_plain(3)
    relay = make_relay(mail_settings(smtp_sink))
    assert await relay.deliver_once() == 3
    statuses = [(r["status"], r["attempts"]) for r in await rows()]
    assert statuses == [("queued", 1), ("sent", 1), ("sent", 1)]
    await deliver_all(relay)
    assert sorted(smtp_sink.message_ids().elements()) == sorted(ids)
    assert [r["attempts"] for r in await rows()] == [2, 1, 1]


async def test_550_fails_at_once_and_the_batch_goes_on(smtp_sink: SmtpSink) -> None:
    smtp_sink.reject["m2@example.org"] = "550 5.1.1 <m2@example.org>: Recipient address rejected"
    ids = await queue_plain(5)
    relay = make_relay(mail_settings(smtp_sink))
    assert await relay.deliver_once() == 5

    stored = await rows()
    refused = stored[2]
    assert refused["recipient"] == "m2@example.org"
    assert refused["status"] == "failed"
    assert refused["attempts"] == 1
    assert "550" in refused["last_error"]
    assert "Recipient address rejected" in refused["last_error"]
    assert refused["sent_at"] is None
    assert [r["status"] for r in stored] == ["sent", "sent", "failed", "sent", "sent"]
    received = smtp_sink.received
    assert [m.message_id for m in received] == [ids[0], ids[1], ids[3], ids[4]]
    assert len({m.session for m in received}) == 1  # the same connection went on

    # Never retried.
    await asyncio.sleep(relay.settings.retry_base.total_seconds() * 2)
    assert await relay.deliver_once() == 0
    assert (await row(refused["id"]))["attempts"] == 1
    assert len(smtp_sink.received) == 4


async def test_a_5xx_reply_to_data_is_permanent_too(smtp_sink: SmtpSink) -> None:
    await queue_plain(1)
    relay = make_relay(mail_settings(smtp_sink))
    smtp_sink.fail_data = 1
    smtp_sink.handler.fail_reply = "554 5.7.1 Message refused as spam"
    await relay.deliver_once()
    [stored] = await rows()
    assert (stored["status"], stored["attempts"]) == ("failed", 1)
    assert stored["last_error"].startswith("554")


async def test_a_hanging_server_times_out_and_the_batch_is_retried(smtp_sink: SmtpSink) -> None:
    smtp_sink.hang()
    ids = await queue_plain(3)
    relay = make_relay(mail_settings(smtp_sink, timeout=1))
    assert await relay.deliver_once() == 3
    stored = await rows()
    assert [r["status"] for r in stored] == ["queued"] * 3
    assert all(r["attempts"] == 1 and r["last_error"] for r in stored)
    assert smtp_sink.data_commands == 1  # the first message hung; the others never went
    smtp_sink.release()
    smtp_sink.wait_idle()
    assert smtp_sink.received == []

    await deliver_all(relay)
    assert sorted(smtp_sink.message_ids().elements()) == sorted(ids)
    assert all(r["status"] == "sent" for r in await rows())


async def test_a_relay_killed_between_two_messages_never_sends_the_first_again(
    smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first message's "sent" mark is written before the second message's DATA, however
    slow the database: a relay killed while the server holds the second DATA has recorded
    the first, so the relay that takes over sends only the second."""
    mark_sent = Ledger.mark_sent

    async def slow_mark(self: Ledger, *args: object) -> None:
        await asyncio.sleep(0.3)  # a busy database
        await mark_sent(self, *args)

    monkeypatch.setattr(Ledger, "mark_sent", slow_mark)
    first, second = await queue_plain(2)
    smtp_sink.hang_at = 2
    relay = make_relay(mail_settings(smtp_sink, timeout=5), name="relay-tue")
    task = asyncio.create_task(relay.deliver_once())

    async def second_data() -> bool:
        return smtp_sink.data_commands >= 2

    await eventually(second_data, what="the second DATA")
    sent = {r["message_id"] for r in await rows() if r["status"] == "sent"}
    assert sent == {first}  # before the second DATA, not after
    task.cancel()  # killed while the server holds the second message
    smtp_sink.release()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    smtp_sink.wait_idle()
    assert [m.message_id for m in smtp_sink.received] == [first]

    monkeypatch.setattr(Ledger, "mark_sent", mark_sent)
    await OutboxMessage.update({OutboxMessage.lease_until: now_utc() - timedelta(seconds=1)}).where(
        OutboxMessage.status == "sending"
    )
    await deliver_all(make_relay(mail_settings(smtp_sink), name="relay-de-reprise"))
    assert smtp_sink.message_ids() == {first: 1, second: 1}


@pytest.mark.parametrize(
    ("reply", "second", "third"),
    [
        ("450 4.2.1 Mailbox busy, try later", "queued", "sent"),
        ("550 5.1.1 No such user", "failed", "sent"),
        ("421 4.3.2 Closing the connection", "queued", "queued"),
    ],
)
async def test_a_refusal_after_an_accepted_message_still_records_it_sent(
    smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch, reply: str, second: str, third: str
) -> None:
    """However the next message ends (retry later, refused, connection closed), the one the
    server accepted before it is recorded as sent before the batch returns, even when the
    database is slow: a mark left behind would be lost with the batch's connection, and the
    message sent again once its lease ran out."""
    mark_sent = Ledger.mark_sent
    marks = 0

    async def slow_first_mark(self: Ledger, *args: object) -> None:
        nonlocal marks
        marks += 1
        if marks == 1:  # the others are quick: nothing else waits for this one
            await asyncio.sleep(0.5)
        await mark_sent(self, *args)

    monkeypatch.setattr(Ledger, "mark_sent", slow_first_mark)
    ids = await queue_plain(3)
    smtp_sink.reject["m1@example.org"] = reply
    assert await make_relay(mail_settings(smtp_sink, timeout=5)).deliver_once() == 3
    assert [r["status"] for r in await rows()] == ["sent", second, third]
    assert smtp_sink.message_ids()[ids[0]] == 1


async def test_a_message_that_cannot_be_built_fails_and_the_batch_goes_on(
    smtp_sink: SmtpSink,
) -> None:
    ids = await queue_plain(3)
    await OutboxMessage.update({OutboxMessage.mime: ""}).where(OutboxMessage.message_id == ids[1])
    assert await make_relay(mail_settings(smtp_sink)).deliver_once() == 3
    first, broken, last = await rows()
    assert (first["status"], last["status"]) == ("sent", "sent")
    assert broken["status"] == "failed"
    assert broken["last_error"].startswith("message impossible à construire")
    assert broken["lease_until"] is None
    assert [m.message_id for m in smtp_sink.received] == [ids[0], ids[2]]


async def test_retries_stop_after_two_days(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_data = 1
    await queue_plain(1)
    await OutboxMessage.update(
        {OutboxMessage.created_at: now_utc() - timedelta(days=2, hours=1)}, force=True
    )
    relay = make_relay(mail_settings(smtp_sink))
    assert await relay.deliver_once() == 1
    [stored] = await rows()
    assert stored["status"] == "failed"
    assert stored["last_error"].startswith("abandonné après deux jours : 451")


async def test_a_lease_keeps_other_relays_off_until_it_runs_out(smtp_sink: SmtpSink) -> None:
    ids = await queue_plain(4)
    settings = mail_settings(smtp_sink)
    dead = make_relay(settings, name="relay-mort")
    claimed = await dead.claim(10)  # claimed, then the relay "dies": nothing is sent
    assert [r["id"] for r in claimed] == [r["id"] for r in await rows()]
    for stored in await rows():
        assert (stored["status"], stored["leased_by"], stored["attempts"]) == (
            "sending",
            "relay-mort",
            1,
        )
        assert stored["lease_until"] > now_utc() + LEASE - timedelta(minutes=1)

    other = make_relay(settings, name="relay-vivant")
    assert await other.deliver_once() == 0  # the lease still holds
    # Time passes: the lease runs out.
    await OutboxMessage.update(
        {OutboxMessage.lease_until: now_utc() - timedelta(seconds=1)}, force=True
    )
    assert await other.deliver_once() == 4
    assert sorted(smtp_sink.message_ids().elements()) == sorted(ids)
    for stored in await rows():
        assert (stored["status"], stored["leased_by"], stored["attempts"]) == (
            "sent",
            "relay-vivant",
            2,
        )

    # The first relay waking up late cannot overwrite what the other one recorded.
    await dead._failed(claimed[0], "trop tard")
    assert (await row(claimed[0]["id"]))["status"] == "sent"


async def test_a_big_batch_is_leased_in_short_transactions(smtp_sink: SmtpSink) -> None:
    """SQLite rewrites a whole row (its message too) to mark it: a batch is leased
    CLAIM_PER_TRANSACTION rows per write transaction, and still comes whole and in order."""
    ids = await queue_plain(CLAIM_PER_TRANSACTION * 2 + 7)
    relay = make_relay(mail_settings(smtp_sink), name="relay-lots")
    db.reset_longest_write()
    claimed = await relay.claim(CLAIM_PER_TRANSACTION * 2 + 5)
    assert len(db.write_times_s()) == 3
    assert [r["message_id"] for r in claimed] == ids[: CLAIM_PER_TRANSACTION * 2 + 5]
    leased = await OutboxMessage.count().where(OutboxMessage.leased_by == "relay-lots")
    assert leased == CLAIM_PER_TRANSACTION * 2 + 5
    db.reset_longest_write()
    assert len(await relay.claim(100)) == 2  # what is left: one short transaction
    assert len(db.write_times_s()) == 1


async def test_two_relays_at_once_send_nothing_twice(smtp_sink: SmtpSink) -> None:
    ids = await queue_plain(300)
    smtp_sink.wait_for_sessions = 2  # the first DATA waits until both relays have connected
    settings = mail_settings(smtp_sink, batch_size=20)
    relays = [make_relay(settings, name=f"relay-{i}") for i in range(2)]
    handled = {relay.name: 0 for relay in relays}

    async def work(relay: Relay) -> None:
        while await pending_count():
            done = await relay.deliver_once()
            handled[relay.name] += done
            if not done:
                await asyncio.sleep(0.01)

    await asyncio.wait_for(asyncio.gather(*(work(r) for r in relays)), 60)
    counts = smtp_sink.message_ids()
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1]
    assert sum(handled.values()) == 300
    assert all(handled.values()), handled  # both took part
    stored = await rows()
    assert {r["status"] for r in stored} == {"sent"}
    assert {r["attempts"] for r in stored} == {1}
    assert {r["leased_by"] for r in stored} == {"relay-0", "relay-1"}


# ---------------------------------------------------------------- no SMTP server: a maildir


async def test_without_smtp_host_mail_goes_to_the_maildir(tmp_path: Path) -> None:
    ids = await queue_plain(2)
    maildir = tmp_path / "maildir"
    relay = make_relay(mail_settings(None, maildir=maildir))
    assert await relay.deliver_once() == 2
    files = sorted((maildir / "new").iterdir())
    assert len(files) == 2
    found = {
        str(email.message_from_bytes(f.read_bytes(), policy=policy.default)["Message-ID"])
        for f in files
    }
    assert found == set(ids)
    assert {r["status"] for r in await rows()} == {"sent"}


@pytest.fixture
def mail_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Mail settings are read once per process (lru_cache): read them again for this test,
    and again after it, from the environment the rest of the suite uses."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_maildir_and_sender_from_the_environment(
    tmp_path: Path, mail_environment: pytest.MonkeyPatch
) -> None:
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_STARTTLS"):
        mail_environment.delenv(name, raising=False)
    mail_environment.setenv("MAILDIR", str(tmp_path / "courrier"))
    mail_environment.setenv("MAIL_FROM", "Conseils citoyens <annonces@ales.example.fr>")
    settings = get_settings().mail
    assert settings.smtp_host is None
    assert settings.maildir == tmp_path / "courrier"
    [message_id] = await queue_plain(1)
    assert message_id.endswith("@ales.example.fr>")  # Message-IDs use the sender's domain
    relay = Relay(name="relay-maildir")  # the settings of the environment
    assert relay.settings == settings
    assert await relay.deliver_once() == 1
    files = list((tmp_path / "courrier" / "new").iterdir())
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["Message-ID"] == message_id
    assert message["From"].addresses[0].addr_spec == "annonces@ales.example.fr"
    assert message["To"] == "m0@example.org"
    assert (await rows())[0]["status"] == "sent"
