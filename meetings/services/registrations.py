"""Registrations: residents sign up for a meeting, within its capacity or on its waiting list.

Rules, one place each:
- **Capacity is the database's**: a sign-up takes a seat with one conditional UPDATE
  (`seats_taken = seats_taken + 1 WHERE capacity IS NULL OR seats_taken < capacity`); the
  meeting row stays locked until commit (PostgreSQL row lock; SQLite BEGIN IMMEDIATE), so
  sign-ups of one meeting queue up and can never overbook it.
- **Arrival order**: each sign-up takes the meeting's next `arrivals` number under that same
  lock; the waiting list is served in that order.
- **Promotion**: when a confirmed person cancels, or the capacity grows, the first people on
  the waiting list are confirmed in the same transaction.
- **One sign-up per address**: the unique key "meeting:email" (case and spaces ignored); a
  second sign-up changes nothing and re-sends the manage link to the address, at most every
  `RESEND_LINK_AFTER`. **The manage link goes only to the address**: no answer to a sign-up
  tells whether the address was known, or carries a link (the callers answer "received").
- **Feeds are read-only**: a registration's calendar feed has a token of its own
  (`feed_token`), renewable from the manage page; it shows that registration's meeting and
  can neither cancel nor erase anything.
- **Erasure** (the person's right): a registration for a meeting still to come is
  cancelled first, quietly, through the one cancellation path (the waiting list moves up);
  then its name, address, phone and needs are erased and its tokens die, an anonymous row
  staying behind for the attendance figures.
- Every change emits its event (`meetings.events`) in its transaction; the emails it
  causes are the notifications app's business.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conseils import changes, events, urls
from conseils.db import write_transaction
from conseils.errors import Conflict, InvalidInput, NotFound
from conseils.personal_data import AccessLinkRequested
from conseils.timefmt import french_date, french_time, now_utc
from conseils.validation import normalise_email, require_text
from meetings.events import (
    MeetingSnapshot,
    Registrant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationDeleted,
    RegistrationLinkRequested,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from meetings.services import snapshots
from meetings.services.common import locked_row, not_found
from meetings.tables import Meeting, Registration

ATTENDING_AS = {
    "resident": "Habitant·e",
    "local_actor": "Association ou acteur local",
    "other": "Autre",
}
TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): 256 bits
MAX_NEEDS = 2000
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,30}$")
ACTIVE = ("confirmed", "waitlisted")
RETENTION = timedelta(days=365)  # after the meeting; the sign-up form says so
RESEND_LINK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SignUp:
    """A registration as its manage page shows it (reached through the manage link only)."""

    id: int
    meeting_id: int
    status: str
    position: int | None  # on the waiting list, from 1
    token: str
    name: str
    feed_token: str | None

    @property
    def manage_url(self) -> str:
        return urls.manage_url(self.token)


@dataclass(frozen=True, slots=True)
class Availability:
    capacity: int | None
    seats_taken: int
    waitlist_length: int

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)


# ---------------------------------------------------------------- checking


def clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Every field checked on its own; all errors reported at once, in French."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}

    def check(name: str, fn: Any) -> None:
        try:
            cleaned[name] = fn(fields.get(name))
        except InvalidInput as exc:
            errors.update(exc.errors)

    def text_field(name: str, max_length: int, required: bool, multiline: bool = False) -> Any:
        def fn(value: Any) -> str:
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise InvalidInput({name: "doit être du texte"})
            return require_text(
                name, value, max_length=max_length, required=required, multiline=multiline
            )

        return fn

    def email(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput({"email": "indiquez votre adresse électronique"})
        return normalise_email(value)

    def phone(value: Any) -> str:
        value = text_field("phone", 30, required=False)(value)
        if value and not _PHONE.match(value):
            raise InvalidInput({"phone": "numéro de téléphone invalide (chiffres, espaces, +)"})
        return value

    def attending_as(value: Any) -> str:
        if value not in ATTENDING_AS:
            raise InvalidInput(
                {"attending_as": "choisissez : habitant·e, association ou acteur local, autre"}
            )
        return value

    def consent(value: Any) -> bool:
        if value is not True:
            raise InvalidInput(
                {"consent": "votre accord est nécessaire pour enregistrer l'inscription"}
            )
        return True

    check("name", text_field("name", 120, required=True))
    check("email", email)
    check("phone", phone)
    check("attending_as", attending_as)
    check("needs", text_field("needs", MAX_NEEDS, required=False, multiline=True))
    check("consent", consent)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def refusal(meeting: dict[str, Any], now: datetime) -> Conflict | None:
    """Why this meeting takes no sign-up now, if it does not (a 409 with a reason code)."""
    if meeting["status"] == "cancelled":
        return Conflict("Cette réunion est annulée.", code="meeting_cancelled")
    if meeting["ends_at"] <= now:
        return Conflict("Cette réunion a déjà eu lieu.", code="meeting_past")
    opens, closes = meeting["registration_opens_at"], meeting["registration_closes_at"]
    if opens is not None and now < opens:
        return Conflict(
            "Les inscriptions ne sont pas encore ouvertes : elles ouvriront le "
            f"{french_date(opens)} à {french_time(opens)}.",
            code="registration_not_open",
        )
    if now >= (closes or meeting["starts_at"]):
        return Conflict("Les inscriptions sont closes.", code="registration_closed")
    return None


# ---------------------------------------------------------------- reading


async def _position(registration: dict[str, Any]) -> int | None:
    if registration["status"] != "waitlisted":
        return None
    ahead = await Registration.count().where(
        (Registration.meeting == registration["meeting"])
        & (Registration.status == "waitlisted")
        & (Registration.arrival < registration["arrival"])
    )
    return ahead + 1


async def _sign_up_of(row: dict[str, Any]) -> SignUp:
    position = await _position(row)
    return SignUp(
        row["id"],
        row["meeting"],
        row["status"],
        position,
        row["token"],
        row["name"],
        row["feed_token"],
    )


async def takes_registrations(meeting_id: int, now: datetime) -> bool:
    """Whether residents can sign up for this meeting now or once registration opens: what
    an announcement's "S'inscrire" depends on."""
    meeting = (
        await Meeting.select(
            Meeting.status,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.registration_opens_at,
            Meeting.registration_closes_at,
        )
        .where(Meeting.id == meeting_id)
        .first()
    )
    if meeting is None:
        return False
    why = refusal(meeting, now)
    return why is None or why.code == "registration_not_open"


