"""Time zone and French date formatting: stored in UTC, shown in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_paris(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)


def next_paris_midnight(moment: datetime) -> datetime:
    """The first midnight, Paris time, after `moment` (in UTC): when what counts days (the
    last twelve months' figures) changes by itself."""
    tomorrow = to_paris(moment).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=PARIS).astimezone(UTC)


def to_paris_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else to_paris(moment)


def french_date(moment: datetime) -> str:
    """'jeudi 1er décembre 2026', the way French administrations write dates."""
    local = to_paris(moment)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {local.year}"


def french_day(day: date) -> str:
    """'1er décembre 2026': a calendar day (a document's date), without its weekday."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def french_time(moment: datetime) -> str:
    """'18 h 30', or '18 h' on the hour."""
    local = to_paris(moment)
    return f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"


def french_month(moment: datetime) -> str:
    local = to_paris(moment)
    return f"{_MONTHS[local.month - 1]} {local.year}"


def french_range(start: datetime, end: datetime) -> str:
    """'jeudi 3 décembre 2026, de 18 h 30 à 20 h', spanning days when it must."""
    if to_paris(start).date() == to_paris(end).date():
        return f"{french_date(start)}, de {french_time(start)} à {french_time(end)}"
    return (
        f"du {french_date(start)}, {french_time(start)}, au {french_date(end)}, {french_time(end)}"
    )
