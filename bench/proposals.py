"""A council's proposals page (`/conseils/ales-tamaris/propositions`, first page, sorted by
supports, with its twelve-month record) over 2,000 published proposals, next to the plain
Litestar handler in the same run: the time of one request on one connection (the goal is
under 50 ms on both engines) and requests per second under wrk's usual load.

Run by bench/run.py (`make bench`, part `proposals`); `python -m bench.proposals populate`
fills the database in its own process with the bench's DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from bench.backoffice import latency_ms

PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", "2000"))
GOAL_MS = 50.0
PAGE = "/conseils/ales-tamaris/propositions"


async def populate() -> None:
    """The demo and PROPOSALS published proposals of Tamaris over a year, a fifth answered,
    with supports; each in the search index, as publication puts it there."""
    from conseils import db, search
    from conseils.timefmt import now_utc
    from meetings.demo import load_demo
    from meetings.tables import Council
    from proposals.services.common import THEMES
    from proposals.tables import Proposal

    await load_demo()
    council = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    now = now_utc()
    themes = list(THEMES)
    statuses = ("published", "under_study", "accepted", "declined", "done")
    rows = []
    for n in range(PROPOSALS):
        created = now - timedelta(hours=4 * n + 1)
        answered = n % 5 == 0
        rows.append(
            Proposal(
                council=council["id"], title=f"Proposition n° {n} : des bancs et des arbres",
                body="Les personnes âgées n'ont **nulle part** où s'asseoir. " * 5,
                theme=themes[n % len(themes)], author_name=f"Habitante {n}",
                show_name=n % 2 == 0, email=f"habitante.{n}@example.org",
                status=statuses[n % len(statuses)] if answered else "published",
                supports=(n * 7919) % 97, created_at=created, confirmed_at=created,
                published_at=created + timedelta(hours=1), updated_at=created,
                answered_at=created + timedelta(days=12) if answered else None,
                answer="Réponse du conseil." if answered else "",
            )
        )  # fmt: skip
    for start in range(0, len(rows), 250):
        inserted = await Proposal.insert(*rows[start : start + 250]).returning(
            Proposal.id, Proposal.title, Proposal.body
        )
        async with db.write_transaction():
            for row in inserted:
                await search.index("proposal", row["id"], council["id"], row["title"], row["body"])


Row = tuple[str, float, float, float, float]


def measure(engine: str, env: dict[str, str], tools) -> Row:
    """(engine, page ms, plain ms, page req/s, plain req/s). tools: the run.py module."""
    subprocess.run([tools.BIN / "conseils", "migrate"], env=env, cwd=tools.ROOT, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "bench.proposals", "populate"],
        env=env, cwd=tools.ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    plain_port, port = tools.free_port(), tools.free_port()
    with tools.server(
        [str(tools.BIN / "uvicorn"), "bench.plain:app", "--port", str(plain_port),
         "--no-access-log", "--log-level", "warning"],
        env, f"http://127.0.0.1:{plain_port}/",
    ):  # fmt: skip
        plain_url = f"http://127.0.0.1:{plain_port}/"
        plain_ms, plain_rate = latency_ms(plain_url), tools.wrk(plain_url)
    base = f"http://127.0.0.1:{port}"
    with tools.server(
        [str(tools.BIN / "conseils"), "serve", "--port", str(port)], env, f"{base}/healthz"
    ):
        url = base + PAGE
        page_ms, page_rate = latency_ms(url), tools.wrk(url)
    return engine, page_ms, plain_ms, page_rate, plain_rate


def report(rows: list[Row], connections: int) -> None:
    print(f"\nA council's proposals page (first page) with {PROPOSALS} published proposals")
    print(
        f"(one request at a time: ms; then wrk -c{connections}: req/s), goal < {GOAL_MS:.0f} ms\n"
    )
    print("| engine     | page ms | plain ms | page req/s | plain req/s | ratio | goal |")
    print("|------------|---------|----------|------------|-------------|-------|------|")
    for engine, page_ms, plain_ms, page_rate, plain_rate in rows:
        verdict = "met" if page_ms < GOAL_MS else "MISSED"
        print(
            f"| {engine:<10} | {page_ms:>7.1f} | {plain_ms:>8.2f} | {page_rate:>10.0f} "
            f"| {plain_rate:>11.0f} | {page_rate / plain_rate:5.3f} | {verdict:<4} |"
        )


if __name__ == "__main__" and sys.argv[1:] == ["populate"]:
    asyncio.run(populate())
