"""A production-like deployment on one machine, and the mix of traffic it is loaded with.

`proxy_stack()` starts Debian's nginx with the site of deploy/nginx/conseils.conf as shipped
(only the lines marked `# SET` get this run's ports and paths, and the run fails if one of
them is missing) in front of two `conseils serve` processes and two `conseils worker`
processes, in production mode (https BASE_URL, SECRET_KEY, Redis for the shared counters,
OUTBOX_IN_PROCESS=0), on a PostgreSQL database given by the caller. nginx runs
unprivileged: its own prefix, pid, temporary and log files under the run's directory, a
high port, `daemon off`, a certificate for `localhost` from a throw-away authority
(trustme).

`run_mix()` sends requests at a fixed rate (open loop: a slow answer does not slow the
next request down) for a given time: home 40 %, meeting pages 25 %, feeds with
`If-None-Match` 20 %, sign-ups 10 %, subscriptions 5 %. Used by tests/system/test_proxy.py
and by `make bench` (bench/proxy.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trustme

from tests.support.live_server import (
    CONSEILS,
    ROOT,
    free_port,
    run_cli,
    server_env,
    start_server,
    stop,
    wait_until_healthy,
)

SITE = ROOT / "deploy" / "nginx" / "conseils.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MIX = (("home", 40), ("meeting", 25), ("feed", 20), ("signup", 10), ("subscribe", 5))
# The demo's café with 20 seats and registrations open (as in test_registrations_load).
DEMO_CAFE = "Café citoyen : les jeux pour enfants"


@dataclass
class Stack:
    url: str  # https://localhost:<port>, nginx
    database_url: str
    http_url: str  # nginx's port-80 server (redirects)
    upstreams: list[str]  # the `conseils serve` processes, directly
    ssl_context: ssl.SSLContext  # trusts the run's authority
    directory: Path
    access_log: Path
    error_log: Path
    logs: list[Path]  # of the serve and worker processes
    processes: dict[str, subprocess.Popen]

    def client(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, verify=self.ssl_context, **kwargs)

    def problems(self) -> list[str]:
        """Tracebacks and errors in the processes' logs, errors in nginx's."""
        found = []
        for log in self.logs:
            text = log.read_text(errors="replace")
            if "Traceback" in text or re.search(r"\b(ERROR|CRITICAL)\b", text):
                found.append(f"{log.name}:\n{text[-3000:]}")
        errors = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
        bad = [
            line for line in errors.splitlines() if re.search(r"\[(error|crit|alert|emerg)\]", line)
        ]
        if bad:
            found.append("nginx:\n" + "\n".join(bad[-20:]))
        for name, process in self.processes.items():
            if process.poll() is not None:
                found.append(f"{name} exited with {process.returncode}")
        return found


def site_config(
    *, port: int, http_port: int, upstreams: list[int], static: Path, cert: Path, key: Path,
    access_log: Path,
) -> str:  # fmt: skip
    """deploy/nginx/conseils.conf with this run's addresses and paths on its `# SET` lines."""
    text = SITE.read_text()
    replacements = [
        (
            "    server 127.0.0.1:8000;  # SET: one line per `conseils serve` process\n"
            "    server 127.0.0.1:8001;  # SET\n",
            "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams),
        ),
        ("listen 80;  # SET", f"listen 127.0.0.1:{http_port};"),
        ("    listen [::]:80;  # SET\n", ""),
        ("listen 443 ssl http2;  # SET", f"listen 127.0.0.1:{port} ssl http2;"),
        ("    listen [::]:443 ssl http2;  # SET\n", ""),
        ("server_name conseils.example.fr;  # SET", "server_name localhost;"),
        (
            "ssl_certificate /etc/letsencrypt/live/conseils.example.fr/fullchain.pem;  # SET",
            f"ssl_certificate {cert};",
        ),
        (
            "ssl_certificate_key /etc/letsencrypt/live/conseils.example.fr/privkey.pem;  # SET",
            f"ssl_certificate_key {key};",
        ),
        (
            "access_log /var/log/nginx/conseils.access.log conseils;  # SET",
            f"access_log {access_log} conseils;",
        ),
        (
            "alias /srv/conseils/venv/lib/python3.11/site-packages/conseils/static/;  # SET",
            f"alias {static}/;",
        ),
    ]
    for old, new in replacements:
        assert old in text, f"{SITE} no longer has {old!r}: update tests/support/proxy_stack.py"
        text = text.replace(old, new)
    assert "# SET" not in text, "a line of the site to set that this run does not set"
    return text


