"""Requests per second for the main pages and API next to a plain Litestar handler.

Both servers run the same way (uvicorn, one worker, no access log) on this machine, one at a
time, loaded by wrk; ratios matter, absolute numbers depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from bench import backoffice, feeds, growth, proposals, proxy
from bench import minutes as minutes_bench
from bench import search as search_bench

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DURATION_S = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/conseils_bench")
PG_FEEDS_URL = PG_URL + "_feeds"
PG_MAIL_URL = PG_URL + "_mail"
PG_MINUTES_URL = PG_URL + "_minutes"
PG_SIGNUP_URL = PG_URL + "_signups"
PG_BACKOFFICE_URL = PG_URL + "_backoffice"
PG_PROXY_URL = PG_URL + "_proxy"
PG_GROWTH_URL = PG_URL + "_growth"
PG_SEARCH_URL = PG_URL + "_search"
PG_PROPOSALS_URL = PG_URL + "_proposals"
SIGNUP_CLIENTS = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str):
    """A server process for the block; what it logged is printed if the block fails."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_until_up(probe)
            yield process
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-20_000:].decode(errors="replace"))
            raise
        finally:
            process.terminate()
            process.wait(timeout=20)


def wrk(
    url: str,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    connections: int = CONNECTIONS,
) -> float:
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    if script is not None:
        extra += ["-s", str(script)]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{DURATION_S}s", "--timeout", "30s", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


