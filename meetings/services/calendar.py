"""Calendar feeds: what a feed holds, how a meeting becomes a VEVENT, and why it stays fast.

Rules (one place each):
- A feed holds the published meetings of its scope (all councils, one council, the councils
  of a quartier plus the agglomeration-wide one; optionally one kind), past ones included,
  and cancelled ones for `CANCELLED_KEPT` after their cancellation, with STATUS:CANCELLED,
  so that calendar apps remove them instead of keeping a ghost.
- Nothing in a feed comes from the clock: DTSTAMP and LAST-MODIFIED are the meeting's
  `updated_at`, the feed's Last-Modified is the feed clock (`feed_clock`); the same data
  always gives the same bytes, hence the same ETag in every process.

Speed: each process keeps every rendered VEVENT (reused while neither the meeting's
`updated_at` nor its notes' `changed_at` moved) and every assembled feed (with its compressed
copies, `conseils.web.compression`). A feed keeps its events in order, in segments that end
at events chosen by their id alone (`_cuts`): the same events make the same segments in every
process. A change notice (`conseils.changes`) drops that meeting's VEVENT and marks it pending
in the feeds whose councils it touches; the next request re-reads only the pending rows,
moves those events between segments and re-joins and re-hashes only the segments touched.
The body is sent segment after segment, never joined; the ETag hashes the head's and the
segments' digests. Rendering and joining run in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from conseils import changes, ical, urls
from conseils.db import ids_in
from conseils.errors import InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.web.compression import Compressed
from meetings.events import MeetingSnapshot
from meetings.services.common import KIND_LABELS, KINDS, MAX_ID, not_found
from meetings.services.snapshots import ID, UPDATED_AT, public_tuples
from meetings.slots import CALENDAR_NOTES, CalendarNote
from meetings.tables import Council, CouncilQuartier, Quartier

TZID = "Europe/Paris"
ZONE = ZoneInfo(TZID)
CANCELLED_KEPT = timedelta(days=90)
REFRESH = "PT1H"
PRODID = "-//Conseils citoyens//Organiseur des conseils citoyens 1.0//FR"
SITE_NAME = "Conseils citoyens"
MAX_FEEDS = 256
KIND_PLURALS = {"council": "Réunions du conseil", "cafe": "Cafés citoyens"}  # not label + "s"


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which meetings a feed holds, and how it presents itself."""

    key: tuple[str | None, str | None, str | None]  # council slug, kind, quartier slug
    council_ids: frozenset[int] | None  # None: every council
    kind: str | None
    name: str
    description: str
    page_url: str
    feed_url: str
    filename: str

    def holds(self, council_id: int, kind: str) -> bool:
        in_councils = self.council_ids is None or council_id in self.council_ids
        return in_councils and (self.kind is None or kind == self.kind)


@dataclass(frozen=True, slots=True)
class CalendarDocument:
    """A finished .ics body, its compressed copies (made once, when first asked for: a cached
    feed is compressed once per version) and the validators HTTP needs. A feed's body is
    kept in parts (its head, its segments, its end), sent one after the other: a change
    re-joins one segment, never the whole body."""

    parts: tuple[bytes, ...]
    etag: str
    last_modified: datetime
    filename: str
    copies: Compressed = field(init=False, repr=False, compare=False)
    # Answers' headers built once for this version (`meetings.controllers.feeds`): a
    # calendar app asks every few minutes, and nearly always gets a 304.
    answers: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "copies", Compressed(self.parts))
        object.__setattr__(self, "answers", {})

    @property
    def body(self) -> bytes:
        return self.copies.body


# ---------------------------------------------------------------- scopes


def _kind_or_error(kind: str | None) -> str | None:
    if kind is None or kind == "":
        return None
    if kind not in KINDS:
        raise InvalidInput({"type": f"doit valoir {' ou '.join(('cafe', 'council'))}"})
    return kind


