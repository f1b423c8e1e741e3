"""Seats left on the meeting cards of the home and council pages, read without a query per
meeting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import AsyncClient

from conseils.timefmt import now_utc
from meetings.services import meetings as meeting_service
from meetings.tables import Meeting
from tests.meetings.test_pages import card_for, insert_meeting


async def take(meeting_id: int, seats: int) -> None:
    await Meeting.update({Meeting.seats_taken: seats}).where(Meeting.id == meeting_id)


@pytest.mark.parametrize("path", ["/", "/conseils/ales-tamaris"])
async def test_cards_say_how_many_seats_are_left(
    client: AsyncClient, demo: None, path: str
) -> None:
    some = await insert_meeting("ales-tamaris", "Trois places", capacity=10)
    await take(some, 7)
    one = await insert_meeting("ales-tamaris", "Une place", capacity=5)
    await take(one, 4)
    full = await insert_meeting("ales-tamaris", "Plus de place", capacity=5)
    await take(full, 5)
    await insert_meeting("ales-tamaris", "Sans limite", capacity=None)
    page = (await client.get(path)).text
    assert '<p class="seats">3 places restantes</p>' in card_for(page, "Trois places")
    assert '<p class="seats">1 place restante</p>' in card_for(page, "Une place")
    assert "Complet : liste d'attente ouverte" in card_for(page, "Plus de place")
    assert "seats" not in card_for(page, "Sans limite")


async def test_no_seats_when_the_meeting_takes_no_registration(
    client: AsyncClient, demo: None
) -> None:
    cancelled = await insert_meeting("ales-tamaris", "Annulée ici", status="cancelled")
    closed = await insert_meeting("ales-tamaris", "Inscriptions closes")
    await Meeting.update({Meeting.registration_closes_at: now_utc() - timedelta(hours=1)}).where(
        Meeting.id == closed
    )
    started = await insert_meeting(
        "ales-tamaris", "Déjà commencée", starts_in=timedelta(minutes=-10), minutes=120
    )
    page = (await client.get("/conseils/ales-tamaris")).text
    for title in ("Annulée ici", "Inscriptions closes", "Déjà commencée"):
        assert "seats" not in card_for(page, title), title
    assert cancelled and started


async def test_lists_count_waiting_lists_in_one_query(
    client: AsyncClient, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        await insert_meeting("ales-tamaris", f"Réunion {n}", capacity=5)
    calls: list[int] = []
    counted = meeting_service._waiting

    async def spy(meeting_ids: list[int]) -> dict[int, int]:
        calls.append(len(meeting_ids))
        return await counted(meeting_ids)

    monkeypatch.setattr(meeting_service, "_waiting", spy)
    assert (await client.get("/")).status_code == 200
    assert len(calls) == 1 and calls[0] >= 12
