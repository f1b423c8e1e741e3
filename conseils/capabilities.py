"""Secret tokens of capability links and API tokens: 256 random bits, stored only as their
SHA-256, so that a copy of the database opens nothing."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """43 URL-safe characters: what goes in the link or the Authorization header."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a token (and looks it up by)."""
    return hashlib.sha256(token.encode()).hexdigest()
