"""Minutes published while two `conseils worker` processes run: each relay expands the
fan-out job and sends, and every recipient (a confirmed subscriber, a registrant, or both)
gets exactly one email per announcement, at a real SMTP server."""

from __future__ import annotations

import signal
import socket
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from minutes.services import editing, publishing
from notifications.tables import FanoutJob, OutboxMessage
from tests.minutes.minutes_office_support import past_meeting, registrant, subscriber
from tests.proposals.office_support import viewer_of
from tests.support.mail_support import eventually, start_worker, stop_process, worker_env

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.usefixtures("demo")

SUBSCRIBERS = range(0, 150)  # habitant0 … habitant149, confirmed subscribers
REGISTRANTS = range(120, 180)  # habitant120 … habitant179: 30 of them also subscribe
EVERYONE = sorted(f"habitant{n}@example.org" for n in {*SUBSCRIBERS, *REGISTRANTS})


def log_of(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else "(no log)"


def by_recipient(sink: SmtpSink, subject: str) -> Counter[str]:
    """How many emails each address got whose subject starts with `subject`."""
    found: Counter[str] = Counter()
    for item in sink.received:
        message = item.message
        if str(message["Subject"]).startswith(subject):
            found[str(message["To"])] += 1
    return found


async def all_done(workers: list[subprocess.Popen], logs: list[Path]) -> bool:
    for worker, log in zip(workers, logs, strict=True):
        assert worker.poll() is None, log_of(log)
    jobs = await FanoutJob.count().where(FanoutJob.status == "pending")
    waiting = await OutboxMessage.count().where(OutboxMessage.status != "sent")
    return jobs == 0 and waiting == 0


async def test_two_relays_send_each_recipient_one_email_per_announcement(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    meeting = await past_meeting()
    for n in SUBSCRIBERS:
        await subscriber(f"habitant{n}@example.org")
    for n in REGISTRANTS:
        await registrant(meeting, f"habitant{n}@example.org", attended=n % 2 == 0)
    await registrant(meeting, "annulee@example.org", status="cancelled")
    viewer = await viewer_of("ales-tamaris")
    made, _ = await editing.create(viewer, {"meeting": str(meeting), "summary": "Trois décisions"})

    smtp_sink.wait_for_sessions = 2  # the first DATA waits until both relays have a batch
    env = worker_env(smtp_sink, OUTBOX_BATCH_SIZE="10", SMTP_TIMEOUT_SECONDS="30")
    logs = [tmp_path / f"relay{i}.log" for i in range(2)]
    workers = [start_worker(env, log) for log in logs]
    try:
        await publishing.publish(viewer, made.id)
        await eventually(lambda: all_done(workers, logs), seconds=90, what="minutes sent")
        published = by_recipient(smtp_sink, "Compte rendu")
        assert sorted(published) == EVERYONE and set(published.values()) == {1}

        smtp_sink.wait_for_sessions = 0
        _, sent = await publishing.send_update(viewer, made.id, expected=1)
        assert sent
        await eventually(lambda: all_done(workers, logs), seconds=90, what="update sent")
        for worker in workers:
            worker.send_signal(signal.SIGTERM)  # a clean stop between batches
        for worker, log in zip(workers, logs, strict=True):
            assert worker.wait(timeout=15) == 0, log_of(log)
    finally:
        for worker in workers:
            stop_process(worker)

    updates = by_recipient(smtp_sink, "Compte rendu mis à jour")
    assert sorted(updates) == EVERYONE and set(updates.values()) == {1}
    everything = by_recipient(smtp_sink, "Compte rendu")
    assert set(everything.values()) == {2}  # the announcement and the update, nothing more
    assert set(smtp_sink.message_ids().values()) == {1}
    stored = await OutboxMessage.select(OutboxMessage.leased_by)
    for worker in workers:  # both relays took part (`leased_by` is host:pid:suffix)
        prefix = f"{socket.gethostname()}:{worker.pid}:"
        assert any(row["leased_by"].startswith(prefix) for row in stored), prefix
