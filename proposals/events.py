"""The proposals app's domain events, emitted inside the write transaction of the change.

Handlers in the notifications app turn them into emails (outbox rows in the same
transaction); they read what they need from the event, never the rows. Tokens are the
emailed capabilities themselves: they exist in memory only for the email that carries them
(the rows keep their SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProposalSnapshot:
    """A proposal as its emails show it."""

    id: int
    council_id: int
    council_slug: str
    council_name: str
    contact_email: str
    title: str
    status: str
    rejection_reason: str
    answer: str
    answer_role: str
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProposalSubmitted:
    """A resident sent a proposal: the link that confirms it goes to their address."""

    proposal: ProposalSnapshot
    email: str
    token: str


@dataclass(frozen=True, slots=True)
class SupportRequested:
    """An address asked to support a proposal: the link that confirms it goes there."""

    proposal: ProposalSnapshot
    support_id: int
    email: str
    token: str


@dataclass(frozen=True, slots=True)
class ProposalModerated:
    """Published or rejected (`proposal.status`, with its reason): its author is told."""

    proposal: ProposalSnapshot
    author_email: str


@dataclass(frozen=True, slots=True)
class ProposalProgressed:
    """Its status changed after publication, or its official answer was published: the
    author and the supporters who asked are told (`followers`, each address once)."""

    proposal: ProposalSnapshot
    followers: tuple[str, ...]
    answer_published: bool
