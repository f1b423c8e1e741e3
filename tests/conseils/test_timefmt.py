"""French date formatting and the UTC -> Europe/Paris conversion (winter +01:00, summer +02:00)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conseils.timefmt import (
    PARIS,
    french_date,
    french_month,
    french_range,
    french_time,
    now_utc,
    to_paris,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_now_utc_is_aware_and_utc() -> None:
    now = now_utc()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_first_of_the_month_is_1er() -> None:
    # 1 December 2026, 18:00 in Paris (winter: UTC+1).
    assert french_date(utc(2026, 12, 1, 17)) == "mardi 1er décembre 2026"
    assert french_date(utc(2027, 1, 1, 12)) == "vendredi 1er janvier 2027"


def test_other_days_are_plain_numbers() -> None:
    assert french_date(utc(2026, 12, 3, 17)) == "jeudi 3 décembre 2026"
    assert french_date(utc(2026, 7, 14, 10)) == "mardi 14 juillet 2026"
    assert french_date(utc(2026, 1, 2, 10)) == "vendredi 2 janvier 2026"
    assert french_date(utc(2026, 1, 11, 10)) == "dimanche 11 janvier 2026"


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (5, "lundi"),
        (6, "mardi"),
        (7, "mercredi"),
        (8, "jeudi"),
        (9, "vendredi"),
        (10, "samedi"),
        (11, "dimanche"),
    ],
)
def test_every_weekday_name(day: int, weekday: str) -> None:
    assert french_date(utc(2026, 10, day, 12)).startswith(f"{weekday} {day} ")


@pytest.mark.parametrize(
    ("month", "name"),
    list(
        enumerate(
            [
                "janvier", "février", "mars", "avril", "mai", "juin",
                "juillet", "août", "septembre", "octobre", "novembre", "décembre",
            ],
            start=1,
        )
    ),
)  # fmt: skip
def test_every_month_name(month: int, name: str) -> None:
    moment = utc(2026, month, 15, 12)
    assert f" 15 {name} 2026" in french_date(moment)
    assert french_month(moment) == f"{name} 2026"


def test_french_time_on_the_hour_and_with_minutes() -> None:
    assert french_time(utc(2026, 1, 15, 17, 0)) == "18 h"
    assert french_time(utc(2026, 1, 15, 17, 30)) == "18 h 30"
    assert french_time(utc(2026, 1, 15, 8, 5)) == "9 h 05"
    assert french_time(utc(2026, 1, 15, 23, 0)) == "0 h"  # midnight in Paris
    assert french_time(utc(2026, 1, 15, 23, 15)) == "0 h 15"


def test_winter_is_utc_plus_one() -> None:
    moment = utc(2026, 1, 15, 17, 0)
    local = to_paris(moment)
    assert local.utcoffset() == timedelta(hours=1)
    assert (local.hour, local.minute) == (18, 0)
    assert local.tzinfo == PARIS
    assert french_time(moment) == "18 h"


def test_summer_is_utc_plus_two() -> None:
    moment = utc(2026, 7, 15, 16, 30)
    local = to_paris(moment)
    assert local.utcoffset() == timedelta(hours=2)
    assert (local.hour, local.minute) == (18, 30)
    assert french_time(moment) == "18 h 30"


def test_same_utc_hour_reads_differently_in_winter_and_summer() -> None:
    assert french_time(utc(2026, 2, 10, 17)) == "18 h"
    assert french_time(utc(2026, 6, 10, 17)) == "19 h"


def test_daylight_saving_switches() -> None:
    # Spring forward: 29 March 2026 at 01:00 UTC (02:00 -> 03:00 local).
    assert french_time(utc(2026, 3, 29, 0, 59)) == "1 h 59"
    assert french_time(utc(2026, 3, 29, 1, 0)) == "3 h"
    # Fall back: 25 October 2026 at 01:00 UTC (03:00 -> 02:00 local).
    assert french_time(utc(2026, 10, 25, 0, 30)) == "2 h 30"
    assert french_time(utc(2026, 10, 25, 1, 30)) == "2 h 30"


def test_other_offsets_are_converted_too() -> None:
    # 12:00 in New York (UTC-5 in January) is 18:00 in Paris.
    new_york_noon = datetime(2026, 1, 15, 12, tzinfo=timezone(timedelta(hours=-5)))
    assert french_time(new_york_noon) == "18 h"
    # An already-Paris moment stays as it is.
    assert french_time(datetime(2026, 7, 1, 18, 30, tzinfo=PARIS)) == "18 h 30"


def test_date_follows_paris_not_utc() -> None:
    # 31 December 23:30 UTC is already 1 January in Paris.
    assert french_date(utc(2026, 12, 31, 23, 30)) == "vendredi 1er janvier 2027"
    assert french_month(utc(2026, 12, 31, 23, 30)) == "janvier 2027"
    # 30 June 22:30 UTC is 1 July 00:30 in Paris (summer).
    assert french_date(utc(2026, 6, 30, 22, 30)) == "mercredi 1er juillet 2026"


def test_range_on_one_day() -> None:
    start = utc(2026, 12, 3, 17, 30)
    assert french_range(start, start + timedelta(minutes=90)) == (
        "jeudi 3 décembre 2026, de 18 h 30 à 20 h"
    )
    summer = utc(2026, 7, 14, 7, 0)
    assert french_range(summer, summer + timedelta(hours=2)) == (
        "mardi 14 juillet 2026, de 9 h à 11 h"
    )


def test_range_spanning_days() -> None:
    start = utc(2026, 12, 1, 17)  # mardi 1er décembre, 18 h
    end = utc(2026, 12, 2, 16, 30)  # mercredi 2 décembre, 17 h 30
    assert french_range(start, end) == (
        "du mardi 1er décembre 2026, 18 h, au mercredi 2 décembre 2026, 17 h 30"
    )


def test_range_same_utc_day_but_different_paris_days() -> None:
    # 22:00 -> 23:30 UTC in winter is 23 h -> 0 h 30 the next day in Paris.
    start = utc(2026, 1, 15, 22)
    assert french_range(start, utc(2026, 1, 15, 23, 30)) == (
        "du jeudi 15 janvier 2026, 23 h, au vendredi 16 janvier 2026, 0 h 30"
    )


def test_range_different_utc_days_but_same_paris_day() -> None:
    # 23:00 UTC on the 14th and 01:00 UTC on the 15th are both the 15th in Paris (winter).
    assert french_range(utc(2026, 1, 14, 23), utc(2026, 1, 15, 1)) == (
        "jeudi 15 janvier 2026, de 0 h à 2 h"
    )