async def availability(meeting_id: int) -> Availability:
    """Seats left and waiting list, read from the rows that enforce them."""
    meeting = (
        await Meeting.select(Meeting.capacity, Meeting.seats_taken)
        .where(Meeting.id == meeting_id)
        .first()
    )
    if meeting is None:
        raise not_found()
    waiting = await Registration.count().where(
        (Registration.meeting == meeting_id) & (Registration.status == "waitlisted")
    )
    return Availability(meeting["capacity"], meeting["seats_taken"], waiting)


def _well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", token) is not None


def _no_registration() -> NotFound:
    return NotFound("Ce lien d'inscription n'est pas valable.", code="registration_not_found")


def _no_feed() -> NotFound:
    return NotFound("Ce lien d'agenda n'est pas valable.", code="feed_not_found")


async def by_token(token: str) -> dict[str, Any]:
    """The registration of a manage link; the token is compared in constant time."""
    if not _well_formed(token):
        raise _no_registration()
    row = await Registration.select().where(Registration.token == token).first()
    if row is None or not secrets.compare_digest(row["token"], token):
        raise _no_registration()
    return row


async def sign_up_for_token(token: str) -> SignUp:
    return await _sign_up_of(await by_token(token))


async def feed_of(feed_token: str) -> list[int]:
    """The meeting of the registration whose feed this is, while it holds a seat (none
    once cancelled or still waiting). The feed token is compared in constant time."""
    if not _well_formed(feed_token):
        raise _no_feed()
    row = (
        await Registration.select(
            Registration.meeting, Registration.status, Registration.feed_token
        )
        .where(Registration.feed_token == feed_token)
        .first()
    )
    if row is None or not secrets.compare_digest(row["feed_token"], feed_token):
        raise _no_feed()
    return [row["meeting"]] if row["status"] == "confirmed" else []


