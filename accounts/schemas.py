"""Input and output of the accounts API."""

from __future__ import annotations

from msgspec import Struct


class TokenRequest(Struct, forbid_unknown_fields=True):
    email: str
    password: str


class TokenOut(Struct):
    token: str
    expires_at: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
