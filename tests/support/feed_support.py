"""Helpers shared by the calendar feed tests: read a feed as calendar apps read it, and write
meetings through the API as facilitators do.

`fetch()` checks the raw text (CRLF, 75 octets, UTF-8 never split) and parses it with the
icalendar library and with ical.js (Thunderbird's parser), and checks that both read the
same events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import icalendar
from httpx import AsyncClient, Response

from meetings.tables import Meeting
from tests.support.dates import LIKE_2027
from tests.support.icaljs import parse_with_icaljs

# ---------------------------------------------------------------- reading a feed


def z(moment: datetime) -> str:
    """A moment as ical.js prints it in UTC: 2027-01-14T17:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_lines(body: bytes) -> None:
    """RFC 5545 §3.1: CRLF after every line, at most 75 octets, UTF-8 never cut."""
    body.decode("utf-8")  # strict
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    for number, line in enumerate(lines):
        assert len(line) <= 75, (number, line)
        assert b"\r" not in line and b"\n" not in line, (number, line)
        line.decode("utf-8")  # a character cut by a fold fails here
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"


def _text(component: Any, name: str) -> str | None:
    value = component.get(name)
    return None if value is None else str(value)


def _utc(component: Any, name: str) -> str | None:
    return z(component.decoded(name)) if name in component else None


def icalendar_event(event: Any) -> dict[str, Any]:
    """A VEVENT read by the icalendar library, in the shape of ical.js's JSON."""
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    organizer = event.get("ORGANIZER")
    categories = event.get("CATEGORIES")
    return {
        "uid": _text(event, "UID"),
        "summary": _text(event, "SUMMARY"),
        "description": _text(event, "DESCRIPTION"),
        "location": _text(event, "LOCATION"),
        "url": _text(event, "URL"),
        "status": _text(event, "STATUS"),
        "sequence": int(event["SEQUENCE"]) if "SEQUENCE" in event else None,
        "categories": [str(c) for c in categories.cats] if categories is not None else [],
        "organizer": str(organizer) if organizer is not None else None,
        "organizer_cn": organizer.params.get("CN") if organizer is not None else None,
        "dtstamp": _utc(event, "DTSTAMP"),
        "created": _utc(event, "CREATED"),
        "last_modified": _utc(event, "LAST-MODIFIED"),
        "dtstart_tzid": event["DTSTART"].params.get("TZID"),
        "dtend_tzid": event["DTEND"].params.get("TZID"),
        "start_utc": z(start),
        "end_utc": z(end),
    }


@dataclass
class Feed:
    response: Response
    calendar: icalendar.Calendar  # the icalendar library's reading
    js: dict[str, Any]  # ical.js's reading

    @property
    def body(self) -> bytes:
        return self.response.content

    @property
    def etag(self) -> str:
        return self.response.headers["etag"]

    @property
    def last_modified(self) -> str:
        return self.response.headers["last-modified"]

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.js["events"]

    @property
    def uids(self) -> list[str]:
        return [e["uid"] for e in self.events]

    def event(self, uid: str) -> dict[str, Any]:
        found = [e for e in self.events if e["uid"] == uid]
        assert len(found) == 1, f"{len(found)} events with UID {uid}"
        return found[0]

    def vevent(self, uid: str) -> Any:
        found = [e for e in self.calendar.walk("VEVENT") if str(e["UID"]) == uid]
        assert len(found) == 1
        return found[0]


def parse(body: bytes) -> tuple[icalendar.Calendar, dict[str, Any]]:
    """Both parsers' readings of a calendar, checked to agree on every event."""
    check_lines(body)
    parsed = icalendar.Calendar.from_ical(body)
    js = parse_with_icaljs(body)
    ours = [icalendar_event(e) for e in parsed.walk("VEVENT")]
    theirs = [{key: e[key] for key in ours[0]} for e in js["events"]] if ours else js["events"]
    assert ours == theirs
    assert js["timezones"] == ["Europe/Paris"]
    return parsed, js


async def fetch(client: AsyncClient, path: str, **params: str) -> Feed:
    # httpx drops a query written in `path` when given `params`, even empty ones.
    response = await client.get(path, params=params) if params else await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    parsed, js = parse(response.content)
    return Feed(response, parsed, js)


# ---------------------------------------------------------------- writing meetings


def payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": "Le marché du samedi",
        "description": "Ordre du jour : le marché.",
        "starts_at": f"{LIKE_2027}-01-14T18:30:00+01:00",
        "ends_at": f"{LIKE_2027}-01-14T20:30:00+01:00",
        "venue": "Maison de quartier de Tamaris",
        "address": "Rue de la Lozère, 30100 Alès",
    }
    body.update(overrides)
    return body


async def create(client: AsyncClient, auth: dict[str, str], **overrides: object) -> dict:
    response = await client.post("/api/v1/meetings", json=payload(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def publish(client: AsyncClient, auth: dict[str, str], meeting_id: int) -> dict:
    response = await client.post(f"/api/v1/meetings/{meeting_id}/publish", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def create_published(client: AsyncClient, auth: dict[str, str], **overrides: object) -> dict:
    return await publish(client, auth, (await create(client, auth, **overrides))["id"])


async def patch(client: AsyncClient, auth: dict[str, str], meeting_id: int, **fields) -> dict:
    response = await client.patch(f"/api/v1/meetings/{meeting_id}", json=fields, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def cancel(client: AsyncClient, auth: dict[str, str], meeting_id: int) -> dict:
    response = await client.post(f"/api/v1/meetings/{meeting_id}/cancel", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def row(meeting_id: int) -> dict[str, Any]:
    found = await Meeting.select().where(Meeting.id == meeting_id).first()
    assert found is not None
    return found
