"""Piccolo tables of the accounts app: facilitators, the councils they run, their API tokens,
and the emailed links that let them choose a password."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from meetings.tables import Council


class Facilitator(Table):
    """An animateur or animatrice: writes the meetings of the councils they run."""

    email = Varchar(length=254, unique=True, index=True)
    display_name = Varchar(length=120)
    password_hash = Varchar(length=255)
    is_admin = Boolean(default=False)
    active = Boolean(default=True)
    # Sessions remember the version they were opened under; a password reset or a
    # deactivation increments it, and every older session is refused.
    session_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_signed_in_at = Timestamptz(null=True, default=None)


class FacilitatorCouncil(Table):
    facilitator = ForeignKey(
        references=Facilitator, on_delete=OnDelete.cascade, null=False, index=True
    )
    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=False)


class ApiToken(Table):
    """A facilitator's bearer token. Only its SHA-256 is stored; revoked or expired = refused."""

    facilitator = ForeignKey(
        references=Facilitator, on_delete=OnDelete.cascade, null=False, index=True
    )
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    label = Varchar(length=80, default="")  # what it is for, named by its owner ("export")
    last_used_at = Timestamptz(null=True, default=None)  # to the nearest few minutes


class PasswordLink(Table):
    """A link that lets an account choose its password: a reset (valid an hour) or an
    invitation (a week). Only the token's SHA-256 is stored; the token went to the account's
    inbox. Used once (`used_at`); a newer link of the same account ends it (`expires_at`
    moved to the moment it was replaced)."""

    facilitator = ForeignKey(
        references=Facilitator, on_delete=OnDelete.cascade, null=False, index=True
    )
    purpose = Varchar(length=16)  # "reset" or "invitation"
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
