"""Capacity under load, over real HTTP: `conseils serve` processes on the suite's own database
take hundreds of concurrent sign-ups (and cancellations, and a facilitator's change of
capacity) at once, and the database never overbooks a meeting nor skips anyone waiting.

The servers share the test process's database (DATABASE_URL), so every check reads the rows
that hold the truth with Piccolo: `seats_taken`, the registrations, the outbox. A sign-up's
answer is 202 "received", the same to everyone: the seat or the rank each person was given,
and their manage link, are read from those rows and from the emails queued to them.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meetings.tables import Meeting
from tests.support.live_server import (
    free_port,
    one_suite_at_a_time,
    server_env,
    start_server,
    stop,
    wait_until_healthy,
)
from tests.support.registration_support import (
    MEETING,
    RECEIVED,
    by_status,
    invitation,
    manage_links,
    meeting_row,
    message_of,
    outbox_rows,
    person,
    registration_of,
    registrations,
    token_of,
)

SIGN_UPS = 300
CAPACITY = 20
DEMO_CAFE = "Café citoyen : les jeux pour enfants"


class Servers:
    def __init__(self, urls: list[str], logs: list[Path]) -> None:
        self.urls = urls
        self.logs = logs

    def assert_no_errors(self) -> None:
        """Nothing went wrong on the servers' side (a 500 would log a traceback)."""
        for log in self.logs:
            text = log.read_text(errors="replace")
            assert "Traceback" not in text, text[-5000:]
            assert not re.search(r"\b(ERROR|CRITICAL)\b", text), text[-5000:]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """Two `conseils serve` processes on the suite's database, each with its relay (to a
    maildir of its own). The tests' tokens are valid there: the same tables.

    Two suites on one PostgreSQL take turns here (see `one_suite_at_a_time`)."""
    with one_suite_at_a_time():
        yield from _servers()


def _servers() -> Iterator[Servers]:
    directory = Path(tempfile.mkdtemp(prefix="conseils-registrations-"))
    ports = [free_port(), free_port()]
    envs = [
        server_env(
            os.environ["DATABASE_URL"],
            port,
            SECRET_KEY=os.environ["SECRET_KEY"],
            MAILDIR=str(directory / f"maildir{i}"),
        )
        for i, port in enumerate(ports)
    ]
    logs = [directory / f"server{i}.log" for i in range(2)]
    processes = [
        start_server(env, log, "--port", str(port))
        for env, log, port in zip(envs, logs, ports, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_until_healthy(url, process, log)
        yield Servers(urls, logs)
    finally:
        for process in processes:
            stop(process)


def http() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(120.0),
        limits=httpx.Limits(max_connections=SIGN_UPS + 50, max_keepalive_connections=SIGN_UPS),
    )


async def published(http_client: httpx.AsyncClient, url: str, auth: dict, **overrides) -> dict:
    created = await http_client.post(
        f"{url}/api/v1/meetings", json={**MEETING, **overrides}, headers=auth
    )
    assert created.status_code == 201, created.text
    meeting_id = created.json()["id"]
    done = await http_client.post(f"{url}/api/v1/meetings/{meeting_id}/publish", headers=auth)
    assert done.status_code == 200, done.text
    return done.json()


async def eventually(fetch, done, seconds: float = 5.0):
    """The first answer that is `done` (change notices arrive after commit), or the last."""
    deadline = time.monotonic() + seconds
    while True:
        answer = await fetch()
        if done(answer) or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


async def check_public_views(
    servers: Servers, meeting_id: int, places: str, seats_left: int, waiting: int
) -> None:
    """Every process's API answer and (cached) meeting page agree with the database."""
    async with httpx.AsyncClient(timeout=30) as client:
        for url in servers.urls:
            view = await eventually(
                lambda url=url: client.get(f"{url}/api/v1/meetings/{meeting_id}"),
                lambda r: (
                    (r.json()["seats_left"], r.json()["waitlist_length"]) == (seats_left, waiting)
                ),
            )
            assert (view.json()["seats_left"], view.json()["waitlist_length"]) == (
                seats_left,
                waiting,
            )
            page = await eventually(
                lambda url=url: client.get(f"{url}/reunions/{meeting_id}"),
                lambda r: places in r.text,
            )
            assert places in page.text, page.text
            assert "@example.org" not in page.text


def assert_received(responses: list[httpx.Response]) -> None:
    """Every sign-up, new or repeated, got the one answer: 202 "received", nothing more."""
    unexpected = [r.text for r in responses if r.status_code != 202]
    assert unexpected == [], unexpected[:5]
    assert all(r.json() == RECEIVED for r in responses)


async def load(servers: Servers, meeting_id: int, processes: int) -> list[dict[str, Any]]:
    """SIGN_UPS concurrent sign-ups, spread over `processes` servers; every one a 202. Then
    each registration as its email tells it: id, status, position, manage link."""
    bodies = [person(f"charge-{n:03d}") for n in range(SIGN_UPS)]
    async with http() as client:
        started = time.monotonic()
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{servers.urls[n % processes]}/api/v1/meetings/{meeting_id}/registrations",
                    json=body,
                )
                for n, body in enumerate(bodies)
            )
        )
        elapsed = time.monotonic() - started
    print(f"{SIGN_UPS} sign-ups over {processes} process(es): {elapsed:.1f} s")
    assert_received(responses)
    return [
        {**await registration_of(meeting_id, body["email"]), "email": body["email"]}
        for body in bodies
    ]


