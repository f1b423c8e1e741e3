"""Piccolo tables of the privacy app. Columns only: the rules live in services.py."""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AccessRequest(Table):
    """The one live personal-data link of an address: its token's SHA-256 only (the token
    itself went to the inbox), valid until `expires_at`. A new request replaces the row, so
    older links die; an erasure deletes it, so the link is single use."""

    email = Varchar(length=254, unique=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
