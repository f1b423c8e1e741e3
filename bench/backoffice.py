"""The back-office's dashboard (`/animation/`) and the registrants page
(`/animation/reunions/{id}/inscriptions`) of a meeting with 500 registrants, signed in with a
session as a facilitator is, next to the plain
Litestar handler in the same run: the time one request takes on one connection (the server's
time plus the loopback; the goal is under 50 ms on both engines), and requests per second
under wrk's usual load.

Run by bench/run.py (`make bench`); `python -m bench.backoffice populate` fills the database
in its own process with the bench's DATABASE_URL and prints the meeting's id.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlencode

REGISTRANTS = int(os.environ.get("BENCH_REGISTRANTS", "500"))
EMAIL, PASSWORD = "bench.animation@example.org", "un mot de passe de banc d'essai"
GOAL_MS = 50.0


async def populate() -> int:
    """The demo, a facilitator of Tamaris, and REGISTRANTS people on its next café (four
    fifths confirmed, the rest waiting; a few with needs and phones)."""
    import secrets

    from accounts.services import create_facilitator
    from conseils.timefmt import now_utc
    from meetings.demo import load_demo
    from meetings.tables import Council, Meeting, Registration

    await load_demo()
    await create_facilitator(
        email=EMAIL, name="Banc d'essai", password=PASSWORD, council_slugs=["ales-tamaris"]
    )
    council = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    now = now_utc()
    meeting_id = (
        await Meeting.insert(
            Meeting(
                council=council["id"], kind="cafe", title="Café citoyen du banc d'essai",
                starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=2),
                venue="Maison de quartier", address="Rue de la Lozère, 30100 Alès",
                capacity=REGISTRANTS * 4 // 5, status="published", created_at=now, updated_at=now,
            )
        ).returning(Meeting.id)
    )[0]["id"]  # fmt: skip
    kinds = ("resident", "resident", "resident", "local_actor", "other")
    rows = []
    for n in range(REGISTRANTS):
        confirmed = n < REGISTRANTS * 4 // 5
        address = f"habitant.{n}@example.org"
        rows.append(
            Registration(
                meeting=meeting_id, key=f"{meeting_id}:{address}", email=address,
                name=f"Habitante Éloïse n° {n}", phone="06 12 34 56 78" if n % 3 else "",
                attending_as=kinds[n % len(kinds)],
                needs="Accès de plain-pied, s'il vous plaît." if n % 7 == 0 else "",
                status="confirmed" if confirmed else "waitlisted", arrival=n + 1,
                token=secrets.token_urlsafe(32), feed_token=secrets.token_urlsafe(32),
                consent_at=now, created_at=now, confirmed_at=now if confirmed else None,
            )
        )  # fmt: skip
    for start in range(0, len(rows), 250):
        await Registration.insert(*rows[start : start + 250])
    await Meeting.update(
        {Meeting.seats_taken: REGISTRANTS * 4 // 5, Meeting.arrivals: REGISTRANTS}
    ).where(Meeting.id == meeting_id)
    return meeting_id


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def sign_in(port: int) -> str:
    """Sign in through the real form; returns the Cookie header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/animation/connexion")
    page = conn.getresponse()
    cookies = _cookies(page)
    token = re.search(rb'name="_csrf_token" value="([^"]+)"', page.read()).group(1).decode()
    body = urlencode({"_csrf_token": token, "email": EMAIL, "password": PASSWORD})
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(
        "POST",
        "/animation/connexion",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = conn.getresponse()
    answer.read()
    assert answer.status == 303, answer.status
    cookies.update(_cookies(answer))
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def latency_ms(url: str, headers: dict[str, str] | None = None) -> float:
    """Mean time of one request on one connection, one after the other (wrk -c1)."""
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t1", "-c1", "-d3s", "--timeout", "10s", *extra, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"{url}: error responses\n{out}")
    value, unit = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


Row = tuple[str, str, float, float, float, float]
PAGES = {"dashboard": "/animation/", "registrants": "/animation/reunions/{meeting}/inscriptions"}


def measure(engine: str, env: dict[str, str], tools) -> list[Row]:
    """(engine, page, page ms, plain ms, page req/s, plain req/s) for each page of PAGES.
    tools: the run.py module."""
    subprocess.run([tools.BIN / "conseils", "migrate"], env=env, cwd=tools.ROOT, check=True,
                   capture_output=True)  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "bench.backoffice", "populate"],
        env=env, cwd=tools.ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    meeting_id = int(out.split()[-1])
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
        cookie = {"Cookie": sign_in(port)}
        rows = []
        for name, path in PAGES.items():
            url = base + path.format(meeting=meeting_id)
            page_ms = latency_ms(url, cookie)
            page_rate = tools.wrk(url, headers=cookie)
            rows.append((engine, name, page_ms, plain_ms, page_rate, plain_rate))
    return rows


def report(rows: list[Row], connections: int) -> None:
    print(
        f"\nBack-office: the dashboard, and the registrants page of a meeting with "
        f"{REGISTRANTS} registrants"
    )
    print(
        f"(one request at a time: ms; then wrk -c{connections}: req/s), goal < {GOAL_MS:.0f} ms\n"
    )
    print(
        "| engine     | page        | page ms | plain ms | page req/s | plain req/s "
        "| ratio | goal |"
    )
    print(
        "|------------|-------------|---------|----------|------------|-------------"
        "|-------|------|"
    )
    for engine, name, page_ms, plain_ms, page_rate, plain_rate in rows:
        verdict = "met" if page_ms < GOAL_MS else "MISSED"
        ratio = page_rate / plain_rate
        print(
            f"| {engine:<10} | {name:<11} | {page_ms:>7.1f} | {plain_ms:>8.2f} "
            f"| {page_rate:>10.0f} | {plain_rate:>11.0f} | {ratio:5.3f} | {verdict:<4} |"
        )


if __name__ == "__main__" and sys.argv[1:] == ["populate"]:
    print(asyncio.run(populate()))