def told_position(mail: dict[str, Any]) -> int:
    """The waiting-list position a registration_waitlisted email told, from its subject."""
    match = re.match(r"Liste d'attente \(position (\d+)\) : ", mail["subject"])
    assert match, mail["subject"]
    return int(match.group(1))


async def check_capacity_held(meeting_id: int, answers: list[dict[str, Any]]) -> None:
    confirmed = [a for a in answers if a["status"] == "confirmed"]
    waitlisted = [a for a in answers if a["status"] == "waitlisted"]
    assert len(confirmed) == CAPACITY
    assert len(waitlisted) == SIGN_UPS - CAPACITY
    assert all(a["position"] is None for a in confirmed)
    assert sorted(a["position"] for a in waitlisted) == list(range(1, SIGN_UPS - CAPACITY + 1))
    assert len({a["id"] for a in answers}) == SIGN_UPS
    assert len({a["manage_url"] for a in answers}) == SIGN_UPS

    row = await meeting_row(meeting_id)
    found = await by_status(meeting_id)
    assert row["seats_taken"] == CAPACITY == len(found["confirmed"])
    assert len(found["waitlisted"]) == SIGN_UPS - CAPACITY
    assert found["cancelled"] == []
    assert row["arrivals"] == SIGN_UPS
    rows = await registrations(meeting_id)
    assert [r["arrival"] for r in rows] == list(range(1, SIGN_UPS + 1))
    # The first to arrive got the seats; everyone else waits in arrival order.
    assert {r["arrival"] for r in found["confirmed"]} == set(range(1, CAPACITY + 1))
    position = {a["id"]: a["position"] for a in waitlisted}
    assert [position[r["id"]] for r in found["waitlisted"]] == list(
        range(1, SIGN_UPS - CAPACITY + 1)
    )
    assert {a["email"] for a in confirmed} == {r["email"] for r in found["confirmed"]}

    # One email each, of the right kind (whether the relay sent it yet or not), with the
    # person's own manage link; each waiting person was told the position that order gives.
    mails = await outbox_rows(meeting_id=meeting_id)
    assert Counter(m["kind"] for m in mails) == {
        "registration_confirmed": CAPACITY,
        "registration_waitlisted": SIGN_UPS - CAPACITY,
    }
    by_kind = {
        kind: sorted(m["recipient"] for m in mails if m["kind"] == kind)
        for kind in ("registration_confirmed", "registration_waitlisted")
    }
    assert by_kind["registration_confirmed"] == sorted(r["email"] for r in found["confirmed"])
    assert by_kind["registration_waitlisted"] == sorted(r["email"] for r in found["waitlisted"])
    told = {
        m["recipient"]: told_position(m) for m in mails if m["kind"] == "registration_waitlisted"
    }
    assert [told[r["email"]] for r in found["waitlisted"]] == list(
        range(1, SIGN_UPS - CAPACITY + 1)
    )
    token = {a["email"]: token_of(a["manage_url"]) for a in answers}
    for mail in mails:  # (the servers write their own base URL)
        links = manage_links(message_of(mail))
        assert [token_of(link) for link in links] == [token[mail["recipient"]]]


