"""The demo data as an Alès resident would read it: meetings on plausible days and hours,
never on a public holiday or a Sunday, seasons in titles that match their dates, councils
in French alphabetical order."""

from __future__ import annotations

from datetime import date, timedelta

from httpx import AsyncClient

from conseils.holidays import is_public_holiday
from conseils.timefmt import PARIS
from meetings.demo import EVENINGS, SEASONS, meeting_day
from meetings.tables import Meeting


async def test_demo_meetings_fall_on_believable_days(demo: None) -> None:
    rows = await Meeting.select(Meeting.kind, Meeting.title, Meeting.starts_at)
    assert rows
    for row in rows:
        local = row["starts_at"].astimezone(PARIS)
        day = local.date()
        assert not is_public_holiday(day), row
        assert day.weekday() != 6, row  # no Sunday
        if row["kind"] == "council":
            assert day.weekday() in EVENINGS and local.hour >= 18, row
        else:
            assert day.weekday() in (2, 5) and 9 <= local.hour <= 14, row
        for season in set(SEASONS.values()):
            if f" {season} " in row["title"]:
                assert SEASONS[day.month] == season, row
        assert "printemps" not in row["title"] or SEASONS[day.month] == "de printemps"


def test_meeting_day_skips_holidays_in_both_directions() -> None:
    # Thursday 1 May 2031 (Fête du Travail) → Tuesday 6 May; backwards → Tuesday 29 April.
    assert meeting_day(date(2031, 5, 1), EVENINGS) == date(2031, 5, 6)
    assert meeting_day(date(2031, 5, 1), EVENINGS, step=-1) == date(2031, 4, 29)
    # Every day of a year finds its slot within a fortnight.
    start = date(2030, 1, 1)
    for offset in range(366):
        found = meeting_day(start + timedelta(days=offset), EVENINGS)
        assert found - (start + timedelta(days=offset)) < timedelta(days=14)


async def test_councils_are_listed_in_french_order(client: AsyncClient, demo: None) -> None:
    names = [c["name"] for c in (await client.get("/api/v1/councils")).json()]
    assert names[0] == "Conseil citoyen « Alès Agglo »"  # the agglomeration's first
    assert names[1:] == [
        "Conseil citoyen Alès Centre-Ville",
        "Conseil citoyen Alès « Couronne Nord »",
        "Conseil citoyen Alès Près-Saint-Jean",
        "Conseil citoyen Alès Rive Droite",
        "Conseil citoyen Alès Tamaris",
        "Conseil citoyen Anduze Centre-Ville",
    ]
