"""French public holidays and French sorting of names."""

from __future__ import annotations

from datetime import date

import pytest

from conseils.collation import french_key
from conseils.holidays import easter_sunday, is_public_holiday, public_holidays


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
     (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22))],
)  # fmt: skip
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_eleven_public_holidays_of_2026() -> None:
    holidays = public_holidays(2026)
    assert len(holidays) == 11
    assert holidays[date(2026, 4, 6)] == "Lundi de Pâques"
    assert holidays[date(2026, 5, 14)] == "Ascension"
    assert holidays[date(2026, 5, 25)] == "Lundi de Pentecôte"
    assert is_public_holiday(date(2026, 11, 1))  # Toussaint
    assert not is_public_holiday(date(2026, 11, 2))


def test_names_sort_as_a_french_reader_expects() -> None:
    names = [
        "Conseil citoyen Alès Tamaris",
        "Conseil citoyen Alès « Couronne Nord »",
        "Conseil citoyen Alès Près-Saint-Jean",
        "Conseil citoyen Alès Centre-Ville",
        "Écusson",
        "cévennes",
        "Delta",
    ]
    assert sorted(names, key=french_key) == [
        "cévennes",
        "Conseil citoyen Alès Centre-Ville",
        "Conseil citoyen Alès « Couronne Nord »",
        "Conseil citoyen Alès Près-Saint-Jean",
        "Conseil citoyen Alès Tamaris",
        "Delta",
        "Écusson",
    ]