# ---------------------------------------------------------------- 300 sign-ups, 20 seats


async def test_300_concurrent_sign_ups_fill_the_20_places_of_the_demo_cafe(
    servers: Servers, tamaris_auth: dict[str, str]
) -> None:
    cafe = await Meeting.select().where(Meeting.title == DEMO_CAFE).first()
    assert cafe["capacity"] == CAPACITY
    answers = await load(servers, cafe["id"], processes=1)
    await check_capacity_held(cafe["id"], answers)
    places = f"{CAPACITY} places — complet, {SIGN_UPS - CAPACITY} personnes en liste d'attente"
    await check_public_views(servers, cafe["id"], places, 0, SIGN_UPS - CAPACITY)
    servers.assert_no_errors()


async def test_300_concurrent_sign_ups_over_two_processes(
    servers: Servers, tamaris_auth: dict[str, str]
) -> None:
    async with http() as client:
        meeting = await published(client, servers.urls[0], tamaris_auth, capacity=CAPACITY)
    answers = await load(servers, meeting["id"], processes=2)
    await check_capacity_held(meeting["id"], answers)
    places = f"{CAPACITY} places — complet, {SIGN_UPS - CAPACITY} personnes en liste d'attente"
    await check_public_views(servers, meeting["id"], places, 0, SIGN_UPS - CAPACITY)
    servers.assert_no_errors()


# ---------------------------------------------------------------- everything at once