async def renew_feed_token(token: str) -> str:
    """A new feed token for the registration of this manage link: the old feed URL stops
    working at once (it was shared, or pasted where it should not have been)."""
    row = await by_token(token)
    feed_token = secrets.token_urlsafe(32)
    await Registration.update({Registration.feed_token: feed_token}).where(
        Registration.id == row["id"]
    )
    return feed_token


# ---------------------------------------------------------------- writing


async def _locked_meeting(meeting_id: int) -> dict[str, Any]:
    """The public meeting's row, locked: sign-ups of one meeting queue up here."""
    meeting = await locked_row(meeting_id)
    if meeting["status"] == "draft":
        raise not_found()
    return meeting


async def _take_seat(meeting_id: int) -> tuple[bool, int]:
    """(confirmed, arrival number): a seat if one is free, else a place in the queue."""
    taken = await Meeting.raw(
        "UPDATE meeting SET seats_taken = seats_taken + 1, arrivals = arrivals + 1 "
        "WHERE id = {} AND (capacity IS NULL OR seats_taken < capacity) RETURNING arrivals",
        meeting_id,
    )
    if taken:
        return True, taken[0]["arrivals"]
    queued = await Meeting.raw(
        "UPDATE meeting SET arrivals = arrivals + 1 WHERE id = {} RETURNING arrivals", meeting_id
    )
    return False, queued[0]["arrivals"]


async def register(meeting_id: int, fields: dict[str, Any]) -> tuple[SignUp, bool]:
    """Sign up; returns (sign-up, created), for the service's own callers and tests only:
    what a sign-up answers over HTTP never depends on it (see the module's rules). A second
    sign-up of the address changes nothing and re-sends the manage link to the address."""
    cleaned = clean(fields)
    key = f"{meeting_id}:{cleaned['email']}"
    async with write_transaction():
        meeting = await _locked_meeting(meeting_id)
        # The window first, for everyone: a refusal that depended on the address being
        # registered would tell a stranger that it is.
        reason = refusal(meeting, now_utc())
        if reason is not None:
            raise reason
        existing = await Registration.select().where(Registration.key == key).first()
        if existing is not None and existing["status"] in ACTIVE:
            await _resend_link(existing)
            return await _sign_up_of(existing), False
        confirmed, arrival = await _take_seat(meeting_id)
        now = now_utc()
        values = {
            "email": cleaned["email"],
            "name": cleaned["name"],
            "phone": cleaned["phone"],
            "attending_as": cleaned["attending_as"],
            "needs": cleaned["needs"],
            "status": "confirmed" if confirmed else "waitlisted",
            "arrival": arrival,
            "token": secrets.token_urlsafe(32),
            "feed_token": secrets.token_urlsafe(32),
            "link_sent_at": now,  # the confirmation carries the manage link
            "consent_at": now,
            "created_at": now,
            "confirmed_at": now if confirmed else None,
            "cancelled_at": None,
            "attended": None,
        }
        if existing is not None:  # cancelled earlier: back at the end of the queue
            await Registration.update(values).where(Registration.id == existing["id"])
            row = {**existing, **values}
        else:
            inserted = await Registration.insert(
                Registration(meeting=meeting_id, key=key, **values)
            ).returning(Registration.id)
            row = {"id": inserted[0]["id"], "meeting": meeting_id, "key": key, **values}
        sign_up = await _sign_up_of(row)
        snapshot = await public_snapshot(meeting_id)
        if confirmed:
            await events.emit(RegistrationConfirmed(registrant_of(row), snapshot))
        else:
            await events.emit(
                RegistrationWaitlisted(registrant_of(row), snapshot, sign_up.position)
            )
        await changes.meeting_changed(meeting_id, meeting["council"], seats_only=True)
    return sign_up, True


