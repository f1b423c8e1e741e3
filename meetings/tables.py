"""Piccolo tables of the meetings app. Columns only: the rules live in services/."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Quartier(Table):
    """A quartier prioritaire (QPV) of the politique de la ville."""

    name = Varchar(length=120)
    slug = Varchar(length=80, unique=True, index=True)
    commune = Varchar(length=120)


class Council(Table):
    """A conseil citoyen: attached to quartiers, or agglomeration-wide (no quartier)."""

    name = Varchar(length=160)
    slug = Varchar(length=80, unique=True, index=True)
    description = Text(default="")
    agglomeration_wide = Boolean(default=False)
    contact_email = Varchar(length=254)
    # The clock of this council's calendar feeds (their Last-Modified): moved forward, never
    # back, by every change to one of its public meetings, deletions included.
    calendar_changed_at = Timestamptz(null=True, default=None)


class CouncilQuartier(Table):
    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=False, index=True)
    quartier = ForeignKey(references=Quartier, on_delete=OnDelete.cascade, null=False)


class Meeting(Table):
    """A council meeting (kind "council") or a café citoyen (kind "cafe").

    `sequence` is the iCalendar SEQUENCE: it grows by one at each change an attendee cares
    about (time, place, status, title), so calendar apps apply the change. `uid` is the
    iCalendar UID, a UUID given at creation and never changed, so that calendar apps never
    see the same meeting twice whatever the host name or the row id becomes.
    """

    uid = Varchar(length=64, null=True, default=None)

    council = ForeignKey(references=Council, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=16, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    venue = Varchar(length=200, default="")
    address = Varchar(length=300, default="")
    online_url = Varchar(length=500, null=True, default=None)
    capacity = Integer(null=True, default=None)
    registration_opens_at = Timestamptz(null=True, default=None)
    registration_closes_at = Timestamptz(null=True, default=None)
    status = Varchar(length=16, default="draft", index=True)
    # Confirmed registrations, kept by the database: a sign-up takes a seat with
    # UPDATE ... SET seats_taken = seats_taken + 1 WHERE seats_taken < capacity.
    seats_taken = Integer(default=0)
    arrivals = Integer(default=0)  # sign-ups so far: each gets the next number (queue order)
    cancelled_at = Timestamptz(null=True, default=None)
    # Why it was cancelled, as the facilitator wrote it: on its page and in the email.
    cancellation_reason = Text(default="")
    sequence = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    created_by_key = Varchar(length=200, null=True, default=None, unique=True)


class Registration(Table):
    """A resident's sign-up for a meeting: confirmed, waitlisted (in arrival order: by id) or
    cancelled. No account: the manage link's token (256 random bits) is the credential; it is
    stored as is, because every later email (promotion, change, reminder) carries the link.
    `key` ("meeting id:email") makes a second sign-up of one address impossible."""

    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=300, unique=True)
    email = Varchar(length=254, index=True)
    name = Varchar(length=120)
    phone = Varchar(length=30, default="")
    attending_as = Varchar(length=20)
    needs = Text(default="")
    status = Varchar(length=16, index=True)
    arrival = Integer()  # the meeting's `arrivals` when this sign-up came: waiting-list order
    token = Varchar(length=64, unique=True)
    # The read-only capability of this registration's calendar feed: separate from `token`
    # (a feed URL pasted into an app or shared can never cancel or erase), renewable. Unique
    # by an index its migration makes (SQLite cannot add a UNIQUE column).
    feed_token = Varchar(length=64, null=True, default=None)
    # When the manage link last went out: a repeated sign-up re-sends it at most every
    # ten minutes, so the form cannot be used to flood someone's mailbox.
    link_sent_at = Timestamptz(null=True, default=None)
    consent_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    confirmed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    attended = Boolean(null=True, default=None)
    # Came without registering, added by a facilitator at the door: confirmed, holding a seat,
    # marked present. Without an address its `email` is "" and its `key` "<meeting>:walk-in:…".
    walk_in = Boolean(default=False)


class MeetingMessage(Table):
    """A message a facilitator sent to a meeting's registrants: `key` is the form's own (one
    per displayed form), so a double click or a reload sends nothing twice. Ids and counts
    only: the messages themselves are in the outbox."""

    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=100, unique=True)
    subject = Varchar(length=150)
    recipients = Integer(default=0)
    sent_by = Integer()  # the facilitator's id
    created_at = Timestamptz(default=TimestamptzNow())


class AddressFeed(Table):
    """The read-only calendar feed of every meeting an address holds a seat at, in every
    council ("toutes mes réunions"). Its token is given only on the personal-data page,
    reached from a link emailed to the address; renewing it kills the old URL."""

    email = Varchar(length=254, unique=True)
    token = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