@pytest.mark.parametrize("processes", [1, 2])
async def test_concurrent_cancellations_sign_ups_and_more_seats(
    servers: Servers, tamaris_auth: dict[str, str], processes: int
) -> None:
    """Cancellations (some sent twice), new sign-ups, repeated sign-ups and a facilitator
    raising the capacity, all at once: nobody is overbooked, nobody waiting is skipped."""
    urls = servers.urls[:processes]
    rng = random.Random(20310918 + processes)
    async with http() as client:
        meeting = await published(client, urls[0], tamaris_auth, capacity=5)
        base = f"/api/v1/meetings/{meeting['id']}"
        first = await asyncio.gather(
            *(
                client.post(f"{urls[n % processes]}{base}/registrations", json=person(n))
                for n in range(15)
            )
        )
        assert_received(first)
        signed = [await registration_of(meeting["id"], person(n)["email"]) for n in range(15)]
        initial = {a["id"]: a for a in signed}
        confirmed = [a for a in initial.values() if a["status"] == "confirmed"]
        waiting = [a for a in initial.values() if a["status"] == "waitlisted"]
        assert (len(confirmed), len(waiting)) == (5, 10)

        leaving = rng.sample(confirmed, 3) + rng.sample(waiting, 3)
        again = rng.sample([a for a in initial.values() if a not in leaving], 5)
        emails = {r["id"]: r["email"] for r in await registrations(meeting["id"])}
        calls: list[tuple[str, Any]] = []
        for a in leaving:
            for _ in range(2):  # a double click
                calls.append(("cancel", f"/inscriptions/{token_of(a['manage_url'])}/annuler"))
        for n in range(100, 120):
            calls.append(("new", person(n)))
        for a in again:
            calls.append(("again", person(0, email=f"  {emails[a['id']].upper()} ")))
        for n in range(200, 205):  # a new address sent three times at once (several tabs)
            for variant in ("{}", " {} ", "{}"):
                address = variant.format(f"Double.{n}@Example.org")
                calls.append(("twice", person(n, email=address)))
        calls.append(("capacity", {"capacity": 8}))
        rng.shuffle(calls)

        async def call(n: int, what: str, arg: Any) -> tuple[str, Any, httpx.Response]:
            url = urls[n % processes]
            if what == "cancel":
                return what, arg, await client.post(f"{url}{arg}")
            if what == "capacity":
                return what, arg, await client.patch(f"{url}{base}", json=arg, headers=tamaris_auth)
            return what, arg, await client.post(f"{url}{base}/registrations", json=arg)

        results = await asyncio.gather(*(call(n, *c) for n, c in enumerate(calls)))

    expected = {"cancel": 200, "capacity": 200}
    for what, _, response in results:
        if what in expected:
            assert response.status_code == expected[what], (what, response.text)
    # New, repeated or sent three times at once: every sign-up got the same answer.
    assert_received([r for what, _, r in results if what in ("new", "again", "twice")])

    rows = await registrations(meeting["id"])
    found = await by_status(meeting["id"])
    assert len(rows) == 15 + 20 + 5  # one registration per address, however often sent
    for a in again:  # the first registration, not a new one
        assert (await registration_of(meeting["id"], emails[a["id"]]))["id"] == a["id"]
    assert {r["id"] for r in found["cancelled"]} == {a["id"] for a in leaving}
    active = len(found["confirmed"]) + len(found["waitlisted"])
    assert active == 15 - 6 + 20 + 5
    assert len(found["confirmed"]) == min(8, active)
    row = await meeting_row(meeting["id"])
    assert row["capacity"] == 8
    assert row["seats_taken"] == len(found["confirmed"])
    assert row["arrivals"] == 40
    # Nobody skipped: whoever holds a seat arrived before whoever still waits.
    assert max(r["arrival"] for r in found["confirmed"]) < min(
        r["arrival"] for r in found["waitlisted"]
    )

    # The facilitators' list numbers the waiting list in arrival order.
    async with httpx.AsyncClient(timeout=30) as client:
        listing = await client.get(f"{urls[-1]}{base}/registrations", headers=tamaris_auth)
    assert listing.status_code == 200
    waiting_now = [i for i in listing.json() if i["status"] == "waitlisted"]
    assert [i["position"] for i in waiting_now] == list(range(1, len(found["waitlisted"]) + 1))
    assert [i["id"] for i in waiting_now] == [r["id"] for r in found["waitlisted"]]

    # Emails: one cancellation each (double clicks included), a CANCEL only for those who held
    # a seat; a promotion for each person who waited and was given a seat, and for no one else.
    mails = await outbox_rows(meeting_id=meeting["id"])
    cancelled_mails = [m for m in mails if m["kind"] == "registration_cancelled"]
    assert sorted(m["recipient"] for m in cancelled_mails) == sorted(
        emails[a["id"]] for a in leaving
    )
    by_email = {r["email"]: r for r in rows}
    for mail in cancelled_mails:
        held_a_seat = by_email[mail["recipient"]]["confirmed_at"] is not None
        assert (invitation(message_of(mail)) is not None) == held_a_seat
    # Who waited: the first wave's waiting list, and the newcomers told to wait by email.
    promoted = sorted(m["recipient"] for m in mails if m["kind"] == "registration_promoted")
    told_to_wait = {m["recipient"] for m in mails if m["kind"] == "registration_waitlisted"}
    assert {emails[a["id"]] for a in waiting} <= told_to_wait
    assert promoted == sorted(
        r["email"] for r in rows if r["email"] in told_to_wait and r["confirmed_at"] is not None
    )
    # Each registration was answered once by email, whatever the repeated submissions; the
    # repeats came within ten minutes of that answer (which carried the link): no link again.
    answered = Counter(
        m["recipient"]
        for m in mails
        if m["kind"] in ("registration_confirmed", "registration_waitlisted")
    )
    assert answered == {r["email"]: 1 for r in rows}
    assert [m for m in mails if m["kind"] == "registration_link"] == []
    got_seat = {
        m["recipient"]
        for m in mails
        if m["kind"] in ("registration_confirmed", "registration_promoted")
    }
    assert {r["email"] for r in found["confirmed"]} <= got_seat

    left, queue = 8 - len(found["confirmed"]), len(found["waitlisted"])
    places = (
        f"8 places — complet, {queue} personnes en liste d'attente"
        if left == 0
        else f"8 places — {left} encore libre"
    )
    await check_public_views(servers, meeting["id"], places, left, queue)
    servers.assert_no_errors()
