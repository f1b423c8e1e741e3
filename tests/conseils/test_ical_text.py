"""Unit tests of conseils/ical.py: escaping, folding, zoned times and the VTIMEZONE.

The text these helpers write is read back by the two parsers that matter: the icalendar
library and ical.js (Thunderbird's parser, through tests/support/icaljs.py).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conseils import ical
from tests.support.icaljs import parse_with_icaljs

PARIS = ZoneInfo("Europe/Paris")
STAMP = "20260101T000000Z"

# Characters that matter to iCalendar text: escapes, separators, multi-byte UTF-8 of each
# length (é: 2 octets, €: 3, 🌱: 4), a tab (allowed in TEXT), quotes and plain letters.
TRICKY = "ab \\;,:\"'\té€🌱\n"


def physical_lines(data: bytes) -> list[bytes]:
    """The lines of `data`, which must end with CRLF, without their CRLF."""
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def unfold(data: bytes) -> bytes:
    return data.replace(b"\r\n ", b"")


def calendar(*components: bytes) -> bytes:
    head = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//FR\r\n"
    return head + b"".join(components) + b"END:VCALENDAR\r\n"


def event(uid: str, *props: bytes) -> bytes:
    head = [b"BEGIN:VEVENT\r\n", ical.prop("UID", uid), ical.prop("DTSTAMP", STAMP)]
    return b"".join([*head, *props, b"END:VEVENT\r\n"])


# ---------------------------------------------------------------- escape_text


def test_escape_text_escapes_backslash_first_then_separators_and_newlines() -> None:
    assert ical.escape_text("a,b;c\\d") == "a\\,b\\;c\\\\d"
    assert ical.escape_text("\\,") == "\\\\\\,"  # a backslash, then an escaped comma
    assert ical.escape_text("\\n") == "\\\\n"  # a backslash and an n: not a newline
    assert ical.escape_text("Café : « ok » 🌱") == "Café : « ok » 🌱"  # colons stay as is


def test_escape_text_turns_every_line_break_into_one_escaped_newline() -> None:
    assert ical.escape_text("un\r\ndeux\rtrois\nquatre") == "un\\ndeux\\ntrois\\nquatre"
    assert ical.escape_text("\r\n\r\n") == "\\n\\n"


def test_escape_text_drops_control_characters_but_keeps_tab() -> None:
    assert ical.escape_text("a\x00b\x07c\x1bd\x7fe\tf") == "abcde\tf"


def test_a_forged_property_stays_inside_the_value() -> None:
    forged = "titre\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil"
    escaped = ical.escape_text(forged)
    assert "\r" not in escaped and "\n" not in escaped
    assert escaped == "titre\\nEND:VEVENT\\nBEGIN:VEVENT\\nUID:evil"
    assert physical_lines(ical.text("SUMMARY", forged)) == [b"SUMMARY:" + escaped.encode()]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.sampled_from(TRICKY + "\r\x00\x1f"), max_size=60))
def test_escape_text_never_leaves_a_raw_separator(value: str) -> None:
    escaped = ical.escape_text(value)
    assert not any(c in escaped for c in "\r\n\x00\x1f")
    # Every backslash, comma and semicolon is part of an escape: remove the escapes and
    # none is left.
    bare = escaped.replace("\\\\", "").replace("\\,", "").replace("\\;", "").replace("\\n", "")
    assert not any(c in bare for c in "\\,;")


# ---------------------------------------------------------------- fold


def test_fold_leaves_short_lines_and_folds_at_75_octets() -> None:
    assert ical.fold("SUMMARY:court") == b"SUMMARY:court\r\n"
    exactly = "X" * 75
    assert ical.fold(exactly) == exactly.encode() + b"\r\n"
    longer = "X" * 76
    assert ical.fold(longer) == b"X" * 75 + b"\r\n X\r\n"
    # Continuation lines carry 74 octets after their leading space.
    assert physical_lines(ical.fold("Y" * 300)) == [
        b"Y" * 75, b" " + b"Y" * 74, b" " + b"Y" * 74, b" " + b"Y" * 74, b" " + b"Y" * 3,
    ]  # fmt: skip


@pytest.mark.parametrize("char", ["é", "€", "🌱"])
@pytest.mark.parametrize("prefix", range(4))
def test_fold_never_splits_a_multibyte_character(char: str, prefix: int) -> None:
    line = "DESCRIPTION:" + "x" * prefix + char * 120
    folded = ical.fold(line)
    for physical in physical_lines(folded):
        assert len(physical) <= ical.MAX_LINE_OCTETS
        physical.decode()  # raises if a character was cut
    assert unfold(folded)[:-2].decode() == line
    # A cut moved back for a character shortens that line by at most 3 octets.
    assert all(len(p) >= ical.MAX_LINE_OCTETS - 3 for p in physical_lines(folded)[:-1])


def ends_inside_an_escape(physical: bytes) -> bool:
    content = physical[1:] if physical.startswith(b" ") else physical
    trailing = len(content) - len(content.rstrip(b"\\"))
    return trailing % 2 == 1


@pytest.mark.parametrize("escape", ["\\,", "\\;", "\\n", "\\\\"])
def test_fold_keeps_an_escape_on_one_line(escape: str) -> None:
    # "DESCRIPTION:" is 12 octets: 62 letters put the escape's backslash at octet 75.
    line = "DESCRIPTION:" + "a" * 62 + escape + "b" * 20
    folded = ical.fold(line)
    first, second = physical_lines(folded)
    assert first == b"DESCRIPTION:" + b"a" * 62
    assert second == b" " + escape.encode() + b"b" * 20
    # One octet further, the escape fits whole on the first line.
    shifted = physical_lines(ical.fold("DESCRIPTION:" + "a" * 61 + escape + "b" * 20))
    assert shifted[0].endswith(escape.encode())


def test_fold_of_a_run_of_backslashes_splits_between_pairs() -> None:
    line = ical.text("DESCRIPTION", "\\" * 200)
    assert all(not ends_inside_an_escape(p) for p in physical_lines(line))
    assert unfold(line) == b"DESCRIPTION:" + b"\\" * 400 + b"\r\n"


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    st.text(alphabet=st.sampled_from(TRICKY + "xyz"), max_size=400),
    st.integers(min_value=0, max_value=8),
)
def test_fold_properties(value: str, shift: int) -> None:
    """Whatever the text: lines of at most 75 octets ending in CRLF, each valid UTF-8 and
    never ending inside an escape, and unfolding gives back the exact line."""
    line = "X-" + "S" * shift + ":" + ical.escape_text(value)
    folded = ical.fold(line)
    lines = physical_lines(folded)
    for number, physical in enumerate(lines):
        assert len(physical) <= ical.MAX_LINE_OCTETS
        assert b"\r" not in physical and b"\n" not in physical
        physical.decode()
        assert number == 0 or physical.startswith(b" ")
        assert not ends_inside_an_escape(physical)
    assert unfold(folded) == line.encode() + b"\r\n"


def test_escaped_and_folded_text_round_trips_through_both_parsers() -> None:
    rng = random.Random(5545)
    values = [
        "Ordre du jour ; budget, travaux \\ divers",
        "ligne 1\nligne 2\n\nligne 4",
        "C:\\new\\temp et \\n littéral",
        "fin par une barre \\",
        "\\" * 150,
        "é" * 100,
        "🌱" * 60 + "☕ fin",
        "a\tb",
        "forgé\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil",
    ]
    for _ in range(40):
        values.append("".join(rng.choice(TRICKY + "xyz") for _ in range(rng.randrange(300))))
    body = calendar(
        *(
            event(f"e{i}", ical.text("SUMMARY", value), ical.text("DESCRIPTION", value))
            for i, value in enumerate(values)
        )
    )
    assert all(len(line) <= ical.MAX_LINE_OCTETS for line in physical_lines(body))
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"e{i}" for i in range(len(values))]
    assert [str(e.get("SUMMARY", "")) for e in events] == values
    assert [str(e.get("DESCRIPTION", "")) for e in events] == values
    parsed = parse_with_icaljs(body)["events"]
    assert [e["uid"] for e in parsed] == [f"e{i}" for i in range(len(values))]
    assert [e["summary"] or "" for e in parsed] == values
    assert [e["description"] or "" for e in parsed] == values


def test_lines_writes_what_fold_writes_line_by_line() -> None:
    content = [
        "BEGIN:VEVENT",
        "SUMMARY:" + ical.escape_text("court"),
        "DESCRIPTION:" + ical.escape_text("é🌱\\;," * 40),
        "LOCATION:" + "a" * 62 + "\\,b",
        "END:VEVENT",
    ]
    assert ical.lines(*content) == b"".join(ical.fold(line) for line in content)
    assert ical.lines("A:1", "B:2") == b"A:1\r\nB:2\r\n"


def test_param_value_is_quoted_without_quotes_or_line_breaks_inside() -> None:
    assert ical.param_value('Conseil « Alès » "Nord"') == "\"Conseil « Alès » 'Nord'\""
    assert ical.param_value("a\nb\x00c;d:e") == '"a bc;d:e"'


# ---------------------------------------------------------------- zoned_time


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_zoned_time_in_winter_and_summer() -> None:
    assert ical.zoned_time("DTSTART", utc("2027-01-14T17:30:00"), PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20270114T183000\r\n"
    )
    assert ical.zoned_time("DTEND", utc("2027-07-01T16:30:00"), PARIS) == (
        b"DTEND;TZID=Europe/Paris:20270701T183000\r\n"
    )
    # The instant counts, not how it is written.
    plus5 = datetime(2027, 1, 14, 22, 30, tzinfo=timezone(timedelta(hours=5)))
    assert ical.zoned_time("DTSTART", plus5, PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20270114T183000\r\n"
    )


def test_zoned_time_around_the_spring_gap() -> None:
    # 2027-03-28: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    assert ical.zoned_time("DTSTART", utc("2027-03-28T00:59:59"), PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20270328T015959\r\n"
    )
    assert ical.zoned_time("DTSTART", utc("2027-03-28T01:00:00"), PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20270328T030000\r\n"
    )
    # No instant is written as a wall time of the skipped hour.
    moment = utc("2027-03-27T23:00:00")
    while moment < utc("2027-03-28T03:00:00"):
        assert b"T02" not in ical.zoned_time("DTSTART", moment, PARIS)
        moment += timedelta(minutes=1)
    # A wall time of the gap, given as such, is written as the instant it stands for.
    in_the_gap = datetime(2027, 3, 28, 2, 30, tzinfo=PARIS)
    assert ical.zoned_time("DTSTART", in_the_gap, PARIS) == b"DTSTART:20270328T013000Z\r\n"


def test_zoned_time_in_the_repeated_autumn_hour_is_written_in_utc() -> None:
    # 2027-10-31: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00–02:59 happens twice.
    assert ical.zoned_time("DTSTART", utc("2027-10-30T23:59:59"), PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20271031T015959\r\n"
    )
    for first_time, second_time in (("00:00:00", "01:00:00"), ("00:30:00", "01:30:00")):
        first = utc(f"2027-10-31T{first_time}")
        second = utc(f"2027-10-31T{second_time}")
        assert first.astimezone(PARIS).replace(tzinfo=None) == second.astimezone(PARIS).replace(
            tzinfo=None
        )  # the same wall time...
        assert ical.zoned_time("DTSTART", first, PARIS) == (
            f"DTSTART:20271031T{first_time.replace(':', '')}Z\r\n".encode()
        )  # ...so each instant is written in UTC
        assert ical.zoned_time("DTSTART", second, PARIS) == (
            f"DTSTART:20271031T{second_time.replace(':', '')}Z\r\n".encode()
        )
    assert ical.zoned_time("DTSTART", utc("2027-10-31T02:00:00"), PARIS) == (
        b"DTSTART;TZID=Europe/Paris:20271031T030000\r\n"
    )
    ambiguous = datetime(2027, 10, 31, 2, 30, tzinfo=PARIS)
    assert ical.zoned_time("DTSTART", ambiguous, PARIS) == b"DTSTART:20271031T003000Z\r\n"
    later = ambiguous.replace(fold=1)
    assert ical.zoned_time("DTSTART", later, PARIS) == b"DTSTART:20271031T013000Z\r\n"


# ---------------------------------------------------------------- VTIMEZONE


def hours(first_year: int, last_year: int) -> list[datetime]:
    moment, end = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = []
    while moment < end:
        found.append(moment)
        moment += timedelta(hours=1)
    return found


def offsets_differ(ours: tzinfo, reference: ZoneInfo, first: int, last: int) -> list[datetime]:
    """The hours of these years at which the two zones disagree on the UTC offset."""
    return [
        moment
        for moment in hours(first, last)
        if moment.astimezone(ours).utcoffset() != moment.astimezone(reference).utcoffset()
    ]


def test_paris_vtimezone_is_two_yearly_rules_from_the_year_before() -> None:
    text = ical.vtimezone("Europe/Paris", 2026, 2028).decode()
    assert text.count("BEGIN:DAYLIGHT") == 1 and text.count("BEGIN:STANDARD") == 1
    assert "DTSTART:20250330T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" in text
    assert "DTSTART:20251026T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" in text
    assert "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n" in text
    assert "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n" in text
    assert "RDATE" not in text


def test_paris_vtimezone_gives_zoneinfo_offsets_for_every_hour_in_icalendar() -> None:
    body = calendar(ical.vtimezone("Europe/Paris", 2026, 2028))
    component = icalendar.Calendar.from_ical(body).walk("VTIMEZONE")[0]
    zone = component.to_tz(lookup_tzid=False)  # built from the text, not the tz database
    assert not isinstance(zone, ZoneInfo)
    assert offsets_differ(zone, PARIS, 2026, 2028) == []
    # Wall times too (the skipped and repeated ones aside): local -> offset.
    for instant in hours(2026, 2028):
        wall = instant.astimezone(PARIS).replace(tzinfo=None)
        earlier, later = wall.replace(tzinfo=PARIS), wall.replace(tzinfo=PARIS, fold=1)
        if earlier.utcoffset() == later.utcoffset():
            assert wall.replace(tzinfo=zone).utcoffset() == earlier.utcoffset(), wall


def icaljs_start_times(tzid: str, instants: list[datetime], first: int, last: int) -> list:
    """Events at these instants written with zoned_time, read back by ical.js."""
    zone = ZoneInfo(tzid)
    body = calendar(
        ical.vtimezone(tzid, first, last),
        *(
            event(str(i), ical.zoned_time("DTSTART", moment, zone))
            for i, moment in enumerate(instants)
        ),
    )
    return parse_with_icaljs(body)["events"]


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_paris_vtimezone_gives_zoneinfo_times_in_icaljs() -> None:
    # ical.js is slow on ten thousand events: every hour of the days around each change,
    # and two hours a day through the three years.
    changes = [c[0] for c in ical._transitions(PARIS, 2026, 2028)]
    assert len(changes) == 6
    tricky = [c + timedelta(minutes=m) for c in changes for m in range(-36 * 60, 36 * 60, 30)]
    daily = [h for h in hours(2026, 2028) if h.hour in (5, 17)]
    instants = tricky + daily
    events = icaljs_start_times("Europe/Paris", instants, 2026, 2028)
    assert [e["start_utc"] for e in events] == [z(m) for m in instants]
    for moment, parsed in zip(instants, events, strict=True):
        if parsed["dtstart_tzid"] is not None:
            wall = moment.astimezone(PARIS).replace(tzinfo=None)
            assert parsed["start_local"] == wall.isoformat()
    # Only the repeated autumn hour is written in UTC: 4 half hours in each of 3 autumns.
    assert sum(e["dtstart_tzid"] is None for e in events) == 3 * 4


@pytest.mark.parametrize(
    ("tzid", "first", "last"),
    [
        ("America/Sao_Paulo", 2016, 2021),  # daylight saving time abolished in 2019
        ("Europe/Moscow", 2010, 2016),  # no change 2011-2014, then back to +03
        ("America/New_York", 2005, 2008),  # the rule changed in 2007
        ("Australia/Lord_Howe", 2026, 2028),  # a half-hour change, southern hemisphere
        ("Pacific/Apia", 2010, 2013),  # first change in 2010; skipped 2011-12-30
        ("Asia/Tokyo", 2026, 2028),  # no change at all
    ],
)
def test_vtimezone_of_zones_whose_rules_change_matches_zoneinfo_in_icaljs(
    tzid: str, first: int, last: int
) -> None:
    """What would happen to Europe/Paris if its rules changed: a rule that stops must not
    go on for ever, and an onset listed in RDATE must count for ical.js."""
    zone = ZoneInfo(tzid)
    changes = [c[0] for c in ical._transitions(zone, first, last)]
    tricky = [c + timedelta(hours=h) for c in changes for h in range(-3, 4)]
    instants = tricky + [h for h in hours(first, last) if h.hour == 12 and h.day % 5 == 1]
    events = icaljs_start_times(tzid, instants, first, last)
    assert [e["start_utc"] for e in events] == [z(m) for m in instants]


def test_vtimezone_of_a_stopped_rule_has_no_open_ended_rrule() -> None:
    text = ical.vtimezone("America/Sao_Paulo", 2016, 2021).decode()
    assert "RRULE" not in text
    body = calendar(text.encode())
    zone = icalendar.Calendar.from_ical(body).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert offsets_differ(zone, ZoneInfo("America/Sao_Paulo"), 2016, 2021) == []