async def recreate_pg(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# Production mode needs a public https address; the bench only follows its own requests.
BENCH_BASE_URL = "https://conseils.bench.invalid"


def measure(engine: str, database_url: str) -> list[tuple[str, str, float, float]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "LOG_LEVEL": "WARNING",
        "DEVELOPMENT": "0",
        "RATE_LIMIT_PER_MINUTE": "0",  # wrk posts thousands of sign-ups from one address
        "BASE_URL": BENCH_BASE_URL,  # production refuses to start without an https one
    }
    subprocess.run([BIN / "conseils", "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    plain_port = free_port()
    with server(
        [
            str(BIN / "uvicorn"),
            "bench.plain:app",
            "--port",
            str(plain_port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env,
        f"http://127.0.0.1:{plain_port}/",
    ):
        plain = wrk(f"http://127.0.0.1:{plain_port}/")
    rows = []
    with server(
        [str(BIN / "conseils"), "serve", "--port", str(port)],
        env,
        f"http://127.0.0.1:{port}/healthz",
    ):
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/api/v1/meetings?limit=1&status=published") as r:
            meeting_id = re.search(rb'"id":(\d+)', r.read()).group(1).decode()
        for label, path in (
            ("/", "/"),
            ("/?conseil=…&type=…", "/?conseil=ales-tamaris&type=cafe"),
            ("/conseils/{slug}", "/conseils/ales-tamaris"),
            ("/reunions/{id}", f"/reunions/{meeting_id}"),
            ("GET /api/v1/meetings", "/api/v1/meetings"),
            ("GET /api/v1/councils", "/api/v1/councils"),
        ):
            rows.append((engine, label, wrk(base + path), plain))
    return rows


def feed_env(database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "LOG_LEVEL": "WARNING",
        "DEVELOPMENT": "0",
        "RATE_LIMIT_PER_MINUTE": "0",  # wrk posts thousands of sign-ups from one address
        "BASE_URL": BENCH_BASE_URL,  # production refuses to start without an https one
    }
    subprocess.run(
        [BIN / "conseils", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    return env


def measure_signups(engine: str, database_url: str, tmp: str) -> tuple[str, float, float]:
    """Sign-ups per second at one meeting, 100 concurrent clients, relay running."""
    env = {**feed_env(database_url), "MAILDIR": f"{tmp}/maildir"}
    subprocess.run([BIN / "conseils", "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    port, plain_port = free_port(), free_port()
    with server(
        [str(BIN / "uvicorn"), "bench.plain:app", "--port", str(plain_port),
         "--no-access-log", "--log-level", "warning"],
        env, f"http://127.0.0.1:{plain_port}/",
    ):  # fmt: skip
        plain = wrk(f"http://127.0.0.1:{plain_port}/", connections=SIGNUP_CLIENTS)
    base = f"http://127.0.0.1:{port}"
    with server([str(BIN / "conseils"), "serve", "--port", str(port)], env, f"{base}/healthz"):
        with urllib.request.urlopen(f"{base}/api/v1/meetings?council=ales-tamaris&kind=cafe") as r:
            meeting_id = json.loads(r.read())["items"][0]["id"]
        rate = wrk(
            f"{base}/api/v1/meetings/{meeting_id}/registrations",
            script=ROOT / "bench" / "signup.lua",
            connections=SIGNUP_CLIENTS,
        )
    return engine, rate, plain


def main() -> None:
    rows, feed_rows = [], []
    engines = os.environ.get("BENCH_ENGINES", "sqlite,postgres").split(",")
    default_parts = "pages,feeds,mail,minutes,signups,backoffice,proposals,search,proxy,growth"
    parts = os.environ.get("BENCH_PARTS", default_parts).split(",")
    this = sys.modules[__name__]
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            if "pages" in parts:
                rows += measure("SQLite", f"sqlite:///{tmp}/bench.sqlite")
            if "feeds" in parts:
                env = feed_env(f"sqlite:///{tmp}/feeds.sqlite")
                feed_rows += feeds.measure("SQLite", env, this)
    if "postgres" in engines:
        if "pages" in parts:
            asyncio.run(recreate_pg(PG_URL))
            rows += measure("PostgreSQL", PG_URL)
        if "feeds" in parts:
            asyncio.run(recreate_pg(PG_FEEDS_URL))
            feed_rows += feeds.measure("PostgreSQL", feed_env(PG_FEEDS_URL), this)
    mail_rows = []
    if "mail" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/mail.sqlite" if engine == "sqlite" else PG_MAIL_URL
                if engine != "sqlite":
                    asyncio.run(recreate_pg(PG_MAIL_URL))
                env = feed_env(url)
                out = subprocess.run(
                    [sys.executable, "-m", "bench.mail"],
                    env=env, cwd=ROOT, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                mail_rows.append(
                    ("SQLite" if engine == "sqlite" else "PostgreSQL", json.loads(out))
                )
    minutes_rows = []
    if "minutes" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                if engine == "sqlite":
                    url, name = f"sqlite:///{tmp}/minutes.sqlite", "SQLite"
                else:
                    asyncio.run(recreate_pg(PG_MINUTES_URL))
                    url, name = PG_MINUTES_URL, "PostgreSQL"
                env = {**feed_env(url), "DATA_DIR": f"{tmp}/data"}
                out = subprocess.run(
                    [sys.executable, "-m", "bench.minutes"],
                    env=env, cwd=ROOT, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                minutes_rows.append((name, json.loads(out)))
    signup_rows = []
    if "signups" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                if engine == "sqlite":
                    signup_rows.append(measure_signups("SQLite", f"sqlite:///{tmp}/s.sqlite", tmp))
                else:
                    asyncio.run(recreate_pg(PG_SIGNUP_URL))
                    signup_rows.append(measure_signups("PostgreSQL", PG_SIGNUP_URL, tmp))
    backoffice_rows = []
    if "backoffice" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                if engine == "sqlite":
                    url, name = f"sqlite:///{tmp}/backoffice.sqlite", "SQLite"
                else:
                    asyncio.run(recreate_pg(PG_BACKOFFICE_URL))
                    url, name = PG_BACKOFFICE_URL, "PostgreSQL"
                env = {**feed_env(url), "DATA_DIR": f"{tmp}/data"}  # sessions' files
                backoffice_rows.extend(backoffice.measure(name, env, this))
    growth_rows = []
    if "growth" in parts:
        for engine in engines:
            for size in growth.SIZES:
                with tempfile.TemporaryDirectory() as tmp:
                    if engine == "sqlite":
                        url, name = f"sqlite:///{tmp}/growth.sqlite", "SQLite"
                    else:
                        asyncio.run(recreate_pg(PG_GROWTH_URL))
                        url, name = PG_GROWTH_URL, "PostgreSQL"
                    growth_rows.append(growth.measure_size(name, size, feed_env(url), this))
    mix = None
    if "proxy" in parts and "postgres" in engines:  # the deployment runs on PostgreSQL
        asyncio.run(recreate_pg(PG_PROXY_URL))
        mix = proxy.measure(PG_PROXY_URL)
    if mix is not None:
        proxy.report(mix)
    if growth_rows:
        growth.report(growth_rows)
    search_rows = []
    if "search" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                if engine == "sqlite":
                    url, name = f"sqlite:///{tmp}/search.sqlite", "SQLite"
                else:
                    asyncio.run(recreate_pg(PG_SEARCH_URL))
                    url, name = PG_SEARCH_URL, "PostgreSQL"
                out = subprocess.run(
                    [sys.executable, "-m", "bench.search"],
                    env=feed_env(url), cwd=ROOT, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                search_rows.append((name, json.loads(out)))
    if search_rows:
        search_bench.report(search_rows)
    proposal_rows = []
    if "proposals" in parts:
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                if engine == "sqlite":
                    url, name = f"sqlite:///{tmp}/proposals.sqlite", "SQLite"
                else:
                    asyncio.run(recreate_pg(PG_PROPOSALS_URL))
                    url, name = PG_PROPOSALS_URL, "PostgreSQL"
                env = {**feed_env(url), "DATA_DIR": f"{tmp}/data"}
                proposal_rows.append(proposals.measure(name, env, this))
    if proposal_rows:
        proposals.report(proposal_rows, CONNECTIONS)
    if backoffice_rows:
        backoffice.report(backoffice_rows, CONNECTIONS)
    if signup_rows:
        print(
            f"\nSign-ups at one meeting (20 seats, then the waiting list), {SIGNUP_CLIENTS} clients"
        )
        print("| engine     | sign-ups/s | plain req/s | ratio |")
        print("|------------|------------|-------------|-------|")
        for engine, rate, plain in signup_rows:
            print(f"| {engine:<10} | {rate:>10.0f} | {plain:>11.0f} | {rate / plain:5.3f} |")
    if mail_rows:
        print(f"\nEmail: {mail_rows[0][1]['sent']} announcements of one publication (the publish")
        print("request queues one fan-out job; the relay expands it, then sends) to a local")
        print("aiosmtpd sink, next to raw aiosmtplib sendmail of the same messages, same run\n")
        print(
            "| engine     | publish  | longest write tx | expanded in | relay msg/s "
            "| raw sendmail msg/s | ratio | message size |"
        )
        print(
            "|------------|----------|------------------|-------------|-------------"
            "|--------------------|-------|--------------|"
        )
        for engine, r in mail_rows:
            print(
                f"| {engine:<10} | {r['publish_s'] * 1000:>5.0f} ms "
                f"| {r['longest_write_s'] * 1000:>13.0f} ms | {r['queued_s']:>9.1f} s "
                f"| {r['rate']:>11.0f} | {r['raw']:>18.0f} | {r['rate'] / r['raw']:5.2f} "
                f"| {r['size'] / 1000:>9.1f} kB |"
            )
        print("Targets: publish < 100 ms, longest write transaction < 50 ms.")
        for engine, r in mail_rows:
            for part, spread in r["longest_writes"].items():
                print(f"{engine}, write transactions while {part}: {spread}")
    if minutes_rows:
        minutes_bench.report(minutes_rows)
    if feed_rows:
        print(f"\nCalendar feeds with {feeds.MEETINGS} published meetings\n")
        print(f"| {'engine':<10} | {'measure':<42} | {'result':<44} |")
        print(f"|{'-' * 12}|{'-' * 44}|{'-' * 46}|")
        for engine, label, result in feed_rows:
            print(f"| {engine:<10} | {label:<42} | {result:<44} |")
    print(f"\nLoad average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not rows:
        return
    print(f"\nwrk -t2 -c{CONNECTIONS} -d{DURATION_S}s, one uvicorn worker each, same machine\n")
    print(f"| {'engine':<10} | {'endpoint':<22} | {'req/s':>9} | {'plain req/s':>11} | ratio |")
    print(f"|{'-' * 12}|{'-' * 24}|{'-' * 11}|{'-' * 13}|-------|")
    for engine, label, rate, plain in rows:
        print(
            f"| {engine:<10} | {label:<22} | {rate:>9.0f} | {plain:>11.0f} | {rate / plain:5.2f} |"
        )


if __name__ == "__main__":
    main()
