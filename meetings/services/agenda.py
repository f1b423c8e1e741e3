"""The embeddable agenda: the next public meetings of a scope, for other sites to show, as a
page for their frames, an RSS 2.0 feed or JSON (one list, three forms, one set of filters).

The filters are the calendar feeds' (`calendar.resolve_scope`: a quartier means its councils
plus the agglomeration-wide one), plus how many meetings to show. An unknown council or
quartier is a 400 naming the parameter (as on the home page and in the API), not the feeds'
404: the address exists, a value in its query is wrong, and the site's webmaster should see
which. Anything else in the address is refused, naming it: a site that misspells a filter
learns it at once instead of showing every council's meetings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from conseils import urls
from conseils.errors import InvalidInput, NotFound
from conseils.timefmt import french_range, to_paris
from meetings.services import calendar, meetings
from meetings.services.common import KIND_LABELS, KINDS
from meetings.services.meetings import MeetingView

FILTERS = ("conseil", "quartier", "type", "nombre")
DEFAULT_COUNT = 5
MAX_COUNT = 50
MAX_VALUE = 80  # characters of a slug filter, as the feeds' filters
JSON_VERSION = 1


@dataclass(frozen=True, slots=True)
class AgendaFilters:
    council: str | None
    quartier: str | None
    kind: str | None
    count: int

    def query(self) -> list[tuple[str, str]]:
        """The filters as an address's query, in a fixed order, defaults left out."""
        pairs = [("conseil", self.council), ("quartier", self.quartier), ("type", self.kind)]
        if self.count != DEFAULT_COUNT:
            pairs.append(("nombre", str(self.count)))
        return [(name, value) for name, value in pairs if value]


@dataclass(frozen=True, slots=True)
class Agenda:
    name: str  # the scope's, as the calendar feeds name it
    page_url: str  # where its meetings are on our site
    filters: AgendaFilters
    meetings: list[MeetingView]


def parse_filters(query: Iterable[tuple[str, str]]) -> AgendaFilters:
    """The filters of a query string; every mistake at once, each named by its parameter."""
    given: dict[str, list[str]] = {}
    for name, value in query:
        given.setdefault(name, []).append(value)
    errors: dict[str, str] = {}
    for name in given:
        if name not in FILTERS:
            errors[name[:40]] = f"paramètre inconnu (paramètres possibles : {', '.join(FILTERS)})"
    values: dict[str, str | None] = {}
    for name in FILTERS:
        found = given.get(name, [])
        if len(found) > 1:
            errors[name] = "donné plusieurs fois"
        value = found[0].strip() if found else ""
        if len(value) > MAX_VALUE:
            errors[name] = f"{MAX_VALUE} caractères au plus"
        values[name] = value or None
    kind = values["type"]
    if kind is not None and kind not in KINDS:
        errors["type"] = f"doit valoir {' ou '.join(sorted(KINDS))}"
    count = DEFAULT_COUNT
    raw_count = values["nombre"]
    if raw_count is not None:
        if raw_count.isascii() and raw_count.isdigit() and 1 <= int(raw_count) <= MAX_COUNT:
            count = int(raw_count)
        else:
            errors["nombre"] = f"doit être un nombre entier de 1 à {MAX_COUNT}"
    if errors:
        raise InvalidInput(errors)
    return AgendaFilters(values["conseil"], values["quartier"], kind, count)


async def next_meetings(filters: AgendaFilters) -> Agenda:
    """The next public meetings of the filters' scope (cancelled ones included, marked so),
    soonest first: those not yet over."""
    try:
        scope = await calendar.resolve_scope(filters.council, filters.kind, filters.quartier)
    except NotFound as exc:  # a wrong value in the query, not a missing page: 400, named
        name = "quartier" if exc.code == "quartier_not_found" else "conseil"
        raise InvalidInput({name: f"{name} inconnu"}) from None
    items = await meetings.upcoming(
        council_ids=scope.council_ids, kind=scope.kind, limit=filters.count
    )
    return Agenda(scope.name, scope.page_url, filters, items)


def seats_text(meeting: MeetingView) -> str | None:
    """What the list says of seats: nothing for a cancelled meeting."""
    if meeting.is_cancelled:
        return None
    left = meeting.seats_left
    if left is None:
        return "Entrée libre"
    if left == 0:
        return "Complet"
    return f"{left} place{'s' if left > 1 else ''} libre{'s' if left > 1 else ''}"


