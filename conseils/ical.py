"""iCalendar (RFC 5545) text, written directly as bytes: escaping, folding, times, VTIMEZONE.

Why not build `icalendar.Event` objects? Ten thousand of them take seconds; these helpers
write the same text in a fraction of that, and the tests parse every feed back with the
icalendar library and with ical.js (Thunderbird's parser) to prove it is the same text.
Everything here is pure: the same input always gives the same bytes, so two processes
rendering one feed produce one ETag.
"""

from __future__ import annotations

import calendar as gregorian
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

CRLF = b"\r\n"
MAX_LINE_OCTETS = 75
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # TEXT allows HTAB; \n is escaped first
_SPECIAL = re.compile(r"[\\;,\x00-\x08\x0a-\x1f\x7f]")  # what escape_text changes


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): no line of it can ever start a property."""
    if not _SPECIAL.search(value):
        return value  # most titles and places: one scan instead of seven
    # Chained str.replace runs in C; str.translate with a dict is several times slower.
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROLS.sub("", value) if _CONTROLS.search(value) else value


def param_value(value: str) -> str:
    """A quoted parameter value: DQUOTE and control characters cannot appear in one."""
    return '"' + _CONTROLS.sub("", value.replace("\n", " ")).replace('"', "'") + '"'


def fold(line: str) -> bytes:
    """One content line, folded at 75 octets without splitting a UTF-8 character."""
    data = line.encode()
    if len(data) <= MAX_LINE_OCTETS:
        return data + CRLF
    return _fold_bytes(data) + CRLF


def _fold_bytes(data: bytes) -> bytes:
    """`data` (one line, no CRLF) folded: continuation lines begin with a space."""
    size = len(data)
    if size <= MAX_LINE_OCTETS:
        return data
    parts = []
    start, limit = 0, MAX_LINE_OCTETS
    while True:
        end = start + limit
        if end >= size:
            parts.append(data[start:])
            return b"\r\n ".join(parts)
        while data[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        if data[end - 1] == 0x5C:  # a backslash
            # Keep an escape (\, \; \n...) on one line: some parsers unescape before unfolding.
            chunk = data[start:end]
            end -= (len(chunk) - len(chunk.rstrip(b"\\"))) % 2
        parts.append(data[start:end])
        start, limit = end, MAX_LINE_OCTETS - 1  # continuation lines begin with a space


def lines(*content_lines: str) -> bytes:
    """Many content lines at once ("NAME;PARAM=x:value", values already escaped): one
    encode, and only the long lines go through the folding. The fast path for feeds."""
    data = "\r\n".join(content_lines).encode()
    parts = data.split(CRLF)
    longest = max(map(len, parts))
    if longest > MAX_LINE_OCTETS:
        data = CRLF.join([p if len(p) <= MAX_LINE_OCTETS else _fold_bytes(p) for p in parts])
    return data + CRLF


def prop(name: str, content: str, /, **params: str) -> bytes:
    """A property whose value is already in iCalendar form (a URI, a date, an integer)."""
    if params:
        name += "".join(f";{key.replace('_', '-').upper()}={v}" for key, v in params.items())
    return fold(f"{name}:{content}")


def text(name: str, content: str, /, **params: str) -> bytes:
    return prop(name, escape_text(content), **params)


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return _basic(moment) + "Z"


def _basic(moment: datetime) -> str:
    """`moment`'s wall time as YYYYMMDDTHHMMSS: %-formatting is several times faster than
    strftime (which pads no year before 1000: kept for those)."""
    if moment.year < 1000:
        return moment.strftime("%Y%m%dT%H%M%S")
    return "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
    )  # fmt: skip


def zoned_value(name: str, moment: datetime, zone: ZoneInfo) -> str:
    """DTSTART/DTEND in local time with TZID; in UTC for the rare wall time that does not
    name one instant (the hour skipped in spring or repeated in autumn)."""
    local = moment.astimezone(zone)
    if local.date() in _changing_days(zone, local.year):
        naive = local.replace(tzinfo=None)
        if naive.replace(tzinfo=zone, fold=1 - local.fold).utcoffset() != local.utcoffset():
            return f"{name}:{utc_stamp(moment)}"
    return f"{name};TZID={zone.key}:{_basic(local)}"


@lru_cache(maxsize=1024)
def _changing_days(zone: tzinfo, year: int) -> frozenset[date]:
    """The local days around each change of offset of `zone` in `year`: only a wall time on
    one of them can fail to name one instant (a cheap test before the exact one)."""
    days = set()
    for instant, *_ in _transitions(zone, year - 1, year + 1):
        for moment in (instant - timedelta(days=1), instant, instant + timedelta(days=1)):
            days.add(moment.astimezone(zone).date())
    return frozenset(days)


def zoned_time(name: str, moment: datetime, zone: ZoneInfo) -> bytes:
    return fold(zoned_value(name, moment, zone))


# ---------------------------------------------------------------- VTIMEZONE


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _transitions(zone: tzinfo, first_year: int, last_year: int) -> list[tuple[datetime, ...]]:
    """(instant in UTC, offset before, offset after, name after, is_dst) for each change."""
    found = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    before = moment.astimezone(zone).utcoffset()
    while moment < end:
        after = (moment + step).astimezone(zone).utcoffset()
        if after != before:
            low, high = moment, moment + step  # bisect to the second: high is the change
            while high - low > timedelta(seconds=1):
                middle = (low + (high - low) / 2).replace(microsecond=0)
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(zone)
            found.append((high, before, after, local.tzname(), bool(local.dst())))
            before = after
        moment += step
    return found


def _last_weekday_rule(onset: datetime) -> str | None:
    """`BYMONTH=m;BYDAY=-1SU` (or another weekday) when the onset is that month's last one."""
    days_in_month = gregorian.monthrange(onset.year, onset.month)[1]
    if onset.day + 7 <= days_in_month:
        return None
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[onset.weekday()]
    return f"BYMONTH={onset.month};BYDAY=-1{weekday}"


