"""The years the tests write meetings in (tests/support/dates.py) stay ahead of the clock."""

from __future__ import annotations

from calendar import isleap
from datetime import date

from tests.support.dates import AHEAD, year_like


def test_the_year_itself_while_it_is_far_enough_ahead() -> None:
    assert year_like(2031, today=date(2026, 11, 29)) == 2031
    assert year_like(2031, today=date(2029, 12, 31)) == 2031


def test_a_later_year_with_the_same_calendar_once_it_is_not() -> None:
    later = year_like(2031, today=date(2031, 9, 1))
    assert later >= 2031 + AHEAD
    assert date(later, 1, 1).weekday() == date(2031, 1, 1).weekday()
    assert isleap(later) == isleap(2031)
    # The clocks change on the same days in Europe/Paris (the last Sundays of March, October).
    assert date(later, 3, 30).weekday() == date(2031, 3, 30).weekday()
    assert year_like(2028, today=date(2027, 6, 1)) == 2056  # a leap year like 2028