async def _resend_link(row: dict[str, Any]) -> None:
    """The address signed up again: it gets its manage link by email, unless it got it less
    than `RESEND_LINK_AFTER` ago (the form must not become a way to flood a mailbox)."""
    now = now_utc()
    sent = row["link_sent_at"]
    if sent is not None and now - sent < RESEND_LINK_AFTER:
        return
    await Registration.update({Registration.link_sent_at: now}).where(Registration.id == row["id"])
    snapshot = await public_snapshot(row["meeting"])
    await events.emit(RegistrationLinkRequested(registrant_of(row), snapshot, await _position(row)))


async def cancel(token: str) -> SignUp:
    """Cancel by manage link; cancelling twice is harmless. A freed seat goes to the first
    person on the waiting list, in the same transaction."""
    row = await by_token(token)
    async with write_transaction():
        cancelled = await cancel_row(row, spam=False)
    return await _sign_up_of(cancelled)


async def cancel_row(found: dict[str, Any], *, spam: bool) -> dict[str, Any]:
    """Cancel a registration, inside the caller's write transaction; returns its row as it
    is now. `spam`: a facilitator's cleaning up, and the address gets no email about it."""
    meeting = await _locked_meeting(found["meeting"])
    row = await Registration.select().where(Registration.id == found["id"]).first()
    if row["status"] == "cancelled":
        return row
    now = now_utc()
    await Registration.update(
        {Registration.status: "cancelled", Registration.cancelled_at: now}
    ).where(Registration.id == row["id"])
    if row["status"] == "confirmed":
        await Meeting.raw(
            "UPDATE meeting SET seats_taken = seats_taken - 1 WHERE id = {}", row["meeting"]
        )
    cancelled = {**row, "status": "cancelled", "cancelled_at": now}
    await events.emit(
        RegistrationCancelled(
            registrant_of(cancelled),
            await public_snapshot(row["meeting"]),
            was_confirmed=row["status"] == "confirmed",
            spam=spam,
        )
    )
    await promote(row["meeting"])
    await changes.meeting_changed(meeting["id"], meeting["council"], seats_only=True)
    return cancelled


async def request_data_link(token: str) -> None:
    """The holder of this manage link asks for the personal-data link of the registration's
    address: it goes to that address by email (whoever handles the event sends it)."""
    row = await by_token(token)
    async with write_transaction():
        await events.emit(AccessLinkRequested(row["email"]))


async def erase(token: str) -> int:
    """Erase the registration of this manage link ("Supprimer mes données"); the link dies
    with it. Returns the meeting's id, for the confirmation page."""
    row = await by_token(token)
    async with write_transaction():
        await _erase(row)
    return row["meeting"]


async def erase_address(email: str) -> int:
    """Erase every registration of `email`, inside the caller's write transaction (the
    personal-data keeper's erase). Returns how many."""
    rows = await Registration.select().where(Registration.email == email)
    for row in rows:
        await _erase(row)
    return len(rows)


ERASED = "erased:{}"  # the key and manage token of an erased row: unique, and never a token


async def _erase(found: dict[str, Any]) -> None:
    """Cancel the registration if its meeting is still to come (quietly: the person asked
    for erasure and is not written to; the waiting list moves up as for any cancellation),
    then erase what identified the person, keeping an anonymous row for attendance figures.
    Inside the caller's write transaction."""
    meeting = await locked_row(found["meeting"])
    row = await Registration.select().where(Registration.id == found["id"]).first()
    if row["status"] in ACTIVE and meeting["ends_at"] > now_utc():
        row = await cancel_row(row, spam=True)
    await events.emit(RegistrationDeleted(registrant_of(row)))
    anonymous = ERASED.format(row["id"])
    await Registration.update(
        {
            Registration.email: "",
            Registration.name: "",
            Registration.phone: "",
            Registration.needs: "",
            Registration.key: anonymous,
            Registration.token: anonymous,
            Registration.feed_token: None,
        }
    ).where(Registration.id == row["id"])


