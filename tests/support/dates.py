"""Years for tests that write meetings at fixed dates: always in the future, whatever the day
the suite runs, and with the same calendar as the year the test was written for.

A test written with "2031-01-15T18:00:00+01:00" reads `f"{LIKE_2031}-01-15T18:00:00+01:00"`:
the first year at least two years ahead that starts on the same weekday and has the same
leap day, so the weekdays a test names, and the days clocks change in Europe/Paris (the last
Sundays of March and October), are those of the year it was written for. Today that is the
year itself; from some day in 2029 on, a later one.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date
from itertools import count

AHEAD = 2  # years: far enough that no test's meeting is past or about to be


def year_like(model: int, today: date | None = None) -> int:
    """The first year at least AHEAD years after `today` with the calendar of `model`."""
    start = (today or date.today()).year + AHEAD
    weekday = date(model, 1, 1).weekday()
    return next(
        year
        for year in count(start)
        if date(year, 1, 1).weekday() == weekday and isleap(year) == isleap(model)
    )


LIKE_2027 = year_like(2027)
LIKE_2031 = year_like(2031)
