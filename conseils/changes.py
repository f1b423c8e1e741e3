"""Change notices between server processes, so that per-process caches are never stale.

Every write that changes something a cached page, list or feed shows calls `changed(kind,
object_id, council_id)` inside its transaction (`meeting_changed()` and `council_changed()`
for meetings, their seats and councils). That appends a row to the `MeetingChange` log, sends
a notice that every process receives at commit (never on rollback), and drops this
process's cached copies once the transaction has committed (so no concurrent request
re-caches pre-commit data). Caches `subscribe()` a function that drops what they hold for a
change, and call `await refresh()` before trusting an entry:

- PostgreSQL with a live LISTEN connection: notices arrive by themselves; `refresh()` costs
  nothing.
- SQLite: `PRAGMA data_version` on one long-lived connection changes whenever any other
  connection commits; only then is the log read. The pragma takes SQLite's shared-memory
  read locks (a tenth of a cached page's cost), so it is asked at most once every
  `LOOK_EVERY_S` while nothing changes: another process's commit is seen within a
  millisecond, about as soon as PostgreSQL delivers a notice. This process's own commits
  drop its caches at once, whatever the engine.
- PostgreSQL with the LISTEN connection lost: the log is read on every `refresh()`, and the
  connection is re-opened at most every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from conseils import db
from conseils.complaints import Complaints
from conseils.tables import MeetingChange
from conseils.timefmt import now_utc

CHANNEL = "conseils_changes"
LOG_KEPT = timedelta(days=2)
PRUNE_EVERY = 100  # writes between two prunings of the log, in each process
_writes = 0
RECONNECT_EVERY_S = 5.0
LOOK_EVERY_S = 0.001  # SQLite: the longest another process's commit may go unseen
MAX_RECONNECT_S = 60.0
log = logging.getLogger("conseils.changes")
_complaints = Complaints(log, every_s=60.0)
_failed_attempts = 0


# Kinds of change. A feature adds its own (a short word: "proposal", "support", "minutes").
MEETING = "meeting"  # a meeting itself (created, changed, published, cancelled, deleted)
SEATS = "seats"  # a meeting's registrations: its seat count and waiting list
COUNCIL = "council"  # a council itself or a quartier: every cache forgets everything
MAX_KIND = 32


@dataclass(frozen=True, slots=True)
class Change:
    meeting_id: int  # the meeting whose page shows what changed (0: none)
    council_id: int
    seats_only: bool = False  # registrations changed, not the meeting (feeds ignore these)
    kind: str = MEETING
    object_id: int = 0  # the changed object among those of its kind (a meeting: its id)

    @property
    def of_a_meeting(self) -> bool:
        """The meeting itself changed (what the calendar feeds show), not its seats nor
        anything shown beside it."""
        return self.kind == MEETING and self.meeting_id != COUNCIL_ITSELF


Subscriber = Callable[[Change | None], None]  # None: forget everything

# The `meeting_id` of a change to a council itself (its name, slug, contact address,
# quartiers) or to a quartier: no meeting has id 0. Every process then forgets everything it
# cached, since any page or feed may show the council's name (an admin's rare edit).
COUNCIL_ITSELF = 0
# The `council_id` of a change that concerns every council's pages (a document all councils
# share): no council has id 0.
EVERY_COUNCIL = 0

_subscribers: list[Subscriber] = []
_close_listener: Callable[[], Awaitable[None]] | None = None
_last_attempt = 0.0
_watcher: db.CommitCounter | None = None
_seen_data_version: int | None = None
_last_look = -1.0  # when the pragma last showed nothing new (time.monotonic())
_last_seen_id: int | None = None
_poll_lock = asyncio.Lock()


def subscribe(drop: Subscriber) -> None:
    _subscribers.append(drop)


def _dispatch(change: Change | None) -> None:
    if change is not None and (
        change.kind == COUNCIL or (change.kind == MEETING and change.meeting_id == COUNCIL_ITSELF)
    ):
        change = None
    for drop in _subscribers:
        drop(change)


def _change(
    meeting_id: int, council_id: int, seats_only: bool, kind: str, object_id: int
) -> Change:
    """A change as the log or a notice tells it; rows from before `kind` read as meetings'."""
    if kind == MEETING and seats_only:
        kind = SEATS  # written before the kind was
    if kind in (MEETING, SEATS) and not object_id:
        object_id = meeting_id
    return Change(meeting_id, council_id, kind == SEATS, kind, object_id)


async def changed(kind: str, object_id: int, council_id: int, *, meeting_id: int = 0) -> None:
    """Announce that an object changed (created, changed or deleted), inside the write
    transaction, so a rollback says nothing: its `kind` (`MEETING`, `SEATS`, `COUNCIL` or a
    feature's own word), its id among those of its kind, the council it belongs to, and the
    meeting whose page shows it if any (the minutes of a meeting: that meeting's page).

    Every process's caches then drop what depends on it (`conseils.web.page_cache`); this
    process's once the transaction commits, without waiting for its own notice (which the
    next request could otherwise overtake)."""
    global _writes
    if not kind or len(kind) > MAX_KIND or ":" in kind:
        raise ValueError(f"a change's kind is a short word, not {kind!r}")
    db.require_transaction("a change notice")
    seats_only = kind == SEATS
    now = now_utc()
    _writes += 1
    if _writes % PRUNE_EVERY == 1:
        # Prune, but keep the newest row: SQLite would otherwise restart ids from 1 after an
        # idle spell, and a reader would take new changes for ones it had already seen.
        await MeetingChange.raw(
            "DELETE FROM meeting_change WHERE changed_at < {} "
            "AND id < (SELECT max(id) FROM meeting_change)",
            now - LOG_KEPT,
        )
    await MeetingChange.insert(
        MeetingChange(
            meeting_id=meeting_id,
            council_id=council_id,
            seats_only=seats_only,
            changed_at=now,
            kind=kind,
            object_id=object_id,
        )
    )
    await db.notify(
        CHANNEL,
        f"{meeting_id}:{council_id}:{'seats' if seats_only else ''}:{kind}:{object_id}",
    )
    change = _change(meeting_id, council_id, seats_only, kind, object_id)
    db.on_commit(lambda: _dispatch(change))


