"""iMIP calendar objects (RFC 5546, RFC 6047) for emails about one meeting.

The same VEVENT as in the feeds (same UID, SEQUENCE and times, from
`meetings.services.calendar.render_event`), wrapped in METHOD:REQUEST for an invitation or a
change and METHOD:CANCEL for a cancellation, with the recipient as ATTENDEE (RSVP=FALSE: we
ask nothing back) and the council's contact address as ORGANIZER.
"""

from __future__ import annotations

from typing import Any

from meetings import ical
from meetings.services import calendar

END_EVENT = b"END:VEVENT\r\n"


def imip(row: dict[str, Any], method: str, attendee: str) -> str:
    """`method` is REQUEST or CANCEL; `attendee` a validated, normalised email address."""
    event = calendar.render_event(row)
    attendee_line = ical.lines(
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:"
        f"mailto:{ical.escape_text(attendee)}"
    )
    block = event.block[: -len(END_EVENT)] + attendee_line + END_EVENT
    year = event.order[0].astimezone(calendar.ZONE).year
    body = b"".join(
        [
            b"BEGIN:VCALENDAR\r\n",
            ical.prop("VERSION", "2.0"),
            ical.text("PRODID", calendar.PRODID),
            ical.prop("CALSCALE", "GREGORIAN"),
            ical.prop("METHOD", method),
            ical.vtimezone(calendar.TZID, year, year),
            block,
            b"END:VCALENDAR\r\n",
        ]
    )
    return body.decode()