def place_text(meeting: MeetingView) -> str:
    place = ", ".join(part for part in (meeting.venue, meeting.address) if part)
    if meeting.online_url:
        place = f"{place} et en ligne" if place else "En ligne"
    return place


# ---------------------------------------------------------------- RSS 2.0 and JSON

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("atom", ATOM)
RSS_TTL_MINUTES = 5  # as the pages' Cache-Control
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = _NOT_XML.sub("", text)
    return element


def _rss_title(meeting: MeetingView) -> str:
    """The title (the kind is the item's category), marked when cancelled: readers show no
    status."""
    return f"Annulé — {meeting.title}" if meeting.is_cancelled else meeting.title


def _rss_description(meeting: MeetingView) -> str:
    lines = [f"{KIND_LABELS.get(meeting.kind, meeting.kind)} — {meeting.council_name}."]
    if meeting.is_cancelled:
        lines.insert(0, "Cette réunion est annulée.")
    lines.append(f"{french_range(meeting.starts_at, meeting.ends_at)} (heure de Paris).")
    place = place_text(meeting)
    if place:
        lines.append(f"Lieu : {place}.")
    seats = seats_text(meeting)
    if seats:
        lines.append(f"{seats}.")
    return "\n".join(lines)


def rss(agenda: Agenda) -> bytes:
    """RSS 2.0: one item per meeting, its page as link and permanent guid; pubDate is the
    meeting's last change (nothing comes from the clock: the same data, the same bytes)."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", f"Prochaines réunions — {agenda.name}")
    _text(channel, "link", agenda.page_url)
    _text(
        channel,
        "description",
        f"Les prochaines réunions et cafés citoyens : {agenda.name}.",
    )
    _text(channel, "language", "fr")
    ET.SubElement(
        channel,
        f"{{{ATOM}}}link",
        {
            "href": urls.agenda_url(".rss", agenda.filters.query()),
            "rel": "self",
            "type": "application/rss+xml",
        },
    )
    _text(channel, "ttl", str(RSS_TTL_MINUTES))
    if agenda.meetings:
        latest = max(m.updated_at for m in agenda.meetings)
        _text(channel, "lastBuildDate", format_datetime(latest.astimezone(UTC), usegmt=True))
    for meeting in agenda.meetings:
        item = ET.SubElement(channel, "item")
        page = urls.meeting_url(meeting.id)
        _text(item, "title", _rss_title(meeting))
        _text(item, "link", page)
        _text(item, "guid", page, isPermaLink="true")
        _text(item, "pubDate", format_datetime(meeting.updated_at.astimezone(UTC), usegmt=True))
        _text(item, "description", _rss_description(meeting))
        _text(item, "category", KIND_LABELS.get(meeting.kind, meeting.kind))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _iso(moment: datetime) -> str:
    return to_paris(moment).isoformat(timespec="seconds")


def as_json(agenda: Agenda) -> dict[str, Any]:
    """The JSON shape, version 1 (README, "Embeddable agenda"): fields are only ever added
    within a version; a removal or a change of meaning is a new `version`."""
    filters = agenda.filters
    return {
        "version": JSON_VERSION,
        "title": agenda.name,
        "url": agenda.page_url,
        "filters": {
            "conseil": filters.council,
            "quartier": filters.quartier,
            "type": filters.kind,
            "nombre": filters.count,
        },
        "meetings": [
            {
                "id": m.id,
                "title": m.title,
                "kind": m.kind,
                "kind_label": KIND_LABELS.get(m.kind, m.kind),
                "status": m.status,
                "starts_at": _iso(m.starts_at),
                "ends_at": _iso(m.ends_at),
                "place": {
                    "venue": m.venue or None,
                    "address": m.address or None,
                    "online_url": m.online_url,
                },
                "council": {
                    "slug": m.council_slug,
                    "name": m.council_name,
                    "url": urls.council_url(m.council_slug),
                },
                "url": urls.meeting_url(m.id),
                "capacity": m.capacity,
                "seats_left": None if m.is_cancelled else m.seats_left,
                "updated_at": _iso(m.updated_at),
            }
            for m in agenda.meetings
        ],
    }