async def export_address(email: str) -> list[dict[str, Any]]:
    """Every registration of `email`, every field but its capabilities (the manage and feed
    tokens, and the key they derive from), with its meeting's title, date and council."""
    rows = await (
        Registration.select(
            *Registration.all_columns(exclude=[Registration.token, Registration.feed_token]),
            Registration.meeting.title.as_alias("meeting_title"),
            Registration.meeting.starts_at.as_alias("meeting_starts_at"),
            Registration.meeting.council.name.as_alias("council"),
        )
        .where(Registration.email == email)
        .order_by(Registration.id)
    )
    records = []
    for row in rows:
        row.pop("key", None)
        row["meeting_id"] = row.pop("meeting")
        row["attending_as"] = ATTENDING_AS.get(row["attending_as"], row["attending_as"])
        records.append(row)
    return records


async def promote(meeting_id: int) -> int:
    """Confirm the first people of the waiting list while seats are free; inside the
    transaction that freed or added the seats. Returns how many were promoted."""
    meeting = (
        await Meeting.select(Meeting.capacity, Meeting.seats_taken, Meeting.status, Meeting.ends_at)
        .where(Meeting.id == meeting_id)
        .first()
    )
    if meeting is None or meeting["status"] != "published" or meeting["ends_at"] <= now_utc():
        return 0  # nobody is promoted to a meeting that is over
    free = None if meeting["capacity"] is None else meeting["capacity"] - meeting["seats_taken"]
    if free is not None and free <= 0:
        return 0
    query = (
        Registration.select()
        .where((Registration.meeting == meeting_id) & (Registration.status == "waitlisted"))
        .order_by(Registration.arrival)
    )
    if free is not None:
        query = query.limit(free)
    chosen = await query
    if not chosen:
        return 0
    now = now_utc()
    ids = [row["id"] for row in chosen]
    await Registration.update(
        {Registration.status: "confirmed", Registration.confirmed_at: now}
    ).where(Registration.id.is_in(ids))
    await Meeting.raw(
        "UPDATE meeting SET seats_taken = seats_taken + {} WHERE id = {}", len(ids), meeting_id
    )
    snapshot = await public_snapshot(meeting_id)
    for row in chosen:
        person = registrant_of({**row, "status": "confirmed"})
        await events.emit(RegistrationPromoted(person, snapshot))
    return len(ids)


def registrant_of(row: dict[str, Any]) -> Registrant:
    return Registrant(
        id=row["id"],
        meeting_id=row["meeting"],
        name=row["name"],
        email=row["email"],
        token=row["token"],
        arrival=row["arrival"],
        status=row["status"],
    )


async def public_snapshot(meeting_id: int) -> MeetingSnapshot:
    snapshot = await snapshots.snapshot(meeting_id)
    assert snapshot is not None, "registrations exist only for public meetings"
    return snapshot


async def active_registrants(meeting_id: int) -> list[Registrant]:
    """Who is confirmed or waiting for this meeting, in arrival order: those who hear of
    its changes as registrants."""
    rows = await (
        Registration.select()
        .where(
            (Registration.meeting == meeting_id)
            & Registration.status.is_in(list(ACTIVE))
            & (Registration.email != "")  # a walk-in who gave no address hears nothing
        )
        .order_by(Registration.arrival)
    )
    return [registrant_of(row) for row in rows]


async def due_for_reminder(now: datetime, until: datetime, limit: int = 5000) -> list[Registrant]:
    """Confirmed registrations of published meetings starting after `now` and by `until`."""
    rows = await (
        Registration.select()
        .where(
            (Registration.status == "confirmed")
            & (Registration.email != "")
            & (Registration.meeting.status == "published")
            & (Registration.meeting.starts_at > now)
            & (Registration.meeting.starts_at <= until)
        )
        .order_by(Registration.id)
        .limit(limit)
    )
    return [registrant_of(row) for row in rows]


async def purge_expired(now: datetime) -> int:
    """Registrations are kept a year after their meeting (as the sign-up form says), then
    deleted: names, addresses, phones and needs go with them."""
    ended = await Registration.raw(
        "DELETE FROM registration WHERE meeting IN "
        "(SELECT id FROM meeting WHERE ends_at < {}) RETURNING id",
        now - RETENTION,
    )
    return len(ended)
