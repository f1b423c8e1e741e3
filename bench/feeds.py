"""Calendar feeds with 10,000 published meetings: cold build, rebuild after one change,
compressed size (gzip, Brotli) and the time to make the copy, cached 200 (plain and gzip)
and 304 rates next to plain Litestar handlers in the same run.

Run by bench/run.py (`make bench`); `python -m bench.feeds populate` is the step that fills
the database, run in its own process with the bench's DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

MEETINGS = int(os.environ.get("BENCH_FEED_MEETINGS", "10000"))
CHANGES = 5
EMAIL, PASSWORD = "bench@example.org", "un mot de passe de banc d'essai"


async def populate() -> None:
    """The demo councils plus MEETINGS published meetings spread over them and two years."""
    from conseils.timefmt import now_utc
    from meetings.demo import load_demo
    from meetings.tables import Council, Meeting

    await load_demo()
    councils = [row["id"] for row in await Council.select(Council.id)]
    now = now_utc().replace(minute=0, second=0, microsecond=0)
    description = (
        "Ordre du jour : cadre de vie, propreté, mobilité ; questions des habitants, "
        "accès de plain-pied.\nCafé offert. 🌱"
    )
    batch = []
    for i in range(MEETINGS):
        starts = now + timedelta(hours=6 * i - 24 * 365)
        batch.append(
            Meeting(
                council=councils[i % len(councils)],
                kind="cafe" if i % 3 else "council",
                title=f"Café citoyen n° {i} : le quartier, vos idées",
                description=description,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                venue="Maison de quartier",
                address="Rue de la Lozère, 30100 Alès",
                status="published",
                uid=str(uuid4()),
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 1000:
            await Meeting.insert(*batch)
            batch = []
    if batch:
        await Meeting.insert(*batch)


def _request(url: str, method: str = "GET", body: dict | None = None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def timed_get(url: str, headers: dict[str, str] | None = None) -> tuple[float, bytes, dict]:
    """urllib neither asks for nor decodes a compressed body: the bytes as sent."""
    _, seconds, body, answer_headers = timed_get_split(url, headers)
    return seconds, body, answer_headers


def timed_get_split(
    url: str, headers: dict[str, str] | None = None
) -> tuple[float, float, bytes, dict]:
    """The seconds until the answer's headers (the feed is built: its ETag hashes every
    segment), the seconds until its last byte, the body and the headers."""
    request = urllib.request.Request(url, headers=headers or {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        to_headers = time.perf_counter() - started
        body = response.read()
        answer_headers = {k.lower(): v for k, v in response.headers.items()}
    return to_headers, time.perf_counter() - started, body, answer_headers


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(engine: str, env: dict[str, str], tools) -> list[tuple[str, str, str]]:
    """tools: the run.py module (server, free_port, wrk, BIN, ROOT)."""
    subprocess.run(
        [sys.executable, "-m", "bench.feeds", "populate"], env=env, cwd=tools.ROOT, check=True
    )
    subprocess.run(
        [tools.BIN / "conseils", "facilitator", "create", "--email", EMAIL, "--name", "Banc",
         "--admin"],
        env=env, cwd=tools.ROOT, check=True, capture_output=True, input=f"{PASSWORD}\n".encode(),
    )  # fmt: skip
    port = tools.free_port()
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, str, str]] = []
    with tools.server(
        [str(tools.BIN / "conseils"), "serve", "--port", str(port)], env, f"{base}/healthz"
    ) as process:
        idle_rss = rss_mib(process.pid)
        cold, body, headers = timed_get(f"{base}/calendrier.ics")
        events = body.count(b"BEGIN:VEVENT")
        rows.append(
            (
                engine,
                f"cold build, {events} events, {len(body) / 1e6:.1f} MB",
                f"{cold * 1000:.0f} ms",
            )
        )
        warm, _, _ = timed_get(f"{base}/calendrier.ics")
        rows.append((engine, "cached 200, one request", f"{warm * 1000:.0f} ms"))

        _, _, token = _request(
            f"{base}/api/v1/auth/token", "POST", {"email": EMAIL, "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {json.loads(token)['token']}"}
        _, _, listing = _request(f"{base}/api/v1/meetings?limit={CHANGES}", headers=auth)
        ids = [m["id"] for m in json.loads(listing)["items"]]
        after_change = []
        for n, meeting_id in enumerate(ids):
            _request(
                f"{base}/api/v1/meetings/{meeting_id}", "PATCH",
                {"title": f"Café citoyen modifié {n}"}, auth,
            )  # fmt: skip
            seconds, body2, headers2 = timed_get(f"{base}/calendrier.ics")
            assert headers2["etag"] != headers["etag"] and f"modifié {n}".encode() in body2
            headers = headers2
            after_change.append(seconds)
        rows.append(
            (engine, f"after one change (median of {CHANGES})",
             f"{statistics.median(after_change) * 1000:.0f} ms")
        )  # fmt: skip
        rows.append(
            (
                engine,
                "server memory (RSS) idle → with feed",
                f"{idle_rss:.0f} → {rss_mib(process.pid):.0f} MiB",
            )
        )

        sizes = {}
        for coding in ("gzip", "br"):
            first, encoded, encoded_headers = timed_get(
                f"{base}/calendrier.ics", {"Accept-Encoding": coding}
            )
            assert encoded_headers["content-encoding"] == coding
            sizes[coding] = encoded
            rows.append(
                (
                    engine,
                    f"{coding} copy: first request (compresses once)",
                    f"{first * 1000:.0f} ms, {len(encoded) / 1e6:.2f} MB = "
                    f"{len(encoded) / len(body2):.1%} of {len(body2) / 1e6:.1f} MB",
                )
            )
        feed_200 = tools.wrk(f"{base}/calendrier.ics")
        gzip_200 = tools.wrk(f"{base}/calendrier.ics", headers={"Accept-Encoding": "gzip"})
        feed_304 = tools.wrk(f"{base}/calendrier.ics", headers={"If-None-Match": headers["etag"]})
        one = tools.wrk(f"{base}/reunions/{ids[0]}/calendrier.ics")
    size_file = Path(env.get("TMPDIR", "/tmp")) / f"bench-feed-{port}.ics"
    size_file.write_bytes(body2)
    gzip_file = size_file.with_suffix(".ics.gz")
    gzip_file.write_bytes(sizes["gzip"])
    plain_port = tools.free_port()
    plain_env = {**env, "BENCH_PLAIN_BODY": str(size_file), "BENCH_PLAIN_GZIP": str(gzip_file)}
    with tools.server(
        [str(tools.BIN / "uvicorn"), "bench.plain:app", "--port", str(plain_port),
         "--no-access-log", "--log-level", "warning"],
        plain_env, f"http://127.0.0.1:{plain_port}/",
    ):  # fmt: skip
        plain = tools.wrk(f"http://127.0.0.1:{plain_port}/")
        plain_same = tools.wrk(f"http://127.0.0.1:{plain_port}/same-bytes")
        plain_gzip = tools.wrk(f"http://127.0.0.1:{plain_port}/same-gzip-bytes")
    size_file.unlink()
    gzip_file.unlink()
    rows.append(
        (engine, "cached 200 req/s (full feed)", _ratio(feed_200, plain_same, "same bytes"))
    )
    rows.append(
        (engine, "cached 200 req/s (full feed, gzip)", _ratio(gzip_200, plain_gzip, "same bytes"))
    )
    rows.append((engine, "304 req/s (full feed)", _ratio(feed_304, plain, "tiny")))
    rows.append((engine, "cached 200 req/s (one meeting)", _ratio(one, plain, "tiny")))
    return rows


def _ratio(rate: float, plain: float, what: str) -> str:
    return f"{rate:.0f} vs plain ({what}) {plain:.0f} = {rate / plain:.2f}"


if __name__ == "__main__" and sys.argv[1:] == ["populate"]:
    asyncio.run(populate())
