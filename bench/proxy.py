"""The mix of traffic of tests/system/test_proxy.py, measured: nginx (deploy/nginx/conseils.conf)
in front of two `conseils serve` and two `conseils worker` processes on PostgreSQL and
Redis, requests sent at a fixed rate (BENCH_MIX_RATE a second, BENCH_MIX_SECONDS long):
home 40 %, meeting pages 25 %, feeds with If-None-Match 20 %, sign-ups 10 %,
subscriptions 5 %. Reports p50 and p99 latency per kind and overall, and the throughput.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from tests.support.proxy_stack import proxy_stack, run_mix, summary_rows

SECONDS = float(os.environ.get("BENCH_MIX_SECONDS", "60"))
RATE = float(
    os.environ.get("BENCH_MIX_RATE", "20")
)  # the test's; one Python client tops out near 30


def measure(database_url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with proxy_stack(
            database_url, directory, mail={"MAILDIR": str(directory / "mail")}
        ) as stack:
            result = asyncio.run(run_mix(stack, SECONDS, RATE))
            problems = stack.problems()
    return {"result": result, "problems": problems}


def report(measured: dict) -> None:
    result = measured["result"]
    answered = sum(len(v) for v in result.latencies.values())
    print(
        f"\nMix through nginx (TLS) to 2 serve + 2 worker processes, PostgreSQL, Redis: "
        f"{RATE:.0f} requests/s asked for {SECONDS:.0f} s"
    )
    print("| kind      | answers | p50 ms | p99 ms |")
    print("|-----------|---------|--------|--------|")
    for kind, count, p50, p99 in summary_rows(result):
        print(f"| {kind:<9} | {count:>7} | {p50:>6.1f} | {p99:>6.1f} |")
    print(
        f"throughput {answered / result.seconds:.1f} answers/s ({answered} in "
        f"{result.seconds:.1f} s), errors {len(result.errors)}, feeds 304 "
        f"{result.not_modified}, client lag max {result.late * 1000:.0f} ms"
    )
    for line in result.errors[:5] + measured["problems"][:3]:
        print("  !", line[:300])