async def resolve_scope(
    council: str | None = None, kind: str | None = None, quartier: str | None = None
) -> FeedScope:
    """The scope named by a feed URL; unknown slugs are 404, unknown kinds 400."""
    kind = _kind_or_error(kind)
    council_row = quartier_row = None
    if council is not None:
        council_row = (
            None
            if "\x00" in council
            else await Council.select(Council.id, Council.name, Council.slug)
            .where(Council.slug == council)
            .first()
        )
        if council_row is None:
            raise NotFound("Ce conseil citoyen n'existe pas.", code="council_not_found")
    if quartier:
        quartier_row = (
            None
            if "\x00" in quartier
            else await Quartier.select(Quartier.id, Quartier.name, Quartier.commune, Quartier.slug)
            .where(Quartier.slug == quartier)
            .first()
        )
        if quartier_row is None:
            raise NotFound("Ce quartier n'existe pas.", code="quartier_not_found")

    council_ids: frozenset[int] | None = None
    if council_row is not None:
        council_ids = frozenset({council_row["id"]})
    if quartier_row is not None:
        linked = await CouncilQuartier.select(CouncilQuartier.council).where(
            CouncilQuartier.quartier == quartier_row["id"]
        )
        wide = await Council.select(Council.id).where(Council.agglomeration_wide.eq(True))
        serving = frozenset(r["council"] for r in linked) | frozenset(r["id"] for r in wide)
        council_ids = serving if council_ids is None else council_ids & serving

    name = council_row["name"] if council_row else SITE_NAME
    if kind is not None:
        name = f"{name} — {KIND_PLURALS[kind]}"
    if quartier_row is not None:
        name = f"{name} — {quartier_row['name']} ({quartier_row['commune']})"
    page_url = urls.council_url(council_row["slug"]) if council_row else urls.home_url()
    slug_part = council_row["slug"] if council_row else "conseils-citoyens"
    filename = "-".join(p for p in (slug_part, kind, quartier_row and quartier_row["slug"]) if p)
    return FeedScope(
        key=(council, kind, quartier or None),
        council_ids=council_ids,
        kind=kind,
        name=name,
        description=f"Réunions et cafés citoyens : {name}. Mis à jour automatiquement.",
        page_url=page_url,
        feed_url=urls.feed_url(council_row["slug"] if council_row else None, kind, quartier),
        filename=f"{filename}.ics",
    )


# ---------------------------------------------------------------- one event


@dataclass(frozen=True, slots=True)
class Event:
    """A rendered VEVENT and what a feed needs to place it."""

    id: int
    council_id: int
    kind: str
    status: str
    order: tuple[datetime, int]
    year: int  # of its start, in local time: the feed's VTIMEZONE spans these
    leaves_at: datetime | None  # when a cancelled meeting leaves the feeds
    updated_at: datetime
    block: bytes


def _description(
    meeting: MeetingSnapshot, page: str, place: str, notes: Sequence[CalendarNote] = ()
) -> str:
    own = meeting.description.strip()
    parts = [own] if own else []
    if meeting.status == "cancelled":
        parts.insert(0, "Cette réunion est annulée.")
    parts += [f"{note.title} :\n" + "\n".join(note.lines) for note in notes if note.lines]
    details = [f"Organisé par : {meeting.council_name}"]
    if place:
        details.append(f"Lieu : {place}")
    if meeting.online_url:
        details.append(f"En ligne : {meeting.online_url}")
    details.append(f"Page de la réunion : {page}")
    if meeting.status != "cancelled":
        details.append(f"Inscription : {page}#inscription")
    parts.append("\n".join(details))
    return "\n\n".join(parts)


def _summary(kind: str, title: str) -> str:
    """The kind, then the title, unless the title already begins with the kind."""
    label = KIND_LABELS.get(kind, kind)
    return title if title.casefold().startswith(label.casefold()) else f"{label} : {title}"


_council_lines: dict[tuple[str, str, str], tuple[str, str]] = {}  # a few per council


