"""Per-process caches of rendered pages, lists and API answers that never serve a stale one.

Entries are dropped by the change notices of `conseils.changes` (in any process); callers
`await changes.refresh()` before `get()`, so a hit costs no query. An entry also expires by
itself at its `expires_at` (registration opens or closes, a meeting ends).

- `RenderedPages`: one object's page by its meeting id (the meeting page), dropped by any
  change that names that meeting (`Change.meeting_id`).
- `RenderedLists`: anything by any key, each entry dropped by the changes it `DependsOn`
  (kinds of change, and councils). Use it for every cached list:

      _lists = RenderedLists()

      async def proposals_page(request, council):
          async def render() -> Page:
              items = await proposals.of_council(council)    # its queries
              body = template.render(items=items).encode()
              return Page(expires_at=None, body=body,        # or when the page changes alone
                          depends_on=DependsOn({"proposal", "support"}, {council.id}))
          page = await _lists.fetch(("proposals", council.slug), render)
          return await respond(request, page, MediaType.HTML)  # gzip/br copies kept too

  and announce every write to what it shows, inside its transaction:
  `await changes.changed("proposal", proposal_id, council_id)` (or `meeting_changed(...)`).
  A change of the council itself drops everything. A list that shows several kinds (a
  council's page showing meetings and proposals) names them all; one not limited to some
  councils leaves `councils` out (None: any council).

A render begun before a change it depends on is not kept (`generation`): it may have read
the data as it was before the change committed.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

from conseils import changes
from conseils.timefmt import now_utc
from conseils.web.compression import MINIMUM_SIZE, Compressed, chosen_coding, compressible
from conseils.web.headers import security_headers

RECENT_KEPT = 512  # changes remembered to judge a render begun before them
# An answer's headers, and the security headers they were built with.
_Headers = tuple[Mapping[str, str], list[tuple[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class DependsOn:
    """What an entry shows: a change of one of these `kinds` (None: any kind) in one of these
    `councils` (None: any council) drops it; a change of a council itself drops everything,
    and a change in `changes.EVERY_COUNCIL` (0: a document all councils share) concerns
    every council."""

    kinds: frozenset[str] | None = None
    councils: frozenset[int] | None = None

    def __init__(
        self, kinds: Collection[str] | None = None, councils: Collection[int] | None = None
    ) -> None:
        object.__setattr__(self, "kinds", None if kinds is None else frozenset(kinds))
        object.__setattr__(self, "councils", None if councils is None else frozenset(councils))

    def dropped_by(self, change: changes.Change | None) -> bool:
        return change is None or (
            (self.kinds is None or change.kind in self.kinds)
            and (
                self.councils is None
                or change.council_id in self.councils
                or change.council_id == changes.EVERY_COUNCIL
            )
        )


ANY_CHANGE = DependsOn()
MEETINGS_AND_SEATS = frozenset({changes.MEETING, changes.SEATS})


@dataclass(frozen=True, slots=True)
class Page:
    expires_at: datetime | None  # when the page changes by itself (registration opens...)
    body: bytes
    depends_on: DependsOn = ANY_CHANGE  # for lists (`RenderedLists`)
    # Its gzip and Brotli copies, each made once when a client first asks for it.
    copies: Compressed = field(init=False, repr=False, compare=False)
    # The header lists of its answers by (coding, media type), each built once (`respond`).
    answer_headers: dict[tuple[str | None, str], _Headers] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "copies", Compressed(self.body))
        object.__setattr__(self, "answer_headers", {})

    def current(self) -> bool:
        return self.expires_at is None or now_utc() < self.expires_at


def encoded(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as an ASGI start message carries them (names in lower case)."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class CachedAnswer(Response):
    """A cached page's answer, its headers built once with the page (`Page.answer_headers`)
    rather than by Litestar's `Response` on every hit: the same status, headers and body a
    `Response` would send, with the security headers (`conseils.web.headers`, which the
    application's `after_request` hook leaves to it) and the `Vary: Accept-Encoding` that
    `CompressionMiddleware` would add."""

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]], status: int = 200) -> None:
        # No `super().__init__()`: nothing of a `Response` is built but what is sent.
        self.body = body
        self.raw_headers = headers
        self.status_code = status

    def to_asgi_response(
        self,
        app: Any,
        request: Request,
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> ASGIApp:
        """Itself, with what the route's layers add (none on today's routes): their headers
        (the answer's own take precedence, as in `Response`), cookies and background task."""
        extra = [
            (k, v) for k, v in (headers or {}).items() if k.lower().encode() not in self._names()
        ]
        set_cookies = [c.to_encoded_header() for c in cookies or () if not c.documentation_only]
        if not (extra or set_cookies or background):
            return self
        return _WithExtras(self, [*encoded(extra), *self.raw_headers, *set_cookies], background)

    def _names(self) -> set[bytes]:
        return {name for name, _ in self.raw_headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A new list each time: a middleware may add to the headers it is sent.
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": list(self.raw_headers),
            }
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class _WithExtras:
    def __init__(
        self,
        answer: CachedAnswer,
        headers: list[tuple[bytes, bytes]],
        background: BackgroundTask | BackgroundTasks | None,
    ) -> None:
        self.answer, self.headers, self.background = answer, headers, background

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = CachedAnswer(self.answer.body, self.headers, self.answer.status_code)
        await answer(scope, receive, send)
        if self.background is not None:
            await self.background()


def _answer_headers(body: bytes, coding: str | None, media_type: str) -> list[tuple[bytes, bytes]]:
    """What `Response(body, media_type=..., headers=...)` sends once the `after_request` hook
    and `CompressionMiddleware` have seen it, in the same order."""
    content_type = f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
    own = [] if coding is None else [("content-encoding", coding), ("vary", "Accept-Encoding")]
    after = [("vary", "Accept-Encoding")] if coding is None and compressible(media_type) else []
    return encoded(
        [
            *own,
            *security_headers().items(),
            ("content-type", content_type),
            ("content-length", str(len(body))),
            *after,
        ]
    )


async def respond(request: Request, page: Page, media_type: str) -> Response:
    """The page's answer, compressed as the client accepts (the copy kept with the page,
    not compressed again on each request by `CompressionMiddleware`), its headers built
    once per page, coding and media type."""
    coding = chosen_coding(request.headers)
    if coding is not None and len(page.body) < MINIMUM_SIZE:
        coding = None
    body = await page.copies.copy(coding)
    media = media_type.value if isinstance(media_type, Enum) else media_type
    security = security_headers()  # built for these: the settings may change in tests
    built = page.answer_headers.get((coding, media))
    if built is None or built[0] is not security:
        built = (security, _answer_headers(body, coding, media))
        page.answer_headers[(coding, media)] = built
    return CachedAnswer(body, built[1])


class RenderedPages:
    """Pages by meeting id, each dropped by the changes that name its meeting."""

    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: OrderedDict[Hashable, Page] = OrderedDict()
        self._max = max_entries
        self.generation = 0  # bumped by every change: a render begun before one may be stale
        self._recent: deque[tuple[int, changes.Change | None]] = deque(maxlen=RECENT_KEPT)
        changes.subscribe(self.drop)

    def drop(self, change: changes.Change | None) -> None:
        self.generation += 1
        self._recent.append((self.generation, change))
        if change is None:
            self._entries.clear()
        else:
            self._forget(change)

    def _forget(self, change: changes.Change) -> None:
        self._entries.pop(change.meeting_id, None)

    def _affects(self, key: Hashable, page: Page, change: changes.Change | None) -> bool:
        return change is None or change.meeting_id == key

    def _changed_since(self, key: Hashable, page: Page, generation: int) -> bool:
        """Whether a change since `generation` may alter this entry (when unsure: yes)."""
        if generation == self.generation:
            return False
        if self.generation - generation > len(self._recent):
            return True
        for seen, change in reversed(self._recent):
            if seen <= generation:
                break
            if self._affects(key, page, change):
                return True
        return False

    def get(self, key: Hashable) -> Page | None:
        page = self._entries.get(key)
        if page is None or not page.current():
            return None
        self._entries.move_to_end(key)
        return page

    def put(self, key: Hashable, page: Page, generation: int) -> None:
        """Keep `page`, rendered from data read after `generation` was taken."""
        if self._changed_since(key, page, generation):
            return
        self._entries[key] = page
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def fetch(self, key: Hashable, render: Callable[[], Awaitable[Page]]) -> Page:
        """The current entry for `key`, rendered (and kept) when there is none."""
        await changes.refresh()
        page = self.get(key)
        if page is None:
            generation = self.generation
            page = await render()
            self.put(key, page, generation)
        return page

    def __len__(self) -> int:
        return len(self._entries)


class RenderedLists(RenderedPages):
    """Rendered lists (pages, API answers) by any key, each dropped by the changes its
    `Page.depends_on` names. A change looks at every entry: keep `max_entries` modest.

    `group` and `per_group`: at most `per_group` entries share a `group(key)` (a council's
    many filtered and paged variants of one list), the least recently used of the group
    going first, so that one council's variants never push every other council out; a key
    whose group is None is not limited so."""

    def __init__(
        self,
        max_entries: int = 500,
        *,
        group: Callable[[Hashable], Hashable | None] | None = None,
        per_group: int = 0,
    ) -> None:
        super().__init__(max_entries)
        self._group = group
        self._per_group = per_group

    def put(self, key: Hashable, page: Page, generation: int) -> None:
        super().put(key, page, generation)
        if self._group is None or key not in self._entries:
            return
        wanted = self._group(key)
        if wanted is None:
            return
        same = [k for k in self._entries if self._group(k) == wanted]  # oldest first
        for old in same[: max(0, len(same) - self._per_group)]:
            del self._entries[old]

    def _forget(self, change: changes.Change) -> None:
        for key in [k for k, page in self._entries.items() if page.depends_on.dropped_by(change)]:
            del self._entries[key]

    def _affects(self, key: Hashable, page: Page, change: changes.Change | None) -> bool:
        return page.depends_on.dropped_by(change)
