"""The support count stays exact under load: 200 supports confirmed at once, a quarter of
the links clicked twice, over two `conseils serve` processes on the suite's PostgreSQL
database. The count on the proposal must equal the confirmed supports: every confirmation
raised it once, and no second click did."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conseils import capabilities
from meetings.services.councils import get_council
from proposals.tables import Proposal, Support
from tests.support.live_server import (
    free_port,
    one_suite_at_a_time,
    server_env,
    start_server,
    stop,
    suite_is_postgres,
    wait_until_healthy,
)
from tests.support.proposal_support import confirmed_supports

pytestmark = [
    pytest.mark.engine_independent,
    pytest.mark.skipif(not suite_is_postgres(), reason="row locks of PostgreSQL, two processes"),
]
SUPPORTS = 200


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[list[str], list[Path]]]:
    with one_suite_at_a_time():
        directory = Path(tempfile.mkdtemp(prefix="conseils-supports-"))
        ports = [free_port(), free_port()]
        logs = [directory / f"server{i}.log" for i in range(2)]
        processes = [
            start_server(
                server_env(
                    os.environ["DATABASE_URL"],
                    port,
                    SECRET_KEY=os.environ["SECRET_KEY"],
                    MAILDIR=str(directory / f"maildir{i}"),
                ),
                log,
                "--port",
                str(port),
            )
            for i, (port, log) in enumerate(zip(ports, logs, strict=True))
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            for url, process, log in zip(urls, processes, logs, strict=True):
                wait_until_healthy(url, process, log)
            yield urls, logs
        finally:
            for process in processes:
                stop(process)


async def test_200_concurrent_confirmations_count_exactly(
    servers: tuple[list[str], list[Path]], demo: None
) -> None:
    urls, logs = servers
    council = await get_council("ales-tamaris")
    proposal = await Proposal.insert(
        Proposal(council=council.id, title="Des bancs", theme="autre", status="published")
    ).returning(Proposal.id)
    proposal_id = proposal[0]["id"]
    tokens = [capabilities.new_token() for _ in range(SUPPORTS)]
    await Support.insert(
        *(
            Support(
                proposal=proposal_id,
                email=f"soutien{n}@example.org",
                key=f"{proposal_id}:soutien{n}@example.org",
                token_digest=capabilities.digest(token),
            )
            for n, token in enumerate(tokens)
        )
    )
    clicks = [(urls[n % 2], token) for n, token in enumerate(tokens)]
    # A quarter of the links clicked a second time, on the other process, at the same moment.
    clicks += [(urls[(n + 1) % 2], token) for n, token in enumerate(tokens[: SUPPORTS // 4])]
    limits = httpx.Limits(max_connections=len(clicks), max_keepalive_connections=len(clicks))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.monotonic()
        answers = await asyncio.gather(
            *(client.post(f"{url}/soutiens/confirmer/{token}") for url, token in clicks)
        )
        elapsed = time.monotonic() - started
    print(f"{len(clicks)} confirmations over two processes: {elapsed:.1f} s")
    assert [a.status_code for a in answers if a.status_code != 200] == []
    assert all("Votre soutien est compté" in a.text for a in answers)
    assert await confirmed_supports(proposal_id) == (SUPPORTS, SUPPORTS)
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace")
