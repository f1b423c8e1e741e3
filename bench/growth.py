"""Growth curve of the full calendar feed: cold build, rebuild after one change, and the
server's memory, at 1,000, 10,000 and 100,000 published meetings (BENCH_GROWTH_SIZES).

Each size gets a fresh database (filled by `python -m bench.feeds populate`, as the feeds
part does) and a fresh `conseils serve`. The last column divides each cost by the previous
size's, next to the ratio of sizes: a cost that grows no faster than linearly stays at or
under it. Targets at 100,000 meetings: cold build under 10 s, rebuild after one change
under 300 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench.feeds import EMAIL, PASSWORD, _request, rss_mib, timed_get_split

SIZES = [int(n) for n in os.environ.get("BENCH_GROWTH_SIZES", "1000,10000,100000").split(",")]
CHANGES = 3


def measure_size(engine: str, meetings: int, env: dict[str, str], tools) -> dict:
    env = {**env, "BENCH_FEED_MEETINGS": str(meetings)}
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
    with tools.server(
        [str(tools.BIN / "conseils"), "serve", "--port", str(port)], env, f"{base}/healthz"
    ) as process:
        idle = rss_mib(process.pid)
        cold_built, cold, body, headers = timed_get_split(f"{base}/calendrier.ics")
        built = rss_mib(process.pid)
        _, _, token = _request(
            f"{base}/api/v1/auth/token", "POST", {"email": EMAIL, "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {json.loads(token)['token']}"}
        _, _, listing = _request(f"{base}/api/v1/meetings?limit={CHANGES}", headers=auth)
        rebuilds, rebuilt = [], []
        for n, item in enumerate(json.loads(listing)["items"]):
            _request(
                f"{base}/api/v1/meetings/{item['id']}", "PATCH",
                {"title": f"Café citoyen modifié {n}"}, auth,
            )  # fmt: skip
            built_s, seconds, again, answer = timed_get_split(f"{base}/calendrier.ics")
            assert answer["etag"] != headers["etag"] and f"modifié {n}".encode() in again
            headers = answer
            rebuilds.append(seconds)
            rebuilt.append(built_s)
        after = rss_mib(process.pid)
    return {
        "engine": engine,
        "meetings": meetings,
        "events": body.count(b"BEGIN:VEVENT"),
        "mb": len(body) / 1e6,
        "cold_s": cold,
        "cold_built_s": cold_built,
        "rebuild_s": statistics.median(rebuilds),
        "rebuilt_s": statistics.median(rebuilt),
        "idle_mib": idle,
        "built_mib": built,
        "after_mib": after,
    }


def report(rows: list[dict]) -> None:
    print(
        "\nGrowth of the full feed (/calendrier.ics): cold build, rebuild after one change "
        f"(median of {CHANGES}), each as the time to the answer's headers (the feed built and "
        "its ETag computed) / to its last byte (the whole plain body read by urllib); server "
        "memory (RSS: idle, after the build, after the changes);"
        "\n× previous: each cost (to the headers) over the previous size's (linear growth: "
        "the sizes' ratio)\n"
    )
    header = ("engine", "meetings", "size", "cold build", "rebuild", "RSS idle → built → after")
    widths = (10, 8, 8, 17, 15, 24)
    print("| " + " | ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)), end="")
    print(" | × previous (sizes: cold, rebuild, RSS growth) |")
    print("|" + "|".join("-" * (w + 2) for w in (*widths, 46)) + "|")
    previous: dict | None = None
    for row in rows:
        if previous is not None and previous["engine"] == row["engine"]:
            grown = max(row["built_mib"] - row["idle_mib"], 0.1)
            before = max(previous["built_mib"] - previous["idle_mib"], 0.1)
            ratio = (
                f"{row['meetings'] / previous['meetings']:.0f}×: "
                f"{row['cold_built_s'] / previous['cold_built_s']:.1f}, "
                f"{row['rebuilt_s'] / previous['rebuilt_s']:.1f}, {grown / before:.1f}"
            )
        else:
            ratio = "-"
        rss = f"{row['idle_mib']:.0f} → {row['built_mib']:.0f} → {row['after_mib']:.0f} MiB"
        cold = f"{row['cold_built_s'] * 1000:.0f} / {row['cold_s'] * 1000:.0f} ms"
        rebuild = f"{row['rebuilt_s'] * 1000:.0f} / {row['rebuild_s'] * 1000:.0f} ms"
        print(
            f"| {row['engine']:<10} | {row['meetings']:>8} | {row['mb']:>5.1f} MB "
            f"| {cold:>17} | {rebuild:>15} "
            f"| {rss:<24} | {ratio:<46} |"
        )
        previous = row
