"""Abuse limits as they hold on real server processes: a login flood (memory, a responsive
server, throttling that lets the right password in once its delay has passed) and a rate
limit whose count two processes share (Redis, or the counters file of one host)."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.limits_support import REDIS_URL
from tests.support.live_server import (
    SUITE_DATABASE,
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    server_env,
    start_server,
    stop,
    wait_until_healthy,
)

pytestmark = pytest.mark.engine_independent
PASSWORD = "le bon mot de passe, assez long"
RSS_LIMIT_MB = 300


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn serves in the process itself,
    but a future worker model should not hide memory in a child)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _servers(count: int, **extra: str) -> Iterator[tuple[list[str], list[int]]]:
    directory = Path(tempfile.mkdtemp(prefix="conseils-abuse-"))
    database_url = fresh_database(f"{SUITE_DATABASE}_abuse", directory)
    ports = [free_port() for _ in range(count)]
    # The real password cost (the suite's own is argon2's cheapest): what these tests prove,
    # memory and answers under a flood of checks, depends on it.
    extra = {"PASSWORD_HASHING": "rfc9106-low-memory", **extra}
    envs = [
        server_env(database_url, port, DATA_DIR=str(directory / "data"), **extra) for port in ports
    ]
    assert run_cli("demo", env=envs[0]).returncode == 0
    for email in ("anim@ales.fr", "deux@ales.fr"):
        created = run_cli(
            "facilitator", "create", "--email", email, "--name", "Anim",
            env=envs[0], input=PASSWORD + "\n",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
    processes = [
        start_server(env, directory / f"server{i}.log", "--port", str(port))
        for i, (env, port) in enumerate(zip(envs, ports, strict=True))
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for i, (url, process) in enumerate(zip(urls, processes, strict=True)):
            wait_until_healthy(url, process, directory / f"server{i}.log")
        yield urls, [process.pid for process in processes]
    finally:
        for process in processes:
            stop(process)
        drop_database(database_url)


@pytest.fixture(scope="module")
def one_server() -> Iterator[tuple[str, int]]:
    # No per-IP limit on POSTs here: what holds is the login's own protection.
    for urls, pids in _servers(1, RATE_LIMIT_PER_MINUTE="0"):
        yield urls[0], pids[0]


def _login(url: str, email: str, password: str, ip: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/token",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
        timeout=60,
    )


def test_a_flood_of_wrong_passwords_stays_small_and_the_server_answers(
    one_server: tuple[str, int],
) -> None:
    url, pid = one_server
    peak = [_rss_mb(pid)]
    health: list[float] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.is_set():
            peak.append(_rss_mb(pid))
            started = time.monotonic()
            httpx.get(f"{url}/healthz", timeout=30)
            health.append(time.monotonic() - started)
            time.sleep(0.05)

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as c:
            return await asyncio.gather(
                *(
                    c.post(
                        f"{url}/api/v1/auth/token",
                        json={"email": "anim@ales.fr", "password": f"faux {n}"},
                        headers={"X-Forwarded-For": f"10.1.{n // 250}.{n % 250 + 1}"},
                    )
                    for n in range(150)
                )
            )

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answers = asyncio.run(flood())
    finally:
        stop_sampling.set()
        sampler.join()
    statuses = {answer.status_code for answer in answers}
    print(  # for the record: `pytest -s` shows what the flood cost
        f"flood: {len(answers)} logins, statuses {sorted(statuses)}, peak RSS "
        f"{max(peak):.0f} MB (before {peak[0]:.0f}), /healthz max {max(health):.2f} s"
    )
    assert statuses <= {401, 429}, statuses
    assert max(peak) < RSS_LIMIT_MB, f"peak RSS {max(peak):.0f} MB"
    assert max(health) < 5, f"/healthz took up to {max(health):.1f} s during the flood"
    # The flooded account waits out its delay, even with the right password.
    blocked = _login(url, "anim@ales.fr", PASSWORD, "192.0.2.1")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "login_throttled"
    assert int(blocked.headers["Retry-After"]) > 0


def test_the_right_password_works_once_the_delay_has_passed(
    one_server: tuple[str, int],
) -> None:
    url, _ = one_server
    for email in ("deux@ales.fr", "personne@ales.fr"):  # a real account, and no account
        # Five free failures; the sixth blocks the account for 2 s.
        assert [_login(url, email, "faux", "192.0.2.77").status_code for _ in range(6)] == [401] * 6
        refused = _login(url, email, PASSWORD, "192.0.2.78")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 3
        if email == "deux@ales.fr":
            time.sleep(wait)
            assert _login(url, email, PASSWORD, "192.0.2.78").status_code == 201


def _subscribe(url: str, n: int, ip: str) -> int:
    return httpx.post(
        f"{url}/api/v1/councils/ales-tamaris/subscriptions",
        json={"email": f"abonne.{n}@example.org"},
        headers={"X-Forwarded-For": ip},
        timeout=30,
    ).status_code


@pytest.mark.parametrize("store", ["redis", "file"])
def test_two_processes_share_one_count(store: str) -> None:
    extra = {"RATE_LIMIT_PER_MINUTE": "10"}
    if store == "redis":
        extra |= {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"conseils-test-{secrets.token_hex(6)}:"}
    for urls, _ in _servers(2, **extra):
        statuses = [_subscribe(urls[n % 2], n, "203.0.113.50") for n in range(30)]
        assert statuses.count(202) == 10, statuses
        assert statuses.count(429) == 20
        assert _subscribe(urls[1], 99, "203.0.113.51") == 202  # another client


def test_a_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    """Loopback is no proxy of ours here (TRUSTED_PROXIES names another address): whatever
    X-Forwarded-For it sends, every request counts as its own. uvicorn, which rewrites the
    client's address from that header, is told the same proxies (it trusts loopback by
    itself, which would let anyone on the host pick a new address per request)."""
    extra = {"RATE_LIMIT_PER_MINUTE": "3", "TRUSTED_PROXIES": "192.0.2.1"}
    for urls, _ in _servers(1, **extra):
        statuses = [_subscribe(urls[0], n, f"203.0.113.{n + 1}") for n in range(6)]
        assert statuses == [202] * 3 + [429] * 3, statuses
