"""Meetings: who sees them, how they are checked, scheduled, changed, published, cancelled.

Every rule about a meeting lives here; the pages and the JSON API only call these functions.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import uuid4

from piccolo.columns.combination import Where, WhereRaw
from piccolo.query.methods.select import Select

from conseils import audit, changes, events
from conseils.db import ids_in, locked, write_transaction
from conseils.errors import Conflict, Forbidden, InvalidInput
from conseils.timefmt import now_utc
from conseils.validation import require_moment, require_text, require_url
from conseils.viewer import FacilitatorView
from meetings.events import MeetingCancelled, MeetingChanged, MeetingPublished
from meetings.services import feed_clock, snapshots
from meetings.services.common import (
    KINDS,
    MAX_ID,
    PUBLIC_STATUSES,
    PUBLIC_STATUSES_SET,
    STATUSES,
    locked_row,
    not_found,
)
from meetings.services.registrations import promote
from meetings.tables import Council, Meeting

MAX_CAPACITY = 100_000
MAX_DURATION = timedelta(days=7)
MAX_DESCRIPTION = 10_000
MAX_CANCELLATION_REASON = 1000
# Changes to these fields are what an attendee cares about: each bumps the iCalendar SEQUENCE.
SEQUENCED_FIELDS = frozenset(
    {"starts_at", "ends_at", "venue", "address", "online_url", "status", "title"}
)
EDITABLE_FIELDS = (
    "kind", "title", "description", "starts_at", "ends_at", "venue", "address", "online_url",
    "capacity", "registration_opens_at", "registration_closes_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MeetingView:
    id: int
    council_id: int
    council_slug: str
    council_name: str
    kind: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online_url: str | None
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: str
    sequence: int
    created_at: datetime
    updated_at: datetime
    seats_taken: int = 0
    waitlist_length: int = 0
    cancellation_reason: str = ""

    @property
    def seats_left(self) -> int | None:
        """None: no limit. Read with the meeting, from the counter that enforces capacity."""
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def is_past(self) -> bool:
        return self.ends_at < now_utc()

    @property
    def takes_registrations(self) -> bool:
        """Published, and its registration window not over (it may not be open yet)."""
        closes = self.registration_closes_at or self.starts_at
        return self.status == "published" and now_utc() < min(closes, self.ends_at)


_VIEW_COLUMNS = (
    *(getattr(Meeting, name) for name in (
        "id", "kind", "title", "description", "starts_at", "ends_at", "venue", "address",
        "online_url", "capacity", "registration_opens_at", "registration_closes_at", "status",
        "sequence", "created_at", "updated_at", "seats_taken", "cancellation_reason",
    )),
    Meeting.council.as_alias("council_id"),
    Meeting.council.slug.as_alias("council_slug"),
    Meeting.council.name.as_alias("council_name"),
)  # fmt: skip


def _select_views() -> Select:
    return Meeting.select(*_VIEW_COLUMNS)


def _to_view(row: dict[str, Any], waiting: dict[int, int] | None = None) -> MeetingView:
    return MeetingView(**row, waitlist_length=(waiting or {}).get(row["id"], 0))


async def _waiting(meeting_ids: list[int]) -> dict[int, int]:
    """Waiting-list lengths of these meetings, in one grouped query."""
    if not meeting_ids:
        return {}
    clause, ids = ids_in("meeting", meeting_ids)
    rows = await Meeting.raw(
        "SELECT meeting, count(*) AS waiting FROM registration "  # noqa: S608
        f"WHERE status = 'waitlisted' AND {clause} GROUP BY meeting",
        ids,
    )
    return {row["meeting"]: row["waiting"] for row in rows}


def _visible_to(viewer: FacilitatorView | None) -> Where | WhereRaw | None:
    """Drafts are never public; a facilitator also sees their councils' drafts, an admin all."""
    if viewer is not None and viewer.is_admin:
        return None
    public = Meeting.status.is_in(list(PUBLIC_STATUSES))
    if viewer is None or not viewer.council_ids:
        return public
    return public | Meeting.council.is_in(list(viewer.council_ids))


def _and(conditions: list) -> Any:
    return functools.reduce(operator.and_, conditions)


# ---------------------------------------------------------------- reading


