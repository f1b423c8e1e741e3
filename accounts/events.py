"""The accounts app's domain events.

Emitted inside the write transaction of the change (`conseils.events.emit`); the
notifications app turns them into emails. The token travels in the event because the email
is the only place it may go: nothing else stores it (the database keeps its SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PasswordLinkIssued:
    """A link to choose a password was made for an account: it goes by email to the
    account's own address, and only there. `purpose`: "reset" or "invitation"."""

    purpose: str
    facilitator_id: int
    email: str
    display_name: str
    token: str
    expires_at: datetime
    invited_by: str | None = None  # the inviting admin's name, for an invitation