def _categories_and_organizer(kind: str, council_name: str, email: str) -> tuple[str, str]:
    """CATEGORIES and ORGANIZER, the same for every meeting of a kind and council."""
    key = (kind, council_name, email)
    found = _council_lines.get(key)
    if found is None:
        if len(_council_lines) > 4096:  # councils renamed many times: start again
            _council_lines.clear()
        esc = ical.escape_text
        label = KIND_LABELS.get(kind, kind)
        found = _council_lines[key] = (
            f"CATEGORIES:{esc(label)},{esc(council_name)}",
            f"ORGANIZER;CN={ical.param_value(council_name)}:mailto:{email}",
        )
    return found


def _modified(updated_at: datetime, notes: Sequence[CalendarNote]) -> datetime:
    """When the event last changed: the meeting, or what other apps add to it."""
    if not notes:
        return updated_at
    return max([updated_at, *(note.changed_at for note in notes)])


def render_event(meeting: MeetingSnapshot, notes: Sequence[CalendarNote] = ()) -> Event:
    """One meeting as a VEVENT: every value from the snapshot and the notes other apps add
    (an agenda), none from the clock. A note moves LAST-MODIFIED, never SEQUENCE."""
    cancelled = meeting.status == "cancelled"
    page = urls.meeting_url(meeting.id)
    summary = _summary(meeting.kind, meeting.title)
    if cancelled:
        summary = f"Annulé — {summary}"
    esc = ical.escape_text
    modified = _modified(meeting.updated_at, notes)
    stamp = ical.utc_stamp(modified)
    place = meeting.place
    categories, organizer = _categories_and_organizer(
        meeting.kind, meeting.council_name, meeting.contact_email
    )
    content = [
        "BEGIN:VEVENT",
        f"UID:{esc(meeting.uid or 'reunion-' + str(meeting.id))}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{ical.utc_stamp(meeting.created_at)}",
        f"LAST-MODIFIED:{stamp}",
        f"SEQUENCE:{meeting.sequence}",
        ical.zoned_value("DTSTART", meeting.starts_at, ZONE),
        ical.zoned_value("DTEND", meeting.ends_at, ZONE),
        f"SUMMARY:{esc(summary)}",
        f"LOCATION:{esc(place or meeting.online_url or '')}",
        f"DESCRIPTION:{esc(_description(meeting, page, place, notes))}",
        f"URL;VALUE=URI:{page}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        categories,
        organizer,
        "CLASS:PUBLIC",
        f"TRANSP:{'TRANSPARENT' if cancelled else 'OPAQUE'}",
    ]
    if meeting.online_url:
        content.append(f"CONFERENCE;VALUE=URI;FEATURE=VIDEO:{meeting.online_url}")
    content.append("END:VEVENT")
    leaves_at = None
    if cancelled:
        leaves_at = (meeting.cancelled_at or meeting.updated_at) + CANCELLED_KEPT
    return Event(
        id=meeting.id,
        council_id=meeting.council_id,
        kind=meeting.kind,
        status=meeting.status,
        order=(meeting.starts_at, meeting.id),
        year=meeting.starts_at.astimezone(ZONE).year,
        leaves_at=leaves_at,
        updated_at=modified,
        block=ical.lines(*content),
    )


def _head(
    name: str, description: str, page_url: str, feed_url: str, years: tuple[int, int]
) -> bytes:
    return b"".join(
        [
            b"BEGIN:VCALENDAR\r\n",
            ical.prop("VERSION", "2.0"),
            ical.text("PRODID", PRODID),
            ical.prop("CALSCALE", "GREGORIAN"),
            ical.prop("METHOD", "PUBLISH"),
            ical.text("NAME", name),
            ical.text("X-WR-CALNAME", name),
            ical.text("DESCRIPTION", description),
            ical.text("X-WR-CALDESC", description),
            ical.text("X-WR-TIMEZONE", TZID),
            ical.prop("REFRESH-INTERVAL", REFRESH, value="DURATION"),
            ical.prop("X-PUBLISHED-TTL", REFRESH),
            ical.prop("URL", page_url, value="URI"),
            ical.prop("SOURCE", feed_url, value="URI"),
            ical.vtimezone(TZID, *years),
        ]
    )


