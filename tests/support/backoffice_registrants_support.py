"""Shared by the tests of a meeting's registrants in the back-office: a Tamaris facilitator
signed in, a published meeting with people on it, rows written in bulk, and a query counter."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from httpx import AsyncClient

from conseils.db import engine
from conseils.tables import AuditEntry
from conseils.timefmt import now_utc
from meetings.tables import Meeting, Registration
from tests.support.backoffice_support import signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.registration_support import person, published_meeting, sign_up

TAMARIS = "anim.tamaris@ales.fr"
OTHER = "anim.rive-droite@ales.fr"  # runs another council (Rive Droite)


def base(meeting_id: int) -> str:
    return f"/animation/reunions/{meeting_id}"


async def tamaris_meeting(client: AsyncClient, signups: int = 5, **overrides: Any) -> dict:
    """A Tamaris café of 3 seats, `signups` residents signed up through the API (three
    confirmed, the others waiting), and the Tamaris facilitator signed in on `client`."""
    auth = await make_facilitator(TAMARIS, "ales-tamaris")
    meeting = await published_meeting(client, auth, **overrides)
    people = [await sign_up(client, meeting["id"], person(n)) for n in range(1, signups + 1)]
    await signed_in(client, TAMARIS)
    return {"meeting": meeting, "auth": auth, "people": people}


async def add_rows(
    meeting_id: int, names: list[tuple[str, str]], status: str = "confirmed"
) -> None:
    """Registrations written straight into the table (name, attending as), holding seats
    when confirmed: for pages with hundreds of people."""
    meeting = await Meeting.select(Meeting.arrivals).where(Meeting.id == meeting_id).first()
    arrival, now = meeting["arrivals"], now_utc()
    rows = []
    for n, (name, attending_as) in enumerate(names, start=1):
        address = f"bulk.{arrival + n}.{secrets.token_hex(3)}@example.org"
        rows.append(
            Registration(
                meeting=meeting_id, key=f"{meeting_id}:{address}", email=address, name=name,
                phone="", attending_as=attending_as, needs="", status=status,
                arrival=arrival + n, token=secrets.token_urlsafe(32), consent_at=now,
                created_at=now, confirmed_at=now if status == "confirmed" else None,
            )
        )  # fmt: skip
    for start in range(0, len(rows), 200):
        await Registration.insert(*rows[start : start + 200])
    seats = len(rows) if status == "confirmed" else 0
    await Meeting.update(
        {
            Meeting.arrivals: arrival + len(rows),
            Meeting.seats_taken: Meeting.seats_taken + seats,
        }
    ).where(Meeting.id == meeting_id)


MEETING_SETUP = ("meeting.create", "meeting.update", "meeting.publish")


async def audit_lines() -> list[dict[str, Any]]:
    """The audit lines of registrants' actions (setting the meeting up writes its own)."""
    return await (
        AuditEntry.select()
        .where(AuditEntry.action.not_in(list(MEETING_SETUP)))
        .order_by(AuditEntry.id)
    )


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """Every SQL statement the engine runs meanwhile (Piccolo's queries and raw ones)."""
    kind = type(engine())  # its instances have slots: the class is patched, then restored
    seen: list[str] = []
    original = kind.run_querystring

    async def counting(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    kind.run_querystring = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        kind.run_querystring = original  # type: ignore[method-assign]
