"""A meeting as schema.org `Event` in JSON-LD, for search engines (Google's Event structured
data: name, startDate and location required; endDate, eventStatus, eventAttendanceMode,
organizer, description, offers recommended).

JSON-LD sits in `<script type="application/ld+json">`: a data block, which browsers neither
run nor check against the Content-Security-Policy's `script-src` (only scripts are). What a
facilitator typed must not end the element, though: `<`, `>` and `&` are written as \\u003c,
\\u003e and \\u0026 (the same JSON for any JSON reader), so a title such as
`</script><script>…` stays text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup

from conseils import richtext, urls
from conseils.settings import get_settings
from conseils.timefmt import to_paris
from meetings.services.common import KIND_LABELS
from meetings.services.councils import CouncilView
from meetings.services.meetings import MeetingView

SCHEMA = "https://schema.org"
COUNTRY = "FR"
# "Rue de la Lozère, 30100 Alès": what is written before a five-digit postcode and a town.
_FRENCH_ADDRESS = re.compile(r"(?P<street>.*?)[,\s]*\b(?P<postcode>\d{5})\s+(?P<town>[^,\d][^,]*)")
_ESCAPES = {char: f"\\u{ord(char):04x}" for char in "<>&\u2028\u2029"}


def _moment(value: Any) -> str:
    return to_paris(value).isoformat(timespec="seconds")


def postal_address(address: str) -> dict[str, str]:
    found = _FRENCH_ADDRESS.fullmatch(address.strip())
    if found is None:
        return {"@type": "PostalAddress", "streetAddress": address, "addressCountry": COUNTRY}
    postal = {"@type": "PostalAddress"}
    if found["street"]:
        postal["streetAddress"] = found["street"]
    postal.update(
        postalCode=found["postcode"], addressLocality=found["town"].strip(), addressCountry=COUNTRY
    )
    return postal


def _locations(meeting: MeetingView) -> tuple[str, list[dict[str, Any]]]:
    """The attendance mode and the locations: a Place where there is a venue or an address,
    a VirtualLocation where there is a link."""
    locations: list[dict[str, Any]] = []
    if meeting.venue or meeting.address:
        place: dict[str, Any] = {"@type": "Place", "name": meeting.venue or meeting.address}
        place["address"] = postal_address(meeting.address) if meeting.address else meeting.venue
        locations.append(place)
    if meeting.online_url:
        locations.append({"@type": "VirtualLocation", "url": meeting.online_url})
    if len(locations) == 2:
        mode = "MixedEventAttendanceMode"
    elif meeting.online_url:
        mode = "OnlineEventAttendanceMode"
    else:
        mode = "OfflineEventAttendanceMode"
    return f"{SCHEMA}/{mode}", locations


def _description(meeting: MeetingView, council: CouncilView) -> str:
    text = richtext.excerpt(meeting.description, 5000) if meeting.description else ""
    return text or f"{KIND_LABELS.get(meeting.kind, meeting.kind)} — {council.name}"


def event(meeting: MeetingView, council: CouncilView) -> dict[str, Any]:
    """The meeting as a schema.org Event."""
    page = urls.meeting_url(meeting.id)
    mode, locations = _locations(meeting)
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Event",
        "name": meeting.title,
        "description": _description(meeting, council),
        "url": page,
        "startDate": _moment(meeting.starts_at),
        "endDate": _moment(meeting.ends_at),
        "eventStatus": f"{SCHEMA}/{'EventCancelled' if meeting.is_cancelled else 'EventScheduled'}",
        "eventAttendanceMode": mode,
        "isAccessibleForFree": True,
        "inLanguage": "fr",
        "organizer": {
            "@type": "Organization",
            "name": council.name,
            "url": urls.council_url(council.slug),
        },
    }
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    logo = get_settings().site.logo_url
    if logo:
        data["image"] = logo if logo.startswith("https://") else get_settings().base_url + logo
    if meeting.capacity is not None:
        data["maximumAttendeeCapacity"] = meeting.capacity
        if not meeting.is_cancelled:
            data["remainingAttendeeCapacity"] = meeting.seats_left
    if not meeting.is_cancelled:
        offer: dict[str, Any] = {
            "@type": "Offer",
            "price": 0,
            "priceCurrency": "EUR",
            "url": f"{page}#inscription",
            "availability": f"{SCHEMA}/{'SoldOut' if meeting.seats_left == 0 else 'InStock'}",
            "validFrom": _moment(meeting.registration_opens_at or meeting.created_at),
        }
        data["offers"] = offer
    return data


def json_ld(data: dict[str, Any]) -> Markup:
    """The JSON for inside <script type="application/ld+json">: nothing in it can end the
    element or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 (no <, > or & left)