async def get_meeting(meeting_id: int, viewer: FacilitatorView | None = None) -> MeetingView:
    if not 1 <= meeting_id <= MAX_ID:
        raise not_found()
    conditions = [Meeting.id == meeting_id]
    visibility = _visible_to(viewer)
    if visibility is not None:
        conditions.append(visibility)
    row = await _select_views().where(_and(conditions)).first()
    if row is None:
        raise not_found()
    return _to_view(row, await _waiting([row["id"]]))


async def get_own_meeting(viewer: FacilitatorView, meeting_id: int) -> MeetingView:
    """A meeting of a council this facilitator runs (an admin: any); any other is "not
    found" for them, public or not, so that the back-office shows nothing of it."""
    meeting = await get_meeting(meeting_id, viewer)
    if not viewer.may_write(meeting.council_id):
        raise not_found()
    return meeting


FacilitatorSection = Literal["upcoming", "drafts", "past"]


async def of_my_councils(
    viewer: FacilitatorView,
    section: FacilitatorSection,
    *,
    council_id: int | None = None,
    limit: int = 100,
) -> list[MeetingView]:
    """The meetings of the councils this facilitator runs (an admin: all), in one query
    (and one for the waiting lists): `upcoming` (published or cancelled, not over, soonest
    first), `drafts` (soonest first) or `past` (published or cancelled, newest first)."""
    conditions: list = []
    if not viewer.is_admin:
        if not viewer.council_ids:
            return []
        conditions.append(Meeting.council.is_in(sorted(viewer.council_ids)))
    if council_id is not None:
        conditions.append(Meeting.council == council_id)
    now = now_utc()
    if section == "drafts":
        conditions.append(Meeting.status == "draft")
    else:
        conditions.append(Meeting.status.is_in(list(PUBLIC_STATUSES)))
        upcoming = section == "upcoming"
        conditions.append(Meeting.ends_at >= now if upcoming else Meeting.ends_at < now)
    query = (
        _select_views()
        .where(_and(conditions))
        .order_by(Meeting.starts_at, ascending=section != "past")
        .order_by(Meeting.id)
        .limit(limit)
    )
    rows = await query
    waiting = await _waiting([row["id"] for row in rows]) if section == "upcoming" else {}
    return [_to_view(row, waiting) for row in rows]


async def list_meetings(
    *,
    viewer: FacilitatorView | None = None,
    council: str | None = None,
    council_ids: frozenset[int] | None = None,
    kind: str | None = None,
    status: str | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    ends_after: datetime | None = None,
    ends_before: datetime | None = None,
    newest_first: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[MeetingView], int]:
    """A page of the meetings this viewer may see, and how many match in all
    (`council_ids`: only those councils', as a feed's or an agenda's scope resolves them)."""
    errors: dict[str, str] = {}
    if kind is not None and kind not in KINDS:
        errors["kind"] = f"doit valoir {' ou '.join(KINDS)}"
    if status is not None and status not in STATUSES:
        errors["status"] = f"doit valoir {', '.join(STATUSES)}"
    if council is not None and (
        "\x00" in council or not await Council.exists().where(Council.slug == council)
    ):
        errors["council"] = "conseil inconnu"
    if errors:
        raise InvalidInput(errors)
    if council_ids is not None and not council_ids:
        return [], 0
    conditions: list = []
    visibility = _visible_to(viewer)
    if visibility is not None:
        conditions.append(visibility)
    if council is not None:
        conditions.append(Meeting.council.slug == council)
    if council_ids is not None:
        conditions.append(Meeting.council.is_in(sorted(council_ids)))
    if kind is not None:
        conditions.append(Meeting.kind == kind)
    if status is not None:
        conditions.append(Meeting.status == status)
    for column, op, value in (
        (Meeting.starts_at, operator.ge, starts_from),
        (Meeting.starts_at, operator.lt, starts_before),
        (Meeting.ends_at, operator.ge, ends_after),
        (Meeting.ends_at, operator.lt, ends_before),
    ):
        if value is not None:
            conditions.append(op(column, value))
    query = _select_views()
    count = Meeting.count()
    if conditions:
        query = query.where(_and(conditions))
        count = count.where(_and(conditions))
    query = query.order_by(Meeting.starts_at, ascending=not newest_first).order_by(Meeting.id)
    rows = await query.limit(limit).offset(offset)
    waiting = await _waiting([row["id"] for row in rows])
    return [_to_view(row, waiting) for row in rows], await count


