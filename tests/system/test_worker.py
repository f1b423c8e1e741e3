"""Real processes: `conseils worker` (killed mid-batch, two at once, maildir) and the relay
inside `conseils serve`, each on the suite's own database, sending to a real SMTP server.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from conseils.timefmt import now_utc
from notifications.tables import OutboxMessage, Subscription
from tests.support.dates import LIKE_2031
from tests.support.live_server import free_port, server_env, start_server, stop, wait_until_healthy
from tests.support.mail_support import (
    deliver_all,
    eventually,
    mail_settings,
    make_relay,
    plain_text,
    queue_plain,
    rows,
    start_worker,
    stop_process,
    worker_env,
)

if TYPE_CHECKING:
    import subprocess

    from tests.support.smtp_sink import SmtpSink


ADDRESS = "habitante@example.org"


def log_of(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else "(no log)"


def relay_prefix(process: subprocess.Popen) -> str:
    """How a worker names itself in `leased_by`: host, pid, random suffix."""
    return f"{socket.gethostname()}:{process.pid}:"


async def count(status: str) -> int:
    return await OutboxMessage.count().where(OutboxMessage.status == status)


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_one(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    ids = await queue_plain(30)
    smtp_sink.data_delay = 0.1  # each message takes a while: the batch is long enough to cut
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(smtp_sink), log)
    try:

        async def some_accepted() -> bool:
            assert worker.poll() is None, log_of(log)
            return len(smtp_sink.received) >= 5

        await eventually(some_accepted, seconds=30, what="the worker's first messages")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop_process(worker)
    smtp_sink.wait_idle()  # the message in flight, if any, is accepted or dropped by now

    # What the dead worker left: every message accepted is marked sent but at most the one
    # in flight; the rest of its batch is still leased to it.
    accepted = len(smtp_sink.received)
    assert 5 <= accepted < 30
    sent = await count("sent")
    assert accepted - 1 <= sent <= accepted
    left = [r for r in await rows() if r["status"] != "sent"]
    assert left and {r["status"] for r in left} == {"sending"}
    assert all(r["leased_by"].startswith(relay_prefix(worker)) for r in left)
    assert all(r["lease_until"] > now_utc() for r in left)

    smtp_sink.data_delay = 0
    relay = make_relay(mail_settings(smtp_sink), name="relay-de-reprise")
    assert await relay.deliver_once() == 0  # the lease still holds them
    # Time passes (LEASE is five minutes): the lease runs out.
    await OutboxMessage.update({OutboxMessage.lease_until: now_utc() - timedelta(seconds=1)}).where(
        OutboxMessage.status == "sending"
    )
    await deliver_all(relay)

    counts = smtp_sink.message_ids()
    assert sorted(counts) == sorted(ids)  # every message arrived
    duplicates = {k: v for k, v in counts.items() if v > 1}
    assert sum(v - 1 for v in duplicates.values()) <= 1, duplicates  # only the one in flight
    assert await count("sent") == 30
    for stored in await rows():
        if stored["leased_by"] == "relay-de-reprise":
            assert stored["attempts"] == 2


async def test_two_workers_at_once_send_nothing_twice(smtp_sink: SmtpSink, tmp_path: Path) -> None:
    ids = await queue_plain(300)
    smtp_sink.wait_for_sessions = 2  # the first DATA waits until both workers have a batch
    env = worker_env(smtp_sink, OUTBOX_BATCH_SIZE="20", SMTP_TIMEOUT_SECONDS="30")
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [start_worker(env, log) for log in logs]
    try:

        async def all_sent() -> bool:
            for worker, log in zip(workers, logs, strict=True):
                assert worker.poll() is None, log_of(log)
            return await count("sent") == 300

        await eventually(all_sent, seconds=60, what="300 messages sent by two workers")
        for worker in workers:
            worker.send_signal(signal.SIGTERM)  # a clean stop between batches
        for worker, log in zip(workers, logs, strict=True):
            assert worker.wait(timeout=15) == 0, log_of(log)
    finally:
        for worker in workers:
            stop_process(worker)

    counts = smtp_sink.message_ids()
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1]
    stored = await rows()
    assert {r["attempts"] for r in stored} == {1}
    by_worker = {
        i: sum(r["leased_by"].startswith(relay_prefix(w)) for r in stored)
        for i, w in enumerate(workers)
    }
    assert sum(by_worker.values()) == 300
    assert all(by_worker.values()), by_worker  # both took part


async def test_a_worker_without_smtp_host_writes_to_the_maildir(tmp_path: Path) -> None:
    ids = await queue_plain(3)
    maildir = tmp_path / "courrier"
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(None, MAILDIR=str(maildir)), log)
    try:

        async def all_sent() -> bool:
            assert worker.poll() is None, log_of(log)
            return await count("sent") == 3

        await eventually(all_sent, seconds=30, what="the maildir delivery")
    finally:
        stop_process(worker)
    found = {
        email.message_from_bytes(path.read_bytes(), policy=policy.default)["Message-ID"]
        for path in (maildir / "new").iterdir()
    }
    assert found == set(ids)


# ---------------------------------------------------------------- `conseils serve`


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """Start `conseils serve` on the suite's database with extra environment; stopped after."""
    processes: list[subprocess.Popen] = []

    def start(**extra: str) -> str:
        port = free_port()
        env = server_env(os.environ["DATABASE_URL"], port, **extra)
        log = tmp_path / f"serve{len(processes)}.log"
        process = start_server(env, log, "--port", str(port))
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process, log)
        return url

    yield start
    for process in processes:
        stop(process)