def _sub_component(kind: str, changes: list[tuple], last_year: int) -> list[bytes]:
    """One STANDARD or DAYLIGHT block: an RRULE when every change follows one yearly rule
    still in force in `last_year` (what Outlook handles best), else every onset as an RDATE,
    DTSTART's included: ical.js (Thunderbird) skips DTSTART when RDATE is present."""
    blocks = []
    by_shape: dict[tuple, list[tuple]] = {}
    for change in changes:
        _instant, before, after, name, _dst = change
        by_shape.setdefault((before, after, name), []).append(change)
    for (before, after, name), group in by_shape.items():
        onsets = [(instant + before).replace(tzinfo=None) for instant, *_ in group]
        rules = {(_last_weekday_rule(o), o.time()) for o in onsets}
        years = [o.year for o in onsets]
        yearly = (
            len(rules) == 1
            and None not in next(iter(rules))
            and (years == list(range(years[0], years[0] + len(years))))
            and years[-1] == last_year  # a rule that stopped (Moscow 2011) has no RRULE
        )
        lines = [
            prop("BEGIN", kind),
            prop("TZOFFSETFROM", _offset(before)),
            prop("TZOFFSETTO", _offset(after)),
            text("TZNAME", name),
            prop("DTSTART", onsets[0].strftime("%Y%m%dT%H%M%S")),
        ]
        if yearly and len(onsets) > 1:
            lines.append(prop("RRULE", f"FREQ=YEARLY;{_last_weekday_rule(onsets[0])}"))
        elif len(onsets) > 1:
            # One value per RDATE: ical.js reads only the first value of each.
            lines += [prop("RDATE", o.strftime("%Y%m%dT%H%M%S")) for o in onsets]
        lines.append(prop("END", kind))
        blocks.extend(lines)
    return blocks


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """A VTIMEZONE for `tzid` from the machine's tz database, valid from the year before
    `first_year` (so the earliest event follows an onset) through `last_year`."""
    zone = ZoneInfo(tzid)
    changes = _transitions(zone, first_year - 1, last_year)
    lines = [prop("BEGIN", "VTIMEZONE"), text("TZID", tzid), text("X-LIC-LOCATION", tzid)]
    if not changes or changes[0][0].year >= first_year:
        # No change in the year before: an onset stating the offset then, so that the first
        # event still follows one (else ical.js takes the offset for UTC until a change).
        moment = datetime(first_year - 1, 1, 1, tzinfo=zone)
        offset = moment.utcoffset() or timedelta(0)
        lines += [
            prop("BEGIN", "STANDARD"),
            prop("TZOFFSETFROM", _offset(offset)),
            prop("TZOFFSETTO", _offset(offset)),
            text("TZNAME", moment.tzname() or tzid),
            prop("DTSTART", moment.replace(tzinfo=None).strftime("%Y%m%dT%H%M%S")),
            prop("END", "STANDARD"),
        ]
    lines += _sub_component("DAYLIGHT", [c for c in changes if c[4]], last_year)
    lines += _sub_component("STANDARD", [c for c in changes if not c[4]], last_year)
    lines.append(prop("END", "VTIMEZONE"))
    return b"".join(lines)


def years_of(moments: list[date]) -> tuple[int, int]:
    return min(m.year for m in moments), max(m.year for m in moments)