TAIL = b"END:VCALENDAR\r\n"


def _calendar(
    name: str, description: str, page_url: str, feed_url: str, events: list[Event]
) -> bytes:
    if events:
        years = (min(e.year for e in events), max(e.year for e in events))
    else:
        years = ical.years_of([now_utc()])
    head = _head(name, description, page_url, feed_url, years)
    return b"".join([head, *(e.block for e in events), TAIL])


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _whole_second(moment: datetime) -> datetime:
    """HTTP dates count seconds: round up, so a client never holds a date before a change."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.astimezone(UTC)


# ---------------------------------------------------------------- a feed's events, in order

SEGMENT = 512  # events per segment, on average


def _cuts(event_id: int) -> bool:
    """Whether a segment ends after this event. A property of the event alone, so that the
    same events always fall into the same segments, hence give the same ETag, in every
    process and whatever the order of the changes that led there (the ids are mixed so that
    a run of consecutive ids still spreads)."""
    return ((event_id * 0x9E3779B1) & 0xFFFFFFFF) < (1 << 32) // SEGMENT


class _Segment:
    """A run of consecutive events of a feed, joined once per change of one of them."""

    __slots__ = ("digest", "events", "joined", "latest", "leaves_next", "years")

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.joined: bytes | None = None  # None: to be joined again

    def join(self) -> None:
        events = self.events
        self.joined = b"".join([e.block for e in events])
        self.digest = hashlib.blake2b(self.joined, digest_size=16).digest()
        self.latest = max(e.updated_at for e in events)
        self.years = (min(e.year for e in events), max(e.year for e in events))
        self.leaves_next = min(
            (e.leaves_at for e in events if e.leaves_at is not None), default=None
        )


class _Ordered:
    """A feed's events in their order (start, id), in segments that end at the events that
    `_cuts`: a change re-joins and re-hashes one segment, not the whole feed."""

    def __init__(self, events: list[Event]) -> None:
        events = sorted(events, key=_order)
        self.segments: list[_Segment] = []
        start = 0
        for index, event in enumerate(events):
            if _cuts(event.id):
                self.segments.append(_Segment(events[start : index + 1]))
                start = index + 1
        if start < len(events):
            self.segments.append(_Segment(events[start:]))
        self._index()

    def _index(self) -> None:
        self.lasts = [segment.events[-1].order for segment in self.segments]

    def _segment_of(self, order: tuple[datetime, int]) -> int:
        """The segment that holds (or would hold) an event of this order."""
        return min(bisect.bisect_left(self.lasts, order), len(self.segments) - 1)

    def remove(self, event: Event) -> None:
        at = self._segment_of(event.order)
        segment = self.segments[at]
        index = bisect.bisect_left(segment.events, event.order, key=_order)
        del segment.events[index]  # the caller removes only what it holds
        segment.joined = None
        if not segment.events:
            del self.segments[at]
        elif _cuts(event.id) and at + 1 < len(self.segments):  # no cut here now: merge
            segment.events += self.segments.pop(at + 1).events
        self._index()

    def add(self, event: Event) -> None:
        if not self.segments:
            self.segments.append(_Segment([event]))
            self._index()
            return
        at = self._segment_of(event.order)
        segment = self.segments[at]
        index = bisect.bisect_left(segment.events, event.order, key=_order)
        segment.events.insert(index, event)
        segment.joined = None
        if index > 0 and _cuts(segment.events[index - 1].id):  # after the final segment's cut
            at, index = at + 1, 0
            segment = _Segment(self.segments[at - 1].events[-1:])
            del self.segments[at - 1].events[-1:]
            self.segments.insert(at, segment)
        if _cuts(event.id) and index + 1 < len(segment.events):  # a new cut: split
            self.segments.insert(at + 1, _Segment(segment.events[index + 1 :]))
            del segment.events[index + 1 :]
        self._index()

    def joined(self) -> list[_Segment]:
        """The segments, each joined (only those that changed are joined again)."""
        for segment in self.segments:
            if segment.joined is None:
                segment.join()
        return self.segments


def _order(event: Event) -> tuple[datetime, int]:
    return event.order


# ---------------------------------------------------------------- caches


class _Events:
    """Rendered VEVENTs by meeting id, shared by every feed of this process."""

    def __init__(self) -> None:
        self.by_id: dict[int, Event] = {}

    def drop(self, change: changes.Change | None) -> None:
        if change is None:
            self.by_id.clear()
        elif change.of_a_meeting:
            self.by_id.pop(change.meeting_id, None)


@dataclass
class _Feed:
    scope: FeedScope
    members: dict[int, Event] = field(default_factory=dict)
    ordered: _Ordered = field(default_factory=lambda: _Ordered([]))
    pending: dict[int, int] = field(default_factory=dict)  # meeting id -> notice number
    notices: int = 0
    resets: int = 0  # "forget everything" notices: the next update reloads the whole scope
    complete: bool = False  # members reflect the database, apart from `pending`
    aged_out_at: datetime | None = None  # the latest departure of a cancelled meeting
    leaves_next: datetime | None = None  # the next one: the feed changes then by itself
    document: CalendarDocument | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def notice(self, meeting_id: int | None) -> None:
        self.notices += 1
        if meeting_id is None:
            self.resets += 1
            self.complete = False
        else:
            self.pending[meeting_id] = self.notices

    def current(self, now: datetime) -> bool:
        return (
            self.document is not None
            and self.complete
            and not self.pending
            and (self.leaves_next is None or now < self.leaves_next)
        )


class _Feeds:
    def __init__(self) -> None:
        self.by_key: OrderedDict[tuple, _Feed] = OrderedDict()
        self.forgotten = 0  # "forget everything" notices: a scope resolved across one is not kept

    def drop(self, change: changes.Change | None) -> None:
        if change is not None and not change.of_a_meeting:
            return  # feeds show no seat counts, nor what features show beside a meeting
        if change is None:
            # Forget the scopes too: a council renamed, or given other quartiers, changes a
            # feed's name and the councils it spans (a request holding one still reloads).
            self.forgotten += 1
            for feed in self.by_key.values():
                feed.notice(None)
            self.by_key.clear()
            return
        for feed in self.by_key.values():
            if feed.scope.council_ids is None or change.council_id in feed.scope.council_ids:
                feed.notice(change.meeting_id)

    def get(self, key: tuple) -> _Feed | None:
        feed = self.by_key.get(key)
        if feed is not None:
            self.by_key.move_to_end(key)
        return feed

    def add(self, scope: FeedScope, forgotten: int) -> _Feed:
        """The feed of `scope`, kept unless everything was forgotten since it was read."""
        if forgotten != self.forgotten:
            return _Feed(scope)
        feed = self.by_key.setdefault(scope.key, _Feed(scope))
        while len(self.by_key) > MAX_FEEDS:
            self.by_key.popitem(last=False)
        return feed


_events = _Events()
_feeds = _Feeds()
_documents: OrderedDict[int, CalendarDocument] = OrderedDict()  # one meeting's .ics
MAX_DOCUMENTS = 5000
changes.subscribe(_events.drop)
changes.subscribe(_feeds.drop)
changes.subscribe(
    lambda change: (
        _documents.clear()
        if change is None
        else None
        if not change.of_a_meeting
        else _documents.pop(change.meeting_id, None)
    )
)


_dropped = 0  # meeting changes seen: a .ics built across one is not kept


def _count_drop(change: changes.Change | None) -> None:
    global _dropped
    if change is None or change.of_a_meeting:
        _dropped += 1


def _generation() -> int:
    return _dropped


changes.subscribe(_count_drop)


# ---------------------------------------------------------------- reading


def _scope_where(scope: FeedScope) -> tuple[str, list[Any]]:
    clauses, args = ["1 = 1"], []
    if scope.council_ids is not None:
        clause, ids = ids_in("m.council", sorted(scope.council_ids))
        clauses.append(clause)
        args.append(ids)
    if scope.kind is not None:
        clauses.append("m.kind = {}")
        args.append(scope.kind)
    return " AND ".join(clauses), args


async def _clock(council_ids: frozenset[int] | None) -> datetime | None:
    query = Council.select(Council.calendar_changed_at)
    if council_ids is not None:
        if not council_ids:
            return None
        query = query.where(Council.id.is_in(sorted(council_ids)))
    moments = [r["calendar_changed_at"] for r in await query if r["calendar_changed_at"]]
    return max(moments, default=None)


async def _notes(rows: list[tuple[Any, ...]]) -> dict[int, list[CalendarNote]]:
    """What other apps add to these meetings' events: one call per contributor for all."""
    return await CALENDAR_NOTES.collect([row[ID] for row in rows])


