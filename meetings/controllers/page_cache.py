"""A small per-process cache of rendered pages, checked against the database on every hit.

The key carries a freshness token read from the database (see
`meetings.services.meetings.public_version`), so a change made through any process is seen
at once: the cache only saves the rendering and the joins, never the check.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RenderedPages:
    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._max = max_entries

    def get(self, key: Hashable) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        self._entries[key] = body
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
