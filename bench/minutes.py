"""Publishing minutes to 5,000 recipients: the confirmed subscribers of the council and the
registrants of the meeting (some of them both, who get one email), through the real API
(`POST /api/v1/minutes/{id}/publish` with a facilitator's bearer token, on `conseils serve`
whose own relay is off), then the relay's expansion of the fan-out job into one message per
address, then its delivery to a local aiosmtpd sink (as bench/mail.py does).

`python -m bench.minutes` (DATABASE_URL set, migrated) prints one result line as JSON; run by
bench/run.py (`BENCH_PARTS=minutes make bench`).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from bench.mail import _spread, free_port, start_sink

RECIPIENTS = int(os.environ.get("BENCH_MINUTES_RECIPIENTS", "5000"))
# Three in ten recipients registered for the meeting; a third of those also subscribe.
REGISTRANTS = RECIPIENTS * 3 // 10
BOTH = REGISTRANTS // 3
SUBSCRIBERS = RECIPIENTS - REGISTRANTS + BOTH
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TRIES = 5  # publish requests timed: the first publishes, the others find it published


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def _fill() -> tuple[int, str]:
    """The demo, the subscribers, a past meeting and its registrants, draft minutes; the
    minutes' id and a bearer token of the council's facilitator."""
    from accounts.services import create_facilitator, facilitator_for_token, issue_token
    from conseils.db import write_transaction
    from conseils.timefmt import now_utc
    from meetings.demo import load_demo
    from meetings.tables import Council, Meeting, Registration
    from minutes.services import editing
    from notifications.tables import Subscription

    await load_demo()
    council = (await Council.select(Council.id).where(Council.slug == "ales-tamaris").first())["id"]
    now = now_utc()
    subscribed = range(RECIPIENTS - SUBSCRIBERS, RECIPIENTS)
    registered = range(REGISTRANTS)  # the last BOTH of them also subscribe
    starts = now - timedelta(days=2)
    async with write_transaction():
        meeting = (
            await Meeting.insert(
                Meeting(
                    council=council, kind="council", title="Réunion plénière du banc d'essai",
                    starts_at=starts, ends_at=starts + timedelta(hours=2), status="published",
                    uid=str(uuid4()),
                )
            ).returning(Meeting.id)
        )[0]["id"]  # fmt: skip
        subscriptions = [
            Subscription(
                council=council, email=f"habitant{n}@example.org",
                key=f"{council}:habitant{n}@example.org", status="active",
                token=secrets.token_hex(32), created_at=now, confirmed_at=now,
            )
            for n in subscribed
        ]  # fmt: skip
        registrations = [
            Registration(
                meeting=meeting, key=f"{meeting}:habitant{n}@example.org",
                email=f"habitant{n}@example.org", name=f"Habitant {n}", attending_as="resident",
                status="confirmed", arrival=n + 1, token=secrets.token_hex(32), consent_at=now,
                confirmed_at=now, attended=n % 2 == 0,
            )
            for n in registered
        ]  # fmt: skip
        for start in range(0, len(subscriptions), 1000):
            await Subscription.insert(*subscriptions[start : start + 1000])
        for start in range(0, len(registrations), 1000):
            await Registration.insert(*registrations[start : start + 1000])
    password = "un mot de passe de banc d'essai"
    await create_facilitator(
        email="banc@example.org", name="Banc", password=password, council_slugs=["ales-tamaris"]
    )
    token = (await issue_token("banc@example.org", password)).token
    viewer = await facilitator_for_token(token)
    made, _ = await editing.create(viewer, {"meeting": str(meeting)})
    await editing.update(
        viewer,
        made.id,
        {
            "title": made.title,
            "summary": "Le conseil a parlé des jardins partagés et de la fête de quartier.",
            "body": "## Présents\n\nVingt habitants.\n\n## Décisions\n\nUne fête en juin.",
            "decisions": "Fête de quartier en juin.",
            "attendance": "20",
        },
    )
    return made.id, token


def _serve_and_publish(minutes_id: int, token: str) -> list[float]:
    """`conseils serve` on the bench's database, its relay off (the bench expands below)."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "conseils"), "serve", "--port", str(port)],
        env={**os.environ, "OUTBOX_IN_PROCESS": "0"},
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz")
        return _publish(port, minutes_id, token)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _publish(port: int, minutes_id: int, token: str) -> list[float]:
    """The publish request, timed on one kept-alive connection (after one warm-up read)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection.request("GET", f"/api/v1/minutes/{minutes_id}/editing", headers=headers)
    answer = connection.getresponse()
    assert answer.status == 200, (answer.status, answer.read())
    answer.read()
    times = []
    for _ in range(TRIES):
        started = time.perf_counter()
        connection.request("POST", f"/api/v1/minutes/{minutes_id}/publish", headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        times.append(time.perf_counter() - started)
        assert answer.status in (200, 201), (answer.status, body)
        assert json.loads(body)["status"] == "published"
    connection.close()
    return times


async def ours(sink_port: int) -> dict:
    from conseils import db as database
    from conseils.app import install_features
    from conseils.db import engine, is_postgres
    from conseils.settings import load_settings
    from notifications.fanout import expand_all
    from notifications.relay import Relay
    from notifications.tables import OutboxMessage

    install_features()
    db = engine()
    if is_postgres():
        await db.start_connection_pool(min_size=2, max_size=10)
    minutes_id, token = await _fill()
    publish = await asyncio.to_thread(_serve_and_publish, minutes_id, token)
    database.reset_longest_write()
    started = time.perf_counter()
    await expand_all()  # what the relay does next, a batch per transaction
    expanded_s = time.perf_counter() - started
    expansion_writes = database.write_times_s()
    kind = OutboxMessage.kind == "minutes_published"
    queued = await OutboxMessage.count().where(kind)
    addresses = len(await OutboxMessage.select(OutboxMessage.recipient).where(kind).distinct())

    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink_port), OUTBOX_BATCH_SIZE="200")
    relay = Relay(settings=load_settings().mail, name="bench")
    started = time.perf_counter()
    while await relay.deliver_once():
        pass
    elapsed = time.perf_counter() - started
    sent = await OutboxMessage.count().where(kind & (OutboxMessage.status == "sent"))
    assert sent == queued == addresses == RECIPIENTS, (sent, queued, addresses)
    return {
        "recipients": RECIPIENTS,
        "subscribers": SUBSCRIBERS,
        "registrants": REGISTRANTS,
        "both": BOTH,
        "publish_s": publish[0],
        "again_s": sorted(publish[1:])[len(publish[1:]) // 2],
        "expanded_s": expanded_s,
        "expansion_writes": _spread(expansion_writes),
        "rate": sent / elapsed,
    }


def report(rows: list[tuple[str, dict]]) -> None:
    first = rows[0][1]
    print(
        f"\nMinutes published to {first['recipients']} recipients ({first['subscribers']} "
        f"confirmed subscribers, {first['registrants']} registrants of the meeting, "
        f"{first['both']} of them both):"
    )
    print("POST /api/v1/minutes/{id}/publish with a bearer token (it queues one fan-out job),")
    print("then the relay expands the job into one message per address and sends them to a")
    print("local aiosmtpd sink\n")
    print("| engine     | publish | publish again | expanded in | relay msg/s |")
    print("|------------|---------|---------------|-------------|-------------|")
    for engine, r in rows:
        print(
            f"| {engine:<10} | {r['publish_s'] * 1000:>4.0f} ms | {r['again_s'] * 1000:>10.0f} ms "
            f"| {r['expanded_s']:>9.2f} s | {r['rate']:>11.0f} |"
        )
    print("Target: publish < 200 ms.")
    for engine, r in rows:
        print(f"{engine}, write transactions while expanding: {r['expansion_writes']}")


if __name__ == "__main__":
    sink_port = free_port()
    sink = start_sink(sink_port)
    try:
        print(json.dumps(asyncio.run(ours(sink_port))))
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)