def _events_for(rows: list[tuple[Any, ...]], notes: dict[int, list[CalendarNote]]) -> list[Event]:
    """Events for rows of `public_tuples`, reusing what is cached when neither the meeting
    nor its notes changed since (a change to a council itself forgets them all)."""
    found = []
    by_id = _events.by_id
    for row in rows:
        cached = by_id.get(row[ID])
        mine = notes.get(row[ID], ())
        if cached is None or cached.updated_at != _modified(row[UPDATED_AT], mine):
            cached = by_id[row[ID]] = render_event(MeetingSnapshot(*row), mine)
        found.append(cached)
    return found


def _assemble(feed: _Feed, clock: datetime | None) -> tuple[CalendarDocument, datetime | None]:
    """The feed's document, joining again only the segments that changed; and when it next
    changes by itself (a cancelled meeting leaving). Its ETag hashes the head and each
    segment's digest: the same bytes always give the same tag, without hashing them all."""
    segments = feed.ordered.joined()
    if segments:
        years = (min(s.years[0] for s in segments), max(s.years[1] for s in segments))
    else:
        years = ical.years_of([now_utc()])
    scope = feed.scope
    head = _head(scope.name, scope.description, scope.page_url, scope.feed_url, years)
    parts = (head, *(s.joined for s in segments), TAIL)
    digests = [hashlib.blake2b(head, digest_size=16).digest(), *(s.digest for s in segments)]
    etag = '"' + hashlib.blake2b(b"".join(digests), digest_size=16).hexdigest() + '"'
    moments = [m for m in (clock, feed.aged_out_at) if m is not None]
    moments += [s.latest for s in segments]
    last_modified = _whole_second(max(moments, default=datetime(2000, 1, 1, tzinfo=UTC)))
    leaves_next = min((s.leaves_next for s in segments if s.leaves_next is not None), default=None)
    return CalendarDocument(parts, etag, last_modified, scope.filename), leaves_next