async def meeting_changed(meeting_id: int, council_id: int, *, seats_only: bool = False) -> None:
    """Announce a change to a meeting; inside the write transaction, so a rollback says
    nothing. `seats_only`: registrations changed, not the meeting (the feeds ignore it)."""
    await changed(SEATS if seats_only else MEETING, meeting_id, council_id, meeting_id=meeting_id)


async def council_changed(council_id: int) -> None:
    """Announce a change to a council itself, or to a quartier (`council_id` 0), inside the
    write transaction: every process forgets its cached pages and feeds once it commits."""
    await changed(COUNCIL, council_id, council_id)


def _parse(payload: str) -> Change | None:
    meeting, council, flag, kind, object_id = [*payload.split(":"), "", "", "", ""][:5]
    if meeting.isdigit() and council.isdigit():
        return _change(
            int(meeting),
            int(council),
            flag == "seats",
            kind or MEETING,
            int(object_id) if object_id.isdigit() else 0,
        )
    return None


def _on_notice(payload: str) -> None:
    _dispatch(_parse(payload))


def _on_lost() -> None:
    global _close_listener
    log.warning("change listener lost: reading the change log until it is back")
    _close_listener = None


def listening() -> bool:
    return _close_listener is not None


async def _poll_log() -> None:
    """Dispatch what the log holds past the last change seen; drop everything on a gap."""
    global _last_seen_id
    async with _poll_lock:
        bounds = await MeetingChange.raw(
            "SELECT min(id) AS first, max(id) AS last FROM meeting_change"
        )
        first, last = bounds[0]["first"] or 0, bounds[0]["last"] or 0
        seen = _last_seen_id
        if seen is None:
            _last_seen_id = last
            return
        if last < seen or first > seen + 1:
            # Emptied, restarted or pruned past what we saw: no way to know what changed.
            _dispatch(None)
            _last_seen_id = last
            return
        if last == seen:
            return
        rows = await MeetingChange.raw(
            "SELECT id, meeting_id, council_id, seats_only, kind, object_id "
            "FROM meeting_change WHERE id > {} ORDER BY id",
            seen,
        )
        for row in rows:
            _dispatch(
                _change(
                    row["meeting_id"],
                    row["council_id"],
                    bool(row["seats_only"]),
                    row["kind"],
                    row["object_id"],
                )
            )
        _last_seen_id = max(seen, rows[-1]["id"]) if rows else seen


async def refresh() -> None:
    """Make this process's caches reflect every committed change; cheap when none happened."""
    global _seen_data_version, _last_attempt, _watcher, _last_look
    if listening():
        return
    # A watcher exists on SQLite only: a cache hit then skips finding the engine (which
    # reads the environment and Piccolo's configuration each time).
    if _watcher is not None or not db.notices_supported():
        now = time.monotonic()
        if now - _last_look < LOOK_EVERY_S:
            return
        if _watcher is None:
            _watcher = db.commit_counter()
        version = _watcher.value()
        if version == _seen_data_version:
            # Only "nothing new" is trusted for a while: while the log is being read below,
            # other requests look again rather than serve what it is about to drop.
            _last_look = now
            return
        await _poll_log()
        _seen_data_version = version  # read before polling: a later commit changes it again
        return
    if time.monotonic() - _last_attempt > _reconnect_delay() and _listener_wanted:
        _last_attempt = time.monotonic()
        await _relisten()
    await _poll_log()


def _reconnect_delay() -> float:
    """5 s after the loss, doubling with each failed attempt up to a minute."""
    return min(RECONNECT_EVERY_S * 2**_failed_attempts, MAX_RECONNECT_S)


async def _relisten() -> None:
    """Try to listen again; an outage is said once a minute, and retried later."""
    global _failed_attempts
    try:
        await _listen()
    except Exception as exc:
        kind = db.outage(exc)
        if kind is None:
            raise
        _failed_attempts += 1
        _complaints.complain(kind, "change listener still down (%s): %s", kind, exc)
    else:
        _failed_attempts = 0
        log.warning("change listener back")


_listener_wanted = False


async def _listen() -> None:
    global _close_listener
    _close_listener = await db.listen(CHANNEL, _on_notice, _on_lost)
    # Whatever was committed before LISTEN began is in the log.
    await _poll_log()


async def start_listening() -> None:
    """Called once the app's pool is up; on SQLite only marks the log's current end."""
    global _listener_wanted, _last_attempt
    await _poll_log()
    if db.notices_supported():
        _listener_wanted = True
        _last_attempt = time.monotonic()
        await _listen()


def reset() -> None:
    """Forget every cache and where the log was read (the tests empty tables between runs)."""
    global _last_seen_id, _seen_data_version, _last_look
    _last_seen_id, _seen_data_version, _last_look = None, None, -1.0
    _dispatch(None)


async def stop_listening() -> None:
    global _close_listener, _listener_wanted, _watcher, _seen_data_version, _last_look
    _listener_wanted = False
    _last_look = -1.0
    close, _close_listener = _close_listener, None
    if close is not None:
        await close()
    if _watcher is not None:
        _watcher.close()
        _watcher, _seen_data_version = None, None
    _dispatch(None)
