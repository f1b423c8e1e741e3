"""Moments typed as Paris clock time (a date and a time of day), as facilitators think of
them, turned into the UTC instants the meetings store; and the offset of a date, to show.

Twice a year the clock changes: on the last Sunday of March the times from 2 h to 3 h do not
exist, on the last Sunday of October those from 2 h to 3 h happen twice. Neither is guessed:
such a time is refused with a French message naming the date and what to type instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from conseils.errors import InvalidInput
from conseils.timefmt import PARIS, french_date, french_time, to_paris


def offset_label(moment: datetime | date) -> str:
    """ "heure de Paris, UTC+1" (winter) or "UTC+2" (summer) at that moment (a date: at noon,
    after any change of that day)."""
    local = (
        to_paris(moment)
        if isinstance(moment, datetime)
        else datetime.combine(moment, time(12), PARIS)
    )
    offset = local.utcoffset() or timedelta(0)
    return f"heure de Paris, UTC+{int(offset.total_seconds() // 3600)}"


def paris_to_utc(field: str, day: date, clock: time) -> datetime:
    """The UTC instant at which Paris clocks show `day` `clock`; InvalidInput on `field`
    for a time that does not exist (spring forward) or exists twice (fall back)."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=PARIS, fold=0)
    second = naive.replace(tzinfo=PARIS, fold=1)
    if first.utcoffset() != second.utcoffset():
        shown = french_time(first)
        if first.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
            raise InvalidInput(
                {
                    field: f"{shown} n'existe pas le {french_date(first)} (passage à l'heure "
                    "d'été : à 2 h, les horloges passent directement à 3 h) ; choisissez "
                    "une heure avant 2 h ou à partir de 3 h"
                }
            )
        raise InvalidInput(
            {
                field: f"{shown} existe deux fois le {french_date(first)} (retour à l'heure "
                "d'hiver : à 3 h, les horloges reviennent à 2 h) ; choisissez une heure "
                "avant 2 h ou à partir de 3 h"
            }
        )
    return first.astimezone(UTC)


def paris_parts(moment: datetime) -> tuple[str, str]:
    """The date (YYYY-MM-DD) and time (HH:MM) Paris clocks show at `moment`, as a form's
    date and time inputs hold them."""
    local = to_paris(moment)
    return local.date().isoformat(), local.strftime("%H:%M")
