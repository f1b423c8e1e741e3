"""A per-process cache of rendered meeting pages that never serves a stale page.

Entries are dropped by the change notices of `conseils.changes`; callers `await
changes.refresh()` before `get()`, so a hit costs no query. A page also expires by itself when
its meeting's next moment passes (registration opens or closes, the meeting ends).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from conseils import changes
from conseils.timefmt import now_utc


@dataclass(frozen=True, slots=True)
class Page:
    expires_at: datetime | None  # when the page changes by itself (registration opens...)
    body: bytes

    def current(self) -> bool:
        return self.expires_at is None or now_utc() < self.expires_at


class RenderedPages:
    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: OrderedDict[Hashable, Page] = OrderedDict()
        self._max = max_entries
        self.generation = 0  # bumped by every drop: a render begun before it is not stored
        changes.subscribe(self.drop)

    def drop(self, change: changes.Change | None) -> None:
        self.generation += 1
        if change is None:
            self._entries.clear()
        else:
            self._entries.pop(change.meeting_id, None)

    def get(self, meeting_id: Hashable) -> Page | None:
        page = self._entries.get(meeting_id)
        if page is None or not page.current():
            return None
        self._entries.move_to_end(meeting_id)
        return page

    def put(self, meeting_id: Hashable, page: Page, generation: int) -> None:
        if generation != self.generation:
            return
        self._entries[meeting_id] = page
        self._entries.move_to_end(meeting_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class RenderedLists(RenderedPages):
    """Rendered lists of meetings (the embeddable agenda), by any key: any change may add a
    meeting to a list or take one out, so every notice drops them all."""

    def drop(self, change: changes.Change | None) -> None:
        self.generation += 1
        self._entries.clear()
