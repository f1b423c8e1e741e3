"""Piccolo tables of the minutes app. Columns only: the rules live in its services."""

from __future__ import annotations

from piccolo.columns import (
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

from meetings.tables import Council


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