def main_config(directory: Path, site: Path) -> str:
    """nginx.conf for an unprivileged nginx whose every file is under `directory`."""
    # As root, the workers would run as `nobody` and could not read the checkout's static
    # files nor the run's directory: they keep the user who runs the tests.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
{temp}
    access_log off;
    include {site};
}}
"""


def _certificate(directory: Path) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key = directory / "cert.pem", directory / "key.pem"
    for blob in issued.cert_chain_pems:
        blob.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    return ca, cert, key


def _wait_for_nginx(url: str, context: ssl.SSLContext, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", verify=context, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nginx not answering: {log.read_text(errors='replace')}")


@contextlib.contextmanager
def proxy_stack(
    database_url: str, directory: Path, *, mail: dict[str, str], static: Path | None = None
) -> Iterator[Stack]:
    """Everything started on `database_url` (migrated and loaded with the demo here), mail
    sent as `mail` says (SMTP_HOST and SMTP_PORT of a sink, or MAILDIR); stopped on leaving.
    `static`: the directory nginx serves as /static/ (the checkout's by default)."""
    port, http_port = free_port(), free_port()
    serve_ports = [free_port(), free_port()]
    base_url = f"https://localhost:{port}"
    common = {
        "BASE_URL": base_url,
        "DEVELOPMENT": "0",
        "PASSWORD_HASHING": "rfc9106-low-memory",  # production's (the suite's is cheap)
        "SECRET_KEY": "proxy-stack-secret-key-not-for-production",
        "OUTBOX_IN_PROCESS": "0",
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": f"conseils-proxy-{uuid.uuid4().hex[:12]}:",
        "TRUSTED_PROXIES": "127.0.0.1,::1",  # as deploy/conseils.env.example
        "RATE_LIMIT_PER_MINUTE": "20",  # production's (the tests' environment turns it off)
        "DATA_DIR": str(directory / "data"),
        "LOG_LEVEL": "WARNING",
        **mail,
    }
    envs = [server_env(database_url, p, **common) for p in serve_ports]
    demo = run_cli("demo", env=envs[0])
    assert demo.returncode == 0, demo.stderr
    ca, cert, key = _certificate(directory)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    access_log, error_log = directory / "access.log", directory / "nginx-error.log"
    site = directory / "conseils.conf"
    site.write_text(
        site_config(
            port=port, http_port=http_port, upstreams=serve_ports,
            static=static or ROOT / "static", cert=cert, key=key, access_log=access_log,
        )
    )  # fmt: skip
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    nginx_cmd = [NGINX, "-p", str(directory), "-c", str(conf), "-e", str(error_log)]
    checked = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr

    processes: dict[str, subprocess.Popen] = {}
    logs: list[Path] = []
    try:
        for i, (env, p) in enumerate(zip(envs, serve_ports, strict=True)):
            logs.append(directory / f"serve{i}.log")
            processes[f"serve{i}"] = start_server(
                env, logs[-1], "--host", "127.0.0.1", "--port", str(p)
            )
        for i in range(2):
            logs.append(directory / f"worker{i}.log")
            with logs[-1].open("ab") as out:
                processes[f"worker{i}"] = subprocess.Popen(
                    [str(CONSEILS), "worker"], env=envs[0], cwd=ROOT, stdout=out,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
        with (directory / "nginx.out").open("ab") as out:
            processes["nginx"] = subprocess.Popen(
                nginx_cmd, cwd=directory, stdout=out, stderr=subprocess.STDOUT
            )
        upstreams = [f"http://127.0.0.1:{p}" for p in serve_ports]
        for i, url in enumerate(upstreams):
            wait_until_healthy(url, processes[f"serve{i}"], logs[i])
        _wait_for_nginx(base_url, context, processes["nginx"], error_log)
        yield Stack(
            url=base_url, database_url=database_url, http_url=f"http://127.0.0.1:{http_port}",
            upstreams=upstreams,
            ssl_context=context, directory=directory, access_log=access_log,
            error_log=error_log, logs=logs, processes=processes,
        )  # fmt: skip
    finally:
        for process in processes.values():  # all at once, then wait for each
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            stop(process)


# ---------------------------------------------------------------- the mix


@dataclass
class MixResult:
    seconds: float  # from the first request sent to the last answer
    sent: int
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds, by kind
    errors: list[str] = field(default_factory=list)
    signed_up: list[str] = field(default_factory=list)  # addresses, in order
    subscribed: list[str] = field(default_factory=list)
    not_modified: int = 0  # feeds answered 304
    late: float = 0.0  # the longest a request started after its time (the client's lag)

    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Targets:
    """What the mix asks for, read through the proxy before it starts."""

    meetings: list[int]  # published meetings (pages)
    signup_meeting: int  # where sign-ups go
    councils: list[str]  # slugs (subscriptions, feeds)
    feeds: dict[str, str]  # path -> current ETag


async def targets(client: httpx.AsyncClient) -> Targets:
    listing = (await client.get("/api/v1/meetings", params={"limit": 100})).json()["items"]
    cafe = next(m for m in listing if m["title"] == DEMO_CAFE)
    councils = [c["slug"] for c in (await client.get("/api/v1/councils")).json()]
    feeds = {}
    for path in ["/calendrier.ics", *(f"/conseils/{slug}/calendrier.ics" for slug in councils)]:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        feeds[path] = response.headers["etag"]
    return Targets([m["id"] for m in listing], cafe["id"], councils, feeds)


def _schedule(count: int, seed: int) -> list[str]:
    """Kinds in the mix's exact proportions, every hundred requests shuffled."""
    block = [kind for kind, share in MIX for _ in range(share)]
    rng = random.Random(seed)
    kinds: list[str] = []
    while len(kinds) < count:
        rng.shuffle(block)
        kinds.extend(block)
    return kinds[:count]


async def run_mix(stack: Stack, seconds: float, rate: float, seed: int = 14) -> MixResult:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with stack.client(timeout=httpx.Timeout(30.0), limits=limits) as client:
        goal = await targets(client)
        kinds = _schedule(int(seconds * rate), seed)
        result = MixResult(seconds=0.0, sent=len(kinds), latencies={k: [] for k, _ in MIX})
        rng = random.Random(seed)
        run = uuid.uuid4().hex[:8]

        async def one(n: int, kind: str) -> None:
            # Each simulated client has its own address, as nginx's X-Forwarded-For says.
            headers = {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}"}
            expected = {200}
            if kind == "home":
                method, path, body = "GET", "/", None
            elif kind == "meeting":
                method, path, body = "GET", f"/reunions/{rng.choice(goal.meetings)}", None
            elif kind == "feed":
                method, body = "GET", None
                path = rng.choice(sorted(goal.feeds))
                headers["If-None-Match"] = goal.feeds[path]
                expected = {200, 304}
            elif kind == "signup":
                address = f"inscrite.{run}.{n}@example.org"
                method, path = "POST", f"/api/v1/meetings/{goal.signup_meeting}/registrations"
                body = {
                    "name": f"Habitante {n}", "email": address, "phone": "",
                    "attending_as": "resident", "needs": "", "consent": True,
                }  # fmt: skip
                expected = {202}
            else:
                address = f"abonnee.{run}.{n}@example.org"
                method = "POST"
                path = f"/api/v1/councils/{goal.councils[n % len(goal.councils)]}/subscriptions"
                body = {"email": address}
                expected = {202}
            started = time.perf_counter()
            try:
                response = await client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                result.errors.append(f"{kind} {path}: {exc!r}")
                return
            result.latencies[kind].append(time.perf_counter() - started)
            if response.status_code not in expected:
                result.errors.append(f"{kind} {path}: {response.status_code} {response.text[:300]}")
                return
            if kind == "feed":
                if response.status_code == 304:
                    result.not_modified += 1
                else:
                    goal.feeds[path] = response.headers["etag"]
            elif kind == "signup":
                result.signed_up.append(address)
            elif kind == "subscribe":
                result.subscribed.append(address)

        tasks = []
        begin = time.perf_counter()
        for n, kind in enumerate(kinds):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                result.late = max(result.late, -delay)
            tasks.append(asyncio.create_task(one(n, kind)))
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - begin
    return result


def summary_rows(result: MixResult) -> list[tuple[str, int, float, float]]:
    """(kind, answers, p50 ms, p99 ms), every kind then all together."""
    rows = [
        (kind, len(values), percentile(values, 50) * 1000, percentile(values, 99) * 1000)
        for kind, values in result.latencies.items()
    ]
    every = result.all_latencies()
    rows.append(("all", len(every), percentile(every, 50) * 1000, percentile(every, 99) * 1000))
    return rows
