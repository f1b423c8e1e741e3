"""A meeting's registrants as its facilitators see and manage them: the list, attendance,
walk-ins, cancelling or removing a registration (the back-office and the API alike).

Every function takes the viewer and checks, in one place (`meeting_for`), that they run the
meeting's council: 404 for an unknown meeting or another council's draft, 403 for another
council's public meeting. The residents' side (signing up, the waiting list, erasure) is
`meetings.services.registrations`, whose rules these functions go through.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conseils import audit, changes, events
from conseils.db import ids_in, write_transaction
from conseils.errors import Conflict, Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.events import (
    RegistrationConfirmed,
    RegistrationDeleted,
)
from meetings.services import registrations
from meetings.services.common import MAX_ID, locked_row, not_found
from meetings.tables import Meeting, Registration


@dataclass(frozen=True, slots=True)
class RegistrationView:
    """A registration as its facilitators see it (personal data: never public)."""

    id: int
    meeting_id: int
    name: str
    email: str
    phone: str
    attending_as: str
    needs: str
    status: str
    position: int | None
    attended: bool | None
    created_at: datetime
    cancelled_at: datetime | None
    walk_in: bool = False  # came without registering, added by a facilitator


@dataclass(frozen=True, slots=True)
class MeetingHead:
    """A meeting as the head of its registrants' pages shows it (drafts included)."""

    id: int
    council_id: int
    council_name: str
    kind: str
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online_url: str | None
    capacity: int | None
    seats_taken: int

    @property
    def place(self) -> str:
        return ", ".join(part for part in (self.venue, self.address) if part)


_HEAD_COLUMNS = (
    Meeting.id, Meeting.council.as_alias("council_id"),
    Meeting.council.name.as_alias("council_name"), Meeting.kind, Meeting.title, Meeting.status,
    Meeting.starts_at, Meeting.ends_at, Meeting.venue, Meeting.address, Meeting.online_url,
    Meeting.capacity, Meeting.seats_taken,
)  # fmt: skip


async def meeting_for(viewer: FacilitatorView, meeting_id: int) -> MeetingHead:
    """The meeting, if the viewer runs its council: 404 for an unknown id (or another
    council's draft), 403 for another council's public meeting. One query."""
    if not 1 <= meeting_id <= MAX_ID:
        raise not_found()
    row = await Meeting.select(*_HEAD_COLUMNS).where(Meeting.id == meeting_id).first()
    if row is None or (row["status"] == "draft" and not viewer.may_write(row["council_id"])):
        raise not_found()
    if not viewer.may_write(row["council_id"]):
        raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")
    return MeetingHead(**row)


async def _meeting_for(viewer: FacilitatorView, meeting_id: int) -> dict[str, Any]:
    head = await meeting_for(viewer, meeting_id)
    return {"id": head.id, "council": head.council_id, "status": head.status}


_VIEW_COLUMNS = (
    Registration.id, Registration.name, Registration.email, Registration.phone,
    Registration.attending_as, Registration.needs, Registration.status, Registration.attended,
    Registration.created_at, Registration.cancelled_at, Registration.walk_in,
)  # fmt: skip


async def _views(meeting_id: int) -> list[RegistrationView]:
    """What facilitators see of each registration, in arrival order (only the columns they
    see: the page of a meeting with 500 people reads them all)."""
    rows = await (
        Registration.select(*_VIEW_COLUMNS)
        .where(Registration.meeting == meeting_id)
        .order_by(Registration.arrival)
    )
    views, waiting = [], 0
    for row in rows:
        position = None
        if row["status"] == "waitlisted":
            waiting += 1
            position = waiting
        views.append(
            RegistrationView(
                id=row["id"],
                meeting_id=meeting_id,
                name=row["name"],
                email=row["email"],
                phone=row["phone"],
                attending_as=row["attending_as"],
                needs=row["needs"],
                status=row["status"],
                position=position,
                attended=row["attended"],
                created_at=row["created_at"],
                cancelled_at=row["cancelled_at"],
                walk_in=row["walk_in"],
            )
        )
    return views


async def list_registrations(viewer: FacilitatorView, meeting_id: int) -> list[RegistrationView]:
    """A meeting's registrations in arrival order, for its council's facilitators only."""
    await meeting_for(viewer, meeting_id)
    return await _views(meeting_id)


async def registrants_of(
    viewer: FacilitatorView, meeting_id: int
) -> tuple[MeetingHead, list[RegistrationView]]:
    """The meeting and its registrations (the back-office's page): two queries, however
    many registrants."""
    head = await meeting_for(viewer, meeting_id)
    return head, await _views(meeting_id)


