"""iMIP calendar objects (RFC 5546, RFC 6047) for emails about one meeting.

The same VEVENT as in the feeds (same UID, SEQUENCE and times, from
`meetings.services.calendar.render_event`), wrapped in METHOD:REQUEST for an invitation or a
change and METHOD:CANCEL for a cancellation, with the recipient as ATTENDEE (RSVP=FALSE: we
ask nothing back) and the council's contact address as ORGANIZER.
"""

from __future__ import annotations

from conseils import ical
from meetings.events import MeetingSnapshot
from meetings.services import calendar

END_EVENT = b"END:VEVENT\r\n"


class Invitation:
    """One meeting's iMIP object, rendered once and addressed to each attendee in turn."""

    def __init__(self, meeting: MeetingSnapshot, method: str) -> None:
        """`method` is REQUEST or CANCEL."""
        event = calendar.render_event(meeting)
        year = event.order[0].astimezone(calendar.ZONE).year
        self.head = b"".join(
            [
                b"BEGIN:VCALENDAR\r\n",
                ical.prop("VERSION", "2.0"),
                ical.text("PRODID", calendar.PRODID),
                ical.prop("CALSCALE", "GREGORIAN"),
                ical.prop("METHOD", method),
                ical.vtimezone(calendar.TZID, year, year),
                event.block[: -len(END_EVENT)],
            ]
        )

    def for_attendee(self, attendee: str) -> str:
        """`attendee`: a validated, normalised email address."""
        attendee_line = ical.lines(
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:"
            f"mailto:{ical.escape_text(attendee)}"
        )
        return (self.head + attendee_line + END_EVENT + b"END:VCALENDAR\r\n").decode()
