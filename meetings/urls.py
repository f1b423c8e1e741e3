"""Absolute links built from BASE_URL: public pages and iCalendar feeds."""

from __future__ import annotations

from urllib.parse import quote_plus

from meetings.settings import get_settings


def meeting_url(meeting_id: int) -> str:
    return f"{get_settings().base_url}/reunions/{meeting_id}"


def meeting_calendar_url(meeting_id: int) -> str:
    return f"{get_settings().base_url}/reunions/{meeting_id}/calendrier.ics"


def council_url(slug: str) -> str:
    return f"{get_settings().base_url}/conseils/{slug}"


def council_calendar_url(slug: str) -> str:
    return f"{get_settings().base_url}/conseils/{slug}/calendrier.ics"


def map_url(address: str) -> str:
    """An OpenStreetMap search for the address: no API key, no tracking."""
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"