async def _registration_for(
    viewer: FacilitatorView, registration_id: int, meeting_id: int | None = None
) -> dict[str, Any]:
    """A registration of a meeting the viewer runs (404 otherwise, 403 another council's),
    with its meeting's council; of `meeting_id` when given (404 if of another meeting)."""
    missing = NotFound("Cette inscription n'existe pas.", code="registration_not_found")
    if not 1 <= registration_id <= MAX_ID:
        raise missing
    row = (
        await Registration.select(Registration.id, Registration.meeting)
        .where(Registration.id == registration_id)
        .first()
    )
    if row is None or (meeting_id is not None and row["meeting"] != meeting_id):
        raise missing
    meeting = await _meeting_for(viewer, row["meeting"])
    return {**row, "council": meeting["council"]}


async def view_of(viewer: FacilitatorView, registration_id: int) -> RegistrationView:
    row = await _registration_for(viewer, registration_id)
    views = await list_registrations(viewer, row["meeting"])
    return next(v for v in views if v.id == registration_id)


async def cancel_for(
    viewer: FacilitatorView,
    registration_id: int,
    *,
    spam: bool = False,
    meeting_id: int | None = None,
) -> RegistrationView:
    """A facilitator cancels a registration of their council (a resident who called, a
    robot's sign-ups): the waiting list moves up as for any cancellation, and the address
    gets the CANCEL, unless `spam` (then it hears nothing of it)."""
    row = await _registration_for(viewer, registration_id, meeting_id)
    async with write_transaction():
        await registrations.cancel_row(row, spam=spam)
        await audit.record(
            viewer,
            "registration.cancel_spam" if spam else "registration.cancel",
            "registration",
            registration_id,
            council_id=row["council"],
            detail=f"meeting={row['meeting']}",
        )
    return await view_of(viewer, registration_id)


async def delete_for(
    viewer: FacilitatorView,
    registration_id: int,
    *,
    spam: bool = False,
    meeting_id: int | None = None,
) -> None:
    """Cancel (as `cancel_for`), then delete the registration and what it held."""
    row = await _registration_for(viewer, registration_id, meeting_id)
    async with write_transaction():
        cancelled = await registrations.cancel_row(row, spam=spam)
        await events.emit(
            RegistrationDeleted(registrations.registrant_of(cancelled), told=not spam)
        )
        await Registration.delete().where(Registration.id == registration_id)
        await audit.record(
            viewer,
            "registration.delete_spam" if spam else "registration.delete",
            "registration",
            registration_id,
            council_id=row["council"],
            detail=f"meeting={row['meeting']}",
        )


async def mark_attendance(
    viewer: FacilitatorView, registration_id: int, attended: bool | None
) -> RegistrationView:
    row = await _registration_for(viewer, registration_id)
    async with write_transaction():
        await Registration.update({Registration.attended: attended}).where(
            Registration.id == registration_id
        )
        await audit.record(
            viewer,
            "registration.attendance",
            "registration",
            registration_id,
            council_id=row["council"],
            detail=f"meeting={row['meeting']} attended={attended}",
        )
    return await view_of(viewer, registration_id)


async def record_attendance(
    viewer: FacilitatorView,
    meeting_id: int,
    present: set[int],
    listed: set[int] | None = None,
) -> int:
    """Who came, in one go (the back-office's check-boxes): the registrations in `present`
    are marked present, the other active ones (confirmed or waiting) of `listed` (all of
    them when None: the form the facilitator saw) absent; cancelled ones are left alone.
    An id that is not an active registration of this meeting refuses the whole form and
    nothing changes. One transaction; returns how many are present."""
    head = await meeting_for(viewer, meeting_id)
    async with write_transaction():
        await locked_row(meeting_id)  # no sign-up or cancellation in between
        rows = await Registration.select(Registration.id, Registration.status).where(
            Registration.meeting == meeting_id
        )
        mine = {row["id"] for row in rows}
        active = {row["id"] for row in rows if row["status"] in registrations.ACTIVE}
        if not present <= active or (listed is not None and not listed <= mine):
            raise InvalidInput(
                {
                    "presences": "la liste ne correspond pas aux inscriptions de cette réunion "
                    "(rechargez la page)"
                }
            )
        absent = (active if listed is None else listed & active) - present
        for ids, attended in ((present, True), (absent, False)):
            if ids:
                where, values = ids_in("id", ids)
                await Registration.raw(
                    f"UPDATE registration SET attended = {{}} WHERE {where}",  # noqa: S608
                    attended,
                    values,
                )
        await audit.record(
            viewer,
            "meeting.attendance",
            "meeting",
            meeting_id,
            council_id=head.council_id,
            detail=f"present={len(present)} absent={len(absent)}",
        )
    return len(present)