async def _in_thread(function: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(function, *args)


async def feed(
    council: str | None = None, kind: str | None = None, quartier: str | None = None
) -> CalendarDocument:
    """The feed for these filters, from cache when nothing in it changed."""
    await changes.refresh()
    key = (council, _kind_or_error(kind), quartier or None)
    cached = _feeds.get(key)
    if cached is None:
        forgotten = _feeds.forgotten
        cached = _feeds.add(await resolve_scope(council, kind, quartier), forgotten)
    now = now_utc()
    if cached.current(now):
        return cached.document  # type: ignore[return-value]
    async with cached.lock:  # one rebuild at a time; the others then find it done
        if not cached.current(now):
            await _update(cached, now)
        return cached.document  # type: ignore[return-value]


async def _update(feed: _Feed, now: datetime) -> None:
    resets, pending = feed.resets, dict(feed.pending)
    if feed.leaves_next is not None and feed.leaves_next <= now:
        feed.complete = False  # a cancelled meeting's 90 days are over: it leaves
    where, args = _scope_where(feed.scope)
    reload = not feed.complete
    if reload:
        rows = await public_tuples(where, *args)
        events = await _in_thread(_events_for, rows, await _notes(rows))
        members = {e.id: e for e in events if e.leaves_at is None or e.leaves_at > now}
        departed = [e.leaves_at for e in events if e.leaves_at is not None and e.leaves_at <= now]
        feed.members, feed.aged_out_at = members, max(departed, default=None)
        feed.ordered = await _in_thread(_Ordered, list(members.values()))
    else:
        ids = sorted(pending)
        clause, id_arg = ids_in("m.id", ids)
        rows = await public_tuples(f"{where} AND {clause}", *args, id_arg)
        found = {event.id: event for event in _events_for(rows, await _notes(rows))}
        for meeting_id in ids:
            old = feed.members.pop(meeting_id, None)
            if old is not None:
                feed.ordered.remove(old)
            event = found.get(meeting_id)
            if event is None:
                continue  # deleted, back to draft, or out of this feed's scope
            if event.leaves_at is not None and event.leaves_at <= now:
                feed.aged_out_at = max(filter(None, (feed.aged_out_at, event.leaves_at)))
                continue
            feed.members[meeting_id] = event
            feed.ordered.add(event)
    clock = await _clock(feed.scope.council_ids)
    feed.document, feed.leaves_next = await _in_thread(_assemble, feed, clock)
    # What was noticed while reading stays pending; a reset noticed meanwhile means reload.
    for meeting_id, number in pending.items():
        if feed.pending.get(meeting_id) == number:
            del feed.pending[meeting_id]
    if reload and feed.resets == resets:
        feed.complete = True


async def meeting_document(meeting_id: int) -> CalendarDocument:
    """One public meeting as an .ics (with its STATUS:CANCELLED however old)."""
    await changes.refresh()
    cached = _documents.get(meeting_id)
    if cached is not None:
        return cached
    if not 1 <= meeting_id <= MAX_ID:
        raise not_found()
    generation = _generation()
    rows = await public_tuples("m.id = {}", meeting_id)
    if not rows:
        raise not_found()
    event = _events_for(rows, await _notes(rows))[0]
    meeting = MeetingSnapshot(*rows[0])
    body = _calendar(
        meeting.title,
        f"{KIND_LABELS.get(meeting.kind, meeting.kind)} — {meeting.council_name}",
        urls.meeting_url(meeting_id),
        urls.meeting_calendar_url(meeting_id),
        [event],
    )
    clock = await _clock(frozenset({meeting.council_id}))
    moments = [m for m in (clock, event.updated_at) if m is not None]
    document = CalendarDocument(
        (body,), _etag(body), _whole_second(max(moments)), f"reunion-{meeting_id}.ics"
    )
    if generation == _generation():
        _documents[meeting_id] = document
        while len(_documents) > MAX_DOCUMENTS:
            _documents.popitem(last=False)
    return document


async def personal_document(
    meeting_ids: list[int],
    feed_url: str,
    description: str = "La réunion à laquelle vous êtes inscrit·e. Mis à jour automatiquement.",
) -> CalendarDocument:
    """A resident's own feed: the meetings they hold a seat at (a registration's feed, from
    its manage page, or an address's, from its personal-data page; no account needed).
    Small: built on each request from cached events."""
    await changes.refresh()
    rows = await public_tuples(*ids_in("m.id", (i for i in meeting_ids if 1 <= i <= MAX_ID)))
    events = sorted(_events_for(rows, await _notes(rows)), key=lambda e: e.order)
    body = _calendar(
        "Mes réunions — conseils citoyens", description, urls.home_url(), feed_url, events
    )
    clock = await _clock(frozenset(e.council_id for e in events))
    moments = [m for m in (clock, *(e.updated_at for e in events)) if m is not None]
    last_modified = _whole_second(max(moments, default=datetime(2000, 1, 1, tzinfo=UTC)))
    return CalendarDocument((body,), _etag(body), last_modified, "mes-reunions.ics")
