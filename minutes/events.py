"""The minutes app's domain events, emitted inside the write transaction of the change.

The notifications app turns `MinutesAnnounced` into one fan-out job (expanded by the relay,
never thousands of rows in the request) that writes to every address concerned once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class MinutesSnapshot:
    """Minutes as their email shows them."""

    id: int
    title: str
    summary: str
    url: str  # their public page (the meeting's page, or the minutes' own)
    council_ids: tuple[int, ...]  # whose confirmed subscribers are written to
    meeting_ids: tuple[int, ...]  # whose confirmed registrants and attendees are written to
    council_name: str  # "" for the whole agglomeration
    month: date | None


@dataclass(frozen=True, slots=True)
class MinutesAnnounced:
    """Minutes were published (`update` False), or a facilitator asked for a "mise à jour"
    email about them (`update` True, `sequence` counting those): everyone concerned is
    written to once for each (the fan-out job's key carries id and sequence)."""

    minutes: MinutesSnapshot
    update: bool
    sequence: int