async def upcoming(
    *,
    council: str | None = None,
    council_ids: frozenset[int] | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> list[MeetingView]:
    """Published or cancelled meetings not yet over, soonest first: what residents look for."""
    items, _ = await list_meetings(
        council=council, council_ids=council_ids, kind=kind, ends_after=now_utc(), limit=limit
    )
    return items


async def past(*, council: str, limit: int = 20) -> list[MeetingView]:
    items, _ = await list_meetings(
        council=council, ends_before=now_utc(), newest_first=True, limit=limit
    )
    return items


# ---------------------------------------------------------------- checking


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check each given field on its own; collect every error before refusing."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def check(name: str, fn: Any) -> None:
        if name not in fields:
            return
        try:
            cleaned[name] = fn(fields[name])
        except InvalidInput as exc:
            errors.update(exc.errors)

    def kind(value: str) -> str:
        if value not in KINDS:
            raise InvalidInput({"kind": f"doit valoir {' ou '.join(KINDS)}"})
        return value

    def optional_moment(name: str) -> Any:
        return lambda value: None if value is None else require_moment(name, value)

    def capacity(value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_CAPACITY:
            raise InvalidInput({"capacity": f"doit être entre 1 et {MAX_CAPACITY}, ou null"})
        return value

    def online_url(value: str | None) -> str | None:
        return require_url("online_url", value) if value and value.strip() else None

    check("kind", kind)
    check("title", lambda v: require_text("title", v, max_length=200))
    check(
        "description",
        lambda v: require_text(
            "description", v, max_length=MAX_DESCRIPTION, required=False, multiline=True
        ),
    )
    check("starts_at", lambda v: require_moment("starts_at", v))
    check("ends_at", lambda v: require_moment("ends_at", v))
    check("venue", lambda v: require_text("venue", v, max_length=200, required=False))
    check("address", lambda v: require_text("address", v, max_length=300, required=False))
    check("online_url", online_url)
    check("capacity", capacity)
    check("registration_opens_at", optional_moment("registration_opens_at"))
    check("registration_closes_at", optional_moment("registration_closes_at"))
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _check_whole(meeting: dict[str, Any]) -> None:
    """Rules across fields, checked on the meeting as it would be after the change."""
    errors: dict[str, str] = {}
    starts, ends = meeting["starts_at"], meeting["ends_at"]
    if ends <= starts:
        errors["ends_at"] = "doit être après le début (starts_at)"
    elif ends - starts > MAX_DURATION:
        errors["ends_at"] = "une réunion ne peut pas durer plus de 7 jours"
    if not meeting["address"] and not meeting["online_url"]:
        errors["address"] = "indiquez une adresse ou un lien de visioconférence (online_url)"
    opens, closes = meeting["registration_opens_at"], meeting["registration_closes_at"]
    if opens is not None and opens >= ends:
        errors["registration_opens_at"] = "doit être avant la fin de la réunion"
    if closes is not None and closes > ends:
        errors["registration_closes_at"] = "doit être au plus tard à la fin de la réunion"
    if opens is not None and closes is not None and closes <= opens:
        errors["registration_closes_at"] = "doit être après l'ouverture des inscriptions"
    if errors:
        raise InvalidInput(errors)


def _check_start(starts_at: datetime) -> None:
    """A meeting is scheduled, or moved, to a moment still to come."""
    if starts_at <= now_utc():
        raise InvalidInput({"starts_at": "ne peut pas être dans le passé"})


def _check_capacity(capacity: int | None, seats_taken: int) -> None:
    """Nobody loses a seat they hold: the capacity stays at or above the seats taken (the
    row is locked, so the count cannot grow meanwhile)."""
    if capacity is not None and capacity < seats_taken:
        places = "place prise" if seats_taken == 1 else "places prises"
        raise InvalidInput(
            {
                "capacity": f"ne peut pas être inférieure aux inscriptions confirmées : "
                f"déjà {seats_taken} {places}"
            }
        )


def _require_writer(viewer: FacilitatorView, council_id: int) -> None:
    if not viewer.may_write(council_id):
        raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")


# ---------------------------------------------------------------- writing

_DEFAULTS: dict[str, Any] = {
    "description": "", "venue": "", "address": "", "online_url": None, "capacity": None,
    "registration_opens_at": None, "registration_closes_at": None,
}  # fmt: skip
MAX_IDEMPOTENCY_KEY = 100


async def create_meeting(
    viewer: FacilitatorView, fields: dict[str, Any], *, idempotency_key: str | None = None
) -> tuple[MeetingView, bool]:
    """Schedule a draft meeting. Returns (meeting, created).

    With an idempotency key, a repeated request (a double click, a retry after a timeout)
    returns the meeting the first one created instead of a second meeting.
    """
    errors: dict[str, str] = {}
    for required in ("council", "kind", "title", "starts_at", "ends_at"):
        if fields.get(required) is None:
            errors[required] = "champ obligatoire"
    if idempotency_key is not None and not (
        0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY and idempotency_key.isprintable()
    ):
        errors["Idempotency-Key"] = f"1 à {MAX_IDEMPOTENCY_KEY} caractères imprimables"
    if errors:
        raise InvalidInput(errors)
    cleaned = {**_DEFAULTS, **_clean_fields({k: v for k, v in fields.items() if k != "council"})}
    council = (
        None  # PostgreSQL refuses NUL in a query parameter; no slug holds one
        if "\x00" in fields["council"]
        else await Council.select(Council.id).where(Council.slug == fields["council"]).first()
    )
    if council is None:
        raise InvalidInput({"council": "conseil inconnu"})
    _check_whole(cleaned)
    _check_start(cleaned["starts_at"])
    _require_writer(viewer, council["id"])
    key = f"{viewer.id}:{idempotency_key}" if idempotency_key else None
    async with write_transaction():
        # One creation at a time per council, so that no duplicate slips past the check
        # below; a concurrent retry with the same key for another council meets the unique
        # key instead (ON CONFLICT DO NOTHING, then the first meeting is returned).
        await locked(Council.select(Council.id).where(Council.id == council["id"]), "NO KEY UPDATE")
        if key is not None:
            existing = await Meeting.select(Meeting.id).where(Meeting.created_by_key == key).first()
            if existing is not None:
                return await get_meeting(existing["id"], viewer), False
        duplicate = await Meeting.exists().where(
            (Meeting.council == council["id"])
            & (Meeting.starts_at == cleaned["starts_at"])
            & (Meeting.title == cleaned["title"])
            & (Meeting.status != "cancelled")
        )
        if duplicate:
            raise Conflict(
                "Ce conseil a déjà une réunion de ce titre à cette heure.", code="duplicate_meeting"
            )
        now = now_utc()
        inserted = (
            await Meeting.insert(
                Meeting(
                    council=council["id"],
                    status="draft",
                    sequence=0,
                    created_at=now,
                    updated_at=now,
                    created_by_key=key,
                    uid=str(uuid4()),
                    **cleaned,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Meeting.id)
        )
        if not inserted:  # the same key, committed meanwhile by a retry for another council
            existing = await Meeting.select(Meeting.id).where(Meeting.created_by_key == key).first()
            return await get_meeting(existing["id"], viewer), False
        await audit.record(
            viewer, "meeting.create", "meeting", inserted[0]["id"], council_id=council["id"]
        )
    return await get_meeting(inserted[0]["id"], viewer), True


async def _apply(viewer: FacilitatorView, meeting_id: int, change: Any, action: str) -> MeetingView:
    """Lock the meeting, let `change(row)` return the new values, bump SEQUENCE, save, tell
    whoever listens (the events of the change, in its transaction), and log `action` in the
    audit log (a change that changes nothing logs nothing)."""
    async with write_transaction():
        row = await locked_row(meeting_id)
        if row["status"] == "draft" and not viewer.may_write(row["council"]):
            raise not_found()
        _require_writer(viewer, row["council"])
        new_values = change(row)
        changed = {k: v for k, v in new_values.items() if row[k] != v}
        if changed:
            changed["updated_at"] = now_utc()
            if SEQUENCED_FIELDS & changed.keys():
                changed["sequence"] = row["sequence"] + 1
            await Meeting.update(changed).where(Meeting.id == meeting_id)
            statuses = {row["status"], changed.get("status", row["status"])}
            await _announce(row, public=bool(PUBLIC_STATUSES_SET & statuses))
            if "capacity" in changed or changed.get("status") == "published":
                await promote(meeting_id)
            await _emit_change(row)
            fields = sorted(set(changed) - {"updated_at", "sequence", "cancelled_at"})
            await audit.record(
                viewer,
                action,
                "meeting",
                meeting_id,
                council_id=row["council"],
                detail=",".join(fields),
            )
    return await get_meeting(meeting_id, viewer)


async def _emit_change(before: dict[str, Any]) -> None:
    """The event a saved change calls for, if any: a draft published, a published meeting
    cancelled, or changed in what attendees care about (its SEQUENCE grew). A draft's edits
    concern nobody."""
    after = await snapshots.snapshot(before["id"])
    if after is None or before["status"] not in ("draft", "published"):
        return
    if before["status"] == "draft":
        if after.status == "published":
            await events.emit(MeetingPublished(after))
    elif after.status == "cancelled":
        await events.emit(MeetingCancelled(after))
    elif after.sequence != before["sequence"]:
        was = replace(after, **{name: before[name] for name in _SNAPSHOT_OF_ROW})
        await events.emit(MeetingChanged(before=was, meeting=after))


# The snapshot's fields that the meeting's own row holds (the rest is its council's).
_SNAPSHOT_OF_ROW = (
    "kind", "title", "description", "starts_at", "ends_at", "venue", "address", "online_url",
    "status", "sequence", "updated_at", "cancelled_at", "cancellation_reason",
)  # fmt: skip


async def _announce(row: dict[str, Any], *, public: bool) -> None:
    """Inside the write transaction: tell every process's caches (this one's once it
    commits), and move the feed clock when the change shows in public feeds (the meeting
    was or becomes public)."""
    await changes.meeting_changed(row["id"], row["council"])
    if public:
        await feed_clock.advance(row["council"])


async def update_meeting(
    viewer: FacilitatorView, meeting_id: int, fields: dict[str, Any]
) -> MeetingView:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput({name: "ce champ ne peut pas être modifié" for name in sorted(unknown)})
    cleaned = _clean_fields(fields)

    def change(row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] == "cancelled":
            raise Conflict("Une réunion annulée ne se modifie plus.", code="meeting_cancelled")
        _check_whole({**row, **cleaned})
        if "starts_at" in cleaned and cleaned["starts_at"] != row["starts_at"]:
            _check_start(cleaned["starts_at"])
        if "capacity" in cleaned and cleaned["capacity"] != row["capacity"]:
            _check_capacity(cleaned["capacity"], row["seats_taken"])
        return cleaned

    return await _apply(viewer, meeting_id, change, "meeting.update")


async def publish_meeting(viewer: FacilitatorView, meeting_id: int) -> MeetingView:
    """Draft to published; publishing again is harmless (a double click)."""

    def change(row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] == "cancelled":
            raise Conflict(
                "Une réunion annulée ne peut pas être publiée.", code="meeting_cancelled"
            )
        return {"status": "published"}

    return await _apply(viewer, meeting_id, change, "meeting.publish")


async def cancel_meeting(
    viewer: FacilitatorView, meeting_id: int, reason: str | None = None
) -> MeetingView:
    """Cancel: the meeting stays visible, marked cancelled, with the reason given (shown on
    its page and told in the cancellation email); cancelling twice is harmless."""
    reason = require_text(
        "reason", reason or "", max_length=MAX_CANCELLATION_REASON, required=False, multiline=True
    )

    def change(row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] == "cancelled":
            return {}
        return {"status": "cancelled", "cancelled_at": now_utc(), "cancellation_reason": reason}

    return await _apply(viewer, meeting_id, change, "meeting.cancel")


async def delete_meeting(viewer: FacilitatorView, meeting_id: int) -> None:
    """Delete a meeting. A draft: by its council's facilitators. A public meeting: by an
    administrator only (a mistake, an abuse), since calendar apps keep a vanished event;
    cancelling is the normal way. The feeds' Last-Modified still moves forward."""
    async with write_transaction():
        row = await locked_row(meeting_id)
        if row["status"] == "draft" and not viewer.may_write(row["council"]):
            raise not_found()
        _require_writer(viewer, row["council"])
        public = row["status"] in PUBLIC_STATUSES_SET
        if public and not viewer.is_admin:
            raise Forbidden(
                "Une réunion publiée s'annule ; seul un administrateur peut la supprimer.",
                code="cancel_instead",
            )
        if row["status"] == "published":
            # Those who were told of it are told it will not happen (a CANCEL for their
            # calendars), as if it had been cancelled, before it disappears.
            await Meeting.update(
                {Meeting.status: "cancelled", Meeting.sequence: row["sequence"] + 1}
            ).where(Meeting.id == meeting_id)
            await _emit_change(row)
        await Meeting.delete().where(Meeting.id == meeting_id)
        await _announce(row, public=public)
        await audit.record(
            viewer, "meeting.delete", "meeting", meeting_id, council_id=row["council"],
            detail=row["status"],
        )  # fmt: skip
