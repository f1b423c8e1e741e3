"""The deployment of deploy/ as it runs: Debian's nginx with deploy/nginx/conseils.conf (TLS
with a certificate of the test's own authority, so that BASE_URL is https as production
requires) in front of two `conseils serve` and two `conseils worker` processes, PostgreSQL
and Redis (tests/support/proxy_stack.py).

One minute of mixed traffic at a fixed rate through nginx: no error anywhere, the seats of
the meeting everyone signs up for counted exactly, every email sent once. Then what the
site promises: the client's address read through the proxy (rate limits per resident, not
per proxy), tokens kept out of nginx's access log, static files served by nginx with their
cache lifetimes, http redirected to https, no compression added to the application's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.live_server import (
    ROOT,
    SUITE_DATABASE,
    drop_database,
    fresh_database,
    one_suite_at_a_time,
    suite_is_postgres,
)
from tests.support.proxy_stack import Stack, proxy_stack, run_mix
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.engine_independent

MIX_SECONDS = float(os.environ.get("PROXY_MIX_SECONDS", "60"))
MIX_RATE = 20.0  # requests per second: about 1,200 in the minute
CAPACITY = 20  # of the demo café
HASHED = "essai.0123abcd.css"  # a static file with a content hash in its name


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    smtp = SmtpSink()
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture(scope="module")
def stack(sink: SmtpSink) -> Iterator[Stack]:
    if not suite_is_postgres():
        pytest.skip("the deployment runs on PostgreSQL: run with DATABASE_URL=postgresql://…")
    directory = Path(tempfile.mkdtemp(prefix="conseils-proxy-"))
    # The static files nginx serves: the checkout's, and one with a hashed name.
    static = directory / "static"
    static.mkdir()
    for entry in (ROOT / "static").iterdir():
        (static / entry.name).symlink_to(entry)
    (static / HASHED).write_text("body { margin: 0 }\n" * 100)
    with one_suite_at_a_time():
        database_url = fresh_database(f"{SUITE_DATABASE}_proxy", directory)
        try:
            mail = {"SMTP_HOST": sink.host, "SMTP_PORT": str(sink.port)}
            with proxy_stack(database_url, directory, mail=mail, static=static) as running:
                yield running
        finally:
            drop_database(database_url)


async def _rows(database_url: str, query: str, *args) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def test_a_minute_of_mixed_traffic_through_nginx(stack: Stack, sink: SmtpSink) -> None:
    result = await run_mix(stack, MIX_SECONDS, MIX_RATE)

    assert result.errors == [], result.errors[:20]
    assert stack.problems() == []
    kinds = {kind: len(values) for kind, values in result.latencies.items()}
    total = int(MIX_SECONDS * MIX_RATE)
    assert kinds == {
        "home": total * 40 // 100, "meeting": total * 25 // 100, "feed": total * 20 // 100,
        "signup": total * 10 // 100, "subscribe": total * 5 // 100,
    }  # fmt: skip
    assert result.not_modified > kinds["feed"] / 2  # most feeds had not changed
    assert result.late < 1.0  # the client kept its rate

    # Exact seats: the first CAPACITY sign-ups have a seat, the others wait, in order.
    signed_up = result.signed_up
    database_url = stack.database_url
    (cafe,) = await _rows(
        database_url,
        "SELECT m.id, m.seats_taken, m.capacity FROM meeting m "
        "JOIN registration r ON r.meeting = m.id GROUP BY m.id",
    )
    assert cafe["capacity"] == CAPACITY
    assert cafe["seats_taken"] == min(CAPACITY, len(signed_up))
    statuses = Counter(
        r["status"]
        for r in await _rows(
            database_url, "SELECT status FROM registration WHERE meeting = $1", cafe["id"]
        )
    )
    assert len(signed_up) > CAPACITY  # the waiting list is part of the test
    assert statuses == {"confirmed": CAPACITY, "waitlisted": len(signed_up) - CAPACITY}
    # Every process says the same, directly and through nginx.
    for base, verify in [(u, True) for u in stack.upstreams] + [(stack.url, stack.ssl_context)]:
        async with httpx.AsyncClient(base_url=base, verify=verify) as client:
            for _ in range(2):  # nginx alternates between the processes
                view = (await client.get(f"/api/v1/meetings/{cafe['id']}")).json()
                assert (view["seats_left"], view["waitlist_length"]) == (
                    0,
                    len(signed_up) - CAPACITY,
                )

    # Each email once: one per sign-up (seat or rank), one per subscription (confirm link).
    expected = sorted(signed_up + result.subscribed)
    deadline = time.monotonic() + 30
    while len(sink.received) < len(expected) and time.monotonic() < deadline:  # noqa: ASYNC110 - another thread's list
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # anything sent twice would arrive by now
    recipients = Counter(rcpt for item in sink.received for rcpt in item.rcpt_tos)
    assert sorted(recipients.elements()) == expected
    assert set(sink.message_ids().values()) == {1}
    outbox = await _rows(database_url, "SELECT status, attempts FROM outbox_message")
    assert Counter(r["status"] for r in outbox) == {"sent": len(expected)}
    assert stack.problems() == []


async def test_the_client_address_comes_through_the_proxy(stack: Stack) -> None:
    """RATE_LIMIT_PER_MINUTE (20) counts per resident, as nginx's X-Forwarded-For names
    them, across both processes (Redis), not per proxy."""
    async with stack.client() as client:

        async def post(address: str) -> int:
            response = await client.post(
                "/api/v1/councils/ales-tamaris/subscriptions",
                json={"email": "pas une adresse"},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        assert [await post("192.0.2.50") for _ in range(20)] == [400] * 20
        assert await post("192.0.2.50") == 429
        assert await post("192.0.2.51") == 400


async def test_tokens_stay_out_of_the_access_log(stack: Stack) -> None:
    token = secrets.token_urlsafe(32)
    async with stack.client() as client:
        await client.get(f"/inscriptions/{token}", headers={"User-Agent": "essai-journal"})
        await client.get(f"/agenda/adresse/{token}/calendrier.ics?x=1")
    deadline = time.monotonic() + 5
    while "/agenda/adresse/<jeton>/calendrier.ics?x=1" not in stack.access_log.read_text():
        assert time.monotonic() < deadline, stack.access_log.read_text()[-2000:]
        await asyncio.sleep(0.05)
    log = stack.access_log.read_text()
    assert token not in log
    assert '"GET /inscriptions/<jeton> HTTP/1.1"' in log
    assert "essai-journal" in log


async def test_static_files_are_served_by_nginx_with_their_cache_lifetime(stack: Stack) -> None:
    async with stack.client() as client:
        css = await client.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200
        assert css.headers["cache-control"] == "public, max-age=3600"
        assert css.headers["content-encoding"] == "gzip"
        assert "etag" in css.headers and "last-modified" in css.headers
        assert css.text == (ROOT / "static" / "site.css").read_text()
        hashed = await client.get(f"/static/{HASHED}")
        assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await client.get("/static/absent.css")).status_code == 404


async def test_proxied_answers_keep_the_application_s_compression(stack: Stack) -> None:
    async with stack.client() as client:
        plain = await client.get("/calendrier.ics", headers={"Accept-Encoding": "identity"})
        gzip = await client.get("/calendrier.ics", headers={"Accept-Encoding": "gzip"})
        again = await client.get(
            "/calendrier.ics",
            headers={"Accept-Encoding": "gzip", "If-None-Match": gzip.headers["etag"]},
        )
        page = await client.get("/", headers={"Accept-Encoding": "br"})
    assert "content-encoding" not in plain.headers
    assert gzip.headers["content-encoding"] == "gzip"
    assert gzip.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'  # the app's own tag
    assert again.status_code == 304
    assert page.headers["content-encoding"] == "br"
    assert "Accept-Encoding" in page.headers["vary"]


def test_http_is_redirected_to_https(stack: Stack) -> None:
    response = httpx.get(f"{stack.http_url}/reunions/1?a=b", headers={"Host": "localhost"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://localhost/reunions/1?a=b"
