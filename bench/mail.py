"""Email throughput: 10,000 announcements queued by one publication and delivered by the
relay to a local aiosmtpd sink, next to raw aiosmtplib `sendmail` of pre-built messages over
one connection, in the same run and to the same sink; and the longest any write transaction
held the database meanwhile (publishing, expanding the fan-out job, relaying), which every
other writer waits for.

`python -m bench.mail <sqlite|postgres> <DATABASE_URL>` prints one result line as JSON; run
by bench/run.py (`make bench`).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ANNOUNCEMENTS = int(os.environ.get("BENCH_MAIL_MESSAGES", "10000"))
RAW_MESSAGES = min(ANNOUNCEMENTS, 3000)
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def start_sink(port: int) -> subprocess.Popen:
    """The sink in its own process, as a real SMTP server would be."""
    process = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


async def raw_rate(port: int, messages: list[bytes]) -> float:
    """The baseline: `sendmail` of messages built beforehand, one after the other."""
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await client.connect()
    started = time.perf_counter()
    for n, message in enumerate(messages):
        await client.sendmail("ne-pas-repondre@example.org", [f"habitant{n}@example.org"], message)
    elapsed = time.perf_counter() - started
    await client.quit()
    return len(messages) / elapsed


def _spread(seconds: list[float]) -> str:
    """How many write transactions, their median, 99th percentile and longest."""
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
    return (
        f"{len(ordered)} transactions, median {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, longest {ordered[-1] * 1000:.0f} ms"
    )


async def ours(port: int) -> dict[str, float]:
    from accounts.services import (
        create_facilitator,
        facilitator_for_token,
        issue_token,
    )
    from conseils import db as database
    from conseils.app import install_features
    from conseils.db import engine, is_postgres, write_transaction
    from conseils.settings import load_settings
    from conseils.timefmt import now_utc
    from meetings.demo import load_demo
    from meetings.services import meetings
    from meetings.tables import Council
    from notifications.fanout import expand_all
    from notifications.relay import Relay
    from notifications.tables import OutboxMessage, Subscription

    install_features()
    db = engine()
    if is_postgres():
        await db.start_connection_pool(min_size=2, max_size=10)
    await load_demo()
    council = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    now = now_utc()
    rows = [
        Subscription(
            council=council["id"],
            email=f"habitant{n}@example.org",
            key=f"{council['id']}:habitant{n}@example.org",
            status="active",
            token=f"{n:043d}",
            created_at=now,
            confirmed_at=now,
        )
        for n in range(ANNOUNCEMENTS)
    ]
    async with write_transaction():
        for start in range(0, len(rows), 1000):
            await Subscription.insert(*rows[start : start + 1000])
    password = "un mot de passe de banc d'essai"
    await create_facilitator(
        email="banc@example.org", name="Banc", password=password, council_slugs=["ales-tamaris"]
    )
    viewer = await facilitator_for_token((await issue_token("banc@example.org", password)).token)
    starts = now + timedelta(days=10)
    meeting, _ = await meetings.create_meeting(
        viewer,
        {
            "council": "ales-tamaris", "kind": "cafe", "title": "Café citoyen du banc d'essai",
            "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "venue": "Maison de quartier", "address": "Rue de la Lozère, 30100 Alès",
        },
    )  # fmt: skip
    database.reset_longest_write()
    started = time.perf_counter()
    await meetings.publish_meeting(viewer, meeting.id)  # the request: one fan-out job
    publish_s = time.perf_counter() - started
    started = time.perf_counter()
    longest = {"publish": database.write_times_s()}
    database.reset_longest_write()
    await expand_all()  # what the relay does next, a batch per transaction
    queued_s = time.perf_counter() - started
    longest["expansion"] = database.write_times_s()
    queued = await OutboxMessage.count().where(OutboxMessage.kind == "meeting_published")

    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), OUTBOX_BATCH_SIZE="200")
    settings = load_settings().mail
    # The baseline sends the very messages the relay is about to send (built when queued).
    sample = await OutboxMessage.select().order_by(OutboxMessage.id).limit(RAW_MESSAGES)
    raw = await raw_rate(port, [row["mime"].encode("ascii") for row in sample])
    relay = Relay(settings=settings, name="bench")
    started = time.perf_counter()
    database.reset_longest_write()
    while await relay.deliver_once():
        pass
    elapsed = time.perf_counter() - started
    longest["relay"] = database.write_times_s()
    sent = await OutboxMessage.count().where(OutboxMessage.status == "sent")
    assert sent == queued == ANNOUNCEMENTS, (sent, queued)
    size = sum(len(row["mime"]) for row in sample[:100]) / 100
    return {
        "publish_s": publish_s,
        "longest_write_s": max(max(times, default=0.0) for times in longest.values()),
        "longest_writes": {part: _spread(times) for part, times in longest.items()},
        "queued_s": queued_s,
        "rate": sent / elapsed,
        "sent": sent,
        "raw": raw,
        "size": size,
    }


if __name__ == "__main__":
    port = free_port()
    sink = start_sink(port)
    try:
        print(json.dumps(asyncio.run(ours(port))))
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)
