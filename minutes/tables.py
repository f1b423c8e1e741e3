"""Piccolo tables of the minutes app. Columns only: the rules live in its services."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from meetings.tables import Council, Meeting
from proposals.tables import Proposal


class StoredFile(Table):
    """A PDF kept in FILES_DIR under its SHA-256 (`minutes.files`): the same bytes are one
    row and one file, whatever refers to them. `text` is what pypdf extracted, once."""

    sha256 = Varchar(length=64, unique=True)
    size = Integer()
    pages = Integer()
    text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Document(Table):
    """A document of the library: a council's (`council` set) or shared by all (null)."""

    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=True, index=True)
    title = Varchar(length=200)
    category = Varchar(length=16, index=True)  # règlement, fph, plaquette, autre
    file = ForeignKey(references=StoredFile, on_delete=OnDelete.restrict, null=False)
    filename = Varchar(length=160)  # the readable name its download gets
    issued_on = Date()  # the document's own date
    expires_on = Date(null=True, default=None)  # not shown to the public after that day
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Minutes(Table):
    """Minutes (a compte rendu): of one meeting (`meeting` set), or of a month (`month`, its
    first day) of one council (`council` set) or of the whole agglomeration (`council` null),
    as the agglomeration publishes its monthly bundle. A draft until published; publishing
    emails everyone concerned once (`announced_at`); later emails only when a facilitator
    asks for a "mise à jour" (`updates_sent` counts them).
    """

    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=True, index=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, null=True, index=True)
    month = Date(null=True, default=None)  # the first day of the month of a monthly bundle
    title = Varchar(length=200)
    summary = Text(default="")  # ≤ 1,000 characters, shown in the emails
    body = Text(default="")  # Markdown, rendered by conseils.richtext
    decisions = Text(default="")  # one decision per line
    file = ForeignKey(references=StoredFile, on_delete=OnDelete.restrict, null=True)
    filename = Varchar(length=160, default="")  # the readable name of its PDF's download
    attendance = Integer(null=True, default=None)  # people present (from the attendance)
    status = Varchar(length=16, default="draft", index=True)  # draft, published
    # Same facilitator and form sent twice (a double click): one minutes.
    form_key = Varchar(length=80, null=True, default=None, unique=True)
    created_by = Integer(null=True, default=None)  # the facilitator
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    announced_at = Timestamptz(null=True, default=None)  # its publication email queued
    updates_sent = Integer(default=0)  # "mise à jour" emails queued since


class MinutesMeeting(Table, tablename="minutes_covered_meeting"):
    """A meeting a monthly bundle covers (the month's meetings of its council, or of all).
    Not named minutes_meeting: that is the name of the index on `Minutes.meeting`."""

    minutes = ForeignKey(references=Minutes, on_delete=OnDelete.cascade, null=False, index=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=40, unique=True)  # "{minutes id}:{meeting id}"


class MinutesProposal(Table):
    """A proposal the minutes record as discussed, with the status it was given there (set
    on the proposal itself through the proposals app's rules when the minutes publish)."""

    minutes = ForeignKey(references=Minutes, on_delete=OnDelete.cascade, null=False, index=True)
    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=40, unique=True)  # "{minutes id}:{proposal id}"
    status = Varchar(length=16, default="")  # the status given; "" leaves it as it was
    note = Text(default="")  # what was said, in a line
    applied = Boolean(default=False)  # the status was set on the proposal
