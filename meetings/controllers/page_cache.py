"""A per-process cache of rendered meeting pages that never serves a stale page.

On PostgreSQL, entries are dropped by the change notices of `meetings.changes` (sent by the
process that made the change, received by all), so a hit costs no query. When no listener is
live (SQLite, or the LISTEN connection was lost) every hit is checked against the meeting's
`updated_at` instead. A page also expires by itself when its meeting ends ("a eu lieu").
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from meetings import changes
from meetings.timefmt import now_utc


@dataclass(frozen=True, slots=True)
class Page:
    version: str
    ends_at: datetime
    rendered_as_past: bool
    body: bytes

    def current(self) -> bool:
        return self.rendered_as_past == (self.ends_at < now_utc())


class RenderedPages:
    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: OrderedDict[int, Page] = OrderedDict()
        self._max = max_entries
        self.generation = 0  # bumped by every drop: a render begun before it is not stored
        changes.subscribe(self.drop)

    def drop(self, meeting_id: int | None) -> None:
        self.generation += 1
        if meeting_id is None:
            self._entries.clear()
        else:
            self._entries.pop(meeting_id, None)

    def get(self, meeting_id: int, version: str | None) -> Page | None:
        """The cached page if still right; `version` is None when the caller trusts notices."""
        page = self._entries.get(meeting_id)
        if page is None or not page.current() or (version is not None and page.version != version):
            return None
        self._entries.move_to_end(meeting_id)
        return page

    def put(self, meeting_id: int, page: Page, generation: int) -> None:
        if generation != self.generation:
            return
        self._entries[meeting_id] = page
        self._entries.move_to_end(meeting_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