WALK_IN_KEY = "{}:walk-in:{}"  # no address: a key no sign-up can have (":" is never in one)


def clean_walk_in(fields: dict[str, Any]) -> dict[str, Any]:
    """A walk-in's name and "vient en tant que" (required), and address (optional)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    name, email = fields.get("name"), fields.get("email")
    try:
        cleaned["name"] = require_text(
            "name", name if isinstance(name, str) else "", max_length=120
        )
    except InvalidInput as exc:
        errors.update(exc.errors)
    if fields.get("attending_as") not in registrations.ATTENDING_AS:
        errors["attending_as"] = "choisissez : habitant·e, association ou acteur local, autre"
    cleaned["attending_as"] = fields.get("attending_as")
    cleaned["email"] = ""
    if isinstance(email, str) and email.strip():
        try:
            cleaned["email"] = normalise_email(email)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return cleaned


async def add_walk_in(
    viewer: FacilitatorView, meeting_id: int, fields: dict[str, Any]
) -> tuple[RegistrationView, bool]:
    """Someone came without registering: the facilitator adds them, present. Rules:
    - they are confirmed and take a seat, even past the capacity (they are in the room;
      the waiting list is never jumped, since nobody is promoted by it);
    - without an address nobody is ever written to (no confirmation, change, reminder or
      message); with one, the address gets the usual confirmation (with its manage link)
      only while the meeting has not started: someone in the room needs no email;
    - an address already registered for the meeting is not registered twice: a confirmed
      registration is marked present; a waiting or cancelled one is confirmed and present.
    Published meetings only (a draft takes no one, a cancelled meeting has no room).
    Returns (the registration, whether a seat was taken)."""
    cleaned = clean_walk_in(fields)
    head = await meeting_for(viewer, meeting_id)
    async with write_transaction():
        meeting = await locked_row(meeting_id)
        if meeting["status"] != "published":
            raise Conflict(
                "Cette réunion est annulée."
                if meeting["status"] == "cancelled"
                else "Cette réunion n'est pas publiée : personne ne peut y être ajouté.",
                code="meeting_not_published",
            )
        email = cleaned["email"]
        existing = None
        if email:
            key = f"{meeting_id}:{email}"
            existing = await Registration.select().where(Registration.key == key).first()
        else:
            key = WALK_IN_KEY.format(meeting_id, secrets.token_hex(16))
        now = now_utc()
        seated = existing is None or existing["status"] != "confirmed"
        if not seated:
            await Registration.update({Registration.attended: True}).where(
                Registration.id == existing["id"]
            )
            registration_id = existing["id"]
        else:
            arrival = (
                await Meeting.raw(
                    "UPDATE meeting SET seats_taken = seats_taken + 1, arrivals = arrivals + 1 "
                    "WHERE id = {} RETURNING arrivals",
                    meeting_id,
                )
            )[0]["arrivals"]
            values: dict[str, Any] = {
                "name": cleaned["name"],
                "attending_as": cleaned["attending_as"],
                "status": "confirmed",
                "arrival": arrival,
                "confirmed_at": now,
                "cancelled_at": None,
                "attended": True,
            }
            if existing is not None:  # waiting, or cancelled earlier: their row, their links
                values["walk_in"] = existing["status"] == "cancelled"
                await Registration.update(values).where(Registration.id == existing["id"])
                row = {**existing, **values}
            else:
                values.update(
                    email=email,
                    phone="",
                    needs="",
                    walk_in=True,
                    token=secrets.token_urlsafe(32),
                    feed_token=secrets.token_urlsafe(32),
                    link_sent_at=now if email else None,
                    consent_at=now,  # given to the facilitator, who types it in
                    created_at=now,
                )
                inserted = await Registration.insert(
                    Registration(meeting=meeting_id, key=key, **values)
                ).returning(Registration.id)
                row = {"id": inserted[0]["id"], "meeting": meeting_id, "key": key, **values}
            registration_id = row["id"]
            if email and meeting["starts_at"] > now:
                await events.emit(
                    RegistrationConfirmed(
                        registrations.registrant_of(row),
                        await registrations.public_snapshot(meeting_id),
                    )
                )
            await changes.meeting_changed(meeting_id, meeting["council"], seats_only=True)
        await audit.record(
            viewer,
            "registration.walk_in",
            "registration",
            registration_id,
            council_id=head.council_id,
            detail=f"meeting={meeting_id} seat={int(seated)} email={int(bool(email))}",
        )
    views = await _views(meeting_id)
    return next(v for v in views if v.id == registration_id), seated