async def wait_for_mail(sink: SmtpSink, count: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while len(sink.received) < count:
        assert time.monotonic() < deadline, f"{len(sink.received)} of {count} messages arrived"
        await asyncio.sleep(0.02)


async def test_serve_sends_through_its_own_relay(
    serve, smtp_sink: SmtpSink, tamaris_auth: dict[str, str]
) -> None:
    url = serve(
        SMTP_HOST=smtp_sink.host, SMTP_PORT=str(smtp_sink.port), OUTBOX_RETRY_BASE_SECONDS="0.05"
    )
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        subscribed = await http.post("/conseils/ales-tamaris/abonnement", data={"email": ADDRESS})
        assert subscribed.status_code == 200
        await wait_for_mail(smtp_sink, 1)  # woken by the request: no poll to wait for
        confirmation = smtp_sink.received[0].message
        text = plain_text(confirmation)
        confirm = next(w for w in text.split() if w.startswith(f"{url}/abonnements/"))
        assert (await http.post(confirm)).status_code == 200
        assert (await Subscription.select(Subscription.status).first())["status"] == "active"

        created = await http.post(
            "/api/v1/meetings",
            headers=tamaris_auth,
            json={
                "council": "ales-tamaris",
                "kind": "cafe",
                "title": "Café citoyen : la fête de quartier",
                "starts_at": f"{LIKE_2031}-06-20T17:00:00+02:00",
                "ends_at": f"{LIKE_2031}-06-20T19:00:00+02:00",
                "address": "Rue de la Lozère, 30100 Alès",
            },
        )
        assert created.status_code == 201, created.text
        meeting_id = created.json()["id"]
        published = await http.post(f"/api/v1/meetings/{meeting_id}/publish", headers=tamaris_auth)
        assert published.status_code == 200
        await wait_for_mail(smtp_sink, 2)
        announcement = smtp_sink.received[1]
        assert announcement.rcpt_tos == (ADDRESS,)
        message = announcement.message
        assert message["Subject"].startswith("Nouvelle réunion : Café citoyen : la fête")
        unsubscribe = message["List-Unsubscribe"][1:-1]
        assert unsubscribe.startswith(f"{url}/abonnements/")

        outbox = await http.get("/api/v1/outbox", headers=tamaris_auth)
        assert outbox.status_code == 200
        assert [m["status"] for m in outbox.json()["items"]] == ["sent", "sent"]

        # The mail provider's one-click POST, to the real server.
        one_click = await http.post(
            unsubscribe,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200
    assert (await Subscription.select(Subscription.status).first())["status"] == "unsubscribed"
    assert len(smtp_sink.message_ids()) == 2


async def test_serve_without_its_relay_leaves_mail_to_the_worker(
    serve, smtp_sink: SmtpSink, demo: None, tmp_path: Path
) -> None:
    mail = {"SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port)}
    url = serve(OUTBOX_IN_PROCESS="0", **mail)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        response = await http.post(
            "/api/v1/councils/ales-tamaris/subscriptions", json={"email": ADDRESS}
        )
        assert response.status_code == 202
    [queued] = await rows()
    assert queued["kind"] == "subscription_confirm"

    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(smtp_sink), log)
    try:
        await wait_for_mail(smtp_sink, 1, seconds=30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log_of(log)
    finally:
        stop_process(worker)
    [sent] = await rows()
    assert sent["status"] == "sent"
    assert sent["leased_by"].startswith(relay_prefix(worker))  # the worker sent it, not serve
    assert [r.message_id for r in smtp_sink.received] == [sent["message_id"]]
