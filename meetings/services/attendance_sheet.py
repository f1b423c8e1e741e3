"""The attendance sheet (feuille d'émargement) of a meeting: who signs, in which order.

Only the people holding a seat are on it: confirmed registrants and walk-ins already added,
never the waiting list nor the cancelled. They are grouped by what they come as
("Habitant·e", "Association ou acteur local", "Autre"), each group in French alphabetical
order (`conseils.collation`), numbered through; blank lines follow for those who come
without registering. The HTML page and the PDF both draw this.
"""

from __future__ import annotations

from dataclasses import dataclass

from conseils.collation import french_key
from conseils.viewer import FacilitatorView
from meetings.services.registrants import MeetingHead, RegistrationView, registrants_of
from meetings.services.registrations import ATTENDING_AS

BLANK_LINES = 10


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    name: str
    walk_in: bool


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    lines: list[Line]


@dataclass(frozen=True, slots=True)
class Sheet:
    meeting: MeetingHead
    groups: list[Group]  # the non-empty groups, in ATTENDING_AS order
    blank_lines: int

    @property
    def signers(self) -> int:
        return sum(len(group.lines) for group in self.groups)


def group(items: list[RegistrationView]) -> list[Group]:
    seated = [item for item in items if item.status == "confirmed"]
    groups, number = [], 0
    for kind, label in ATTENDING_AS.items():
        names = sorted(
            (item for item in seated if item.attending_as == kind),
            key=lambda item: (french_key(item.name), item.name, item.id),
        )
        lines = []
        for item in names:
            number += 1
            lines.append(Line(number, item.name, item.walk_in))
        if lines:
            groups.append(Group(label, lines))
    return groups


async def sheet_of(viewer: FacilitatorView, meeting_id: int) -> Sheet:
    meeting, items = await registrants_of(viewer, meeting_id)
    return Sheet(meeting, group(items), BLANK_LINES)
