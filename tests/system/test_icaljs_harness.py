"""Self-check of the ical.js harness (tests/support/icaljs.py) on hand-written iCalendar text."""

from __future__ import annotations

import pytest

from tests.support.icaljs import parse_with_icaljs

pytestmark = pytest.mark.engine_independent  # node and ical.js only: no database involved

VTIMEZONE_PARIS = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "DTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "TZNAME:CEST\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)

# Folded by hand (CRLF + one space, removed when unfolding), between characters: after an
# "é", before a space (kept: the next line starts with two spaces) and before a four-byte
# emoji. No physical line exceeds 75 octets (checked below).
DESCRIPTION = (
    "DESCRIPTION:Ordre du jour\\n1. Bilan de l’année écoulée\\, budget\\; é\r\n"
    " ventuelles questions\\n2. Projet « Jardins partagés »\r\n"
    "  présenté par l’équipe \r\n"
    " 🌱\\nOuvert à toutes et à tous.\r\n"
)
DESCRIPTION_TEXT = (
    "Ordre du jour\n1. Bilan de l’année écoulée, budget; éventuelles questions\n"
    "2. Projet « Jardins partagés » présenté par l’équipe 🌱\nOuvert à toutes et à tous."
)

CALENDAR = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Conseils citoyens//Harness test//FR\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "METHOD:PUBLISH\r\n"
    "X-WR-CALNAME:Conseil citoyen des Prés-Saint-Jean\r\n"
    "X-WR-TIMEZONE:Europe/Paris\r\n" + VTIMEZONE_PARIS + "BEGIN:VEVENT\r\n"
    "UID:meeting-1@conseils.example\r\n"
    "DTSTAMP:20261201T080000Z\r\n"
    "CREATED:20261115T093000Z\r\n"
    "LAST-MODIFIED:20261130T170500Z\r\n"
    "SEQUENCE:2\r\n"
    "STATUS:CONFIRMED\r\n"
    "DTSTART;TZID=Europe/Paris:20270114T183000\r\n"
    "DTEND;TZID=Europe/Paris:20270114T203000\r\n"
    "SUMMARY:Café citoyen 🌱 : jardins\\, potagers\\; et vous ☕\r\n"
    + DESCRIPTION
    + "LOCATION:Maison de quartier\\, 12 rue des Prés\\, Alès\r\n"
    "URL:https://conseils.example/reunions/1\r\n"
    "CATEGORIES:Café citoyen,Prés-Saint-Jean\r\n"
    'ORGANIZER;CN="Conseil citoyen des Prés":mailto:pres@conseils.example\r\n'
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:meeting-2@conseils.example\r\n"
    "DTSTAMP:20261201T080000Z\r\n"
    "DTSTART;TZID=Europe/Paris:20270701T183000\r\n"
    "DTEND;TZID=Europe/Paris:20270701T203000\r\n"
    "SUMMARY:Réunion du conseil\r\n"
    "STATUS:CANCELLED\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_icaljs_reads_timezones_escapes_and_folding() -> None:
    physical_lines = CALENDAR.split("\r\n")
    assert max(len(line.encode()) for line in physical_lines) <= 75
    assert sum(line.startswith(" ") for line in physical_lines) == 3

    parsed = parse_with_icaljs(CALENDAR)

    assert parsed["calendar"] == {
        "version": "2.0",
        "prodid": "-//Conseils citoyens//Harness test//FR",
        "calscale": "GREGORIAN",
        "method": "PUBLISH",
        "x-wr-calname": "Conseil citoyen des Prés-Saint-Jean",
        "x-wr-timezone": "Europe/Paris",
    }
    assert parsed["timezones"] == ["Europe/Paris"]
    winter, summer = parsed["events"]
    assert winter == {
        "uid": "meeting-1@conseils.example",
        "summary": "Café citoyen 🌱 : jardins, potagers; et vous ☕",
        "description": DESCRIPTION_TEXT,
        "location": "Maison de quartier, 12 rue des Prés, Alès",
        "url": "https://conseils.example/reunions/1",
        "status": "CONFIRMED",
        "sequence": 2,
        "categories": ["Café citoyen", "Prés-Saint-Jean"],
        "organizer": "mailto:pres@conseils.example",
        "organizer_cn": "Conseil citoyen des Prés",
        "dtstamp": "2026-12-01T08:00:00Z",
        "created": "2026-11-15T09:30:00Z",
        "last_modified": "2026-11-30T17:05:00Z",
        "dtstart_tzid": "Europe/Paris",
        "dtend_tzid": "Europe/Paris",
        "start_utc": "2027-01-14T17:30:00Z",  # CET, UTC+1
        "end_utc": "2027-01-14T19:30:00Z",
        "start_local": "2027-01-14T18:30:00",
        "end_local": "2027-01-14T20:30:00",
    }
    assert summer["summary"] == "Réunion du conseil"
    assert summer["status"] == "CANCELLED"
    assert summer["start_utc"] == "2027-07-01T16:30:00Z"  # CEST, UTC+2
    assert summer["end_utc"] == "2027-07-01T18:30:00Z"
    assert summer["start_local"] == "2027-07-01T18:30:00"
    assert summer["dtstart_tzid"] == "Europe/Paris"
    assert (summer["sequence"], summer["categories"], summer["description"]) == (None, [], None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("BEGIN:VCALENDAR\r\nfoo\r\n", "invalid line"),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "did not end"),
        ("", "no iCalendar component"),
        # A fold inside the two bytes of "é": the stream is not UTF-8 any more.
        (b"BEGIN:VCALENDAR\r\nX-WR-CALNAME:Pr\xc3\r\n \xa9s\r\nEND:VCALENDAR\r\n", "utf-8"),
    ],
    ids=["bad-line", "unterminated", "empty", "fold-inside-utf8"],
)
def test_icaljs_rejects_malformed_input(data: str | bytes, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        parse_with_icaljs(data)
