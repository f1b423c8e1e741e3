"""Facilitators: accounts, passwords (argon2id) and API bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
from conseils.db import write_transaction
from conseils.errors import Conflict, InvalidInput, Unauthorized
from conseils.settings import get_settings
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Council

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a wrong email costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at_iso: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_facilitator(
    *, email: str, name: str, password: str, admin: bool = False, council_slugs: list[str]
) -> FacilitatorView:
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        name = require_text("name", name, max_length=120)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        errors["password"] = f"doit compter entre {MIN_PASSWORD_LENGTH} et 1024 caractères"
    councils = (
        await Council.select(Council.id, Council.slug).where(Council.slug.is_in(council_slugs))
        if council_slugs
        else []
    )
    unknown = set(council_slugs) - {row["slug"] for row in councils}
    if unknown:
        errors["council"] = f"conseil inconnu : {', '.join(sorted(unknown))}"
    if errors:
        raise InvalidInput(errors)
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    async with write_transaction():
        if await Facilitator.exists().where(Facilitator.email == email):
            raise Conflict("Un animateur existe déjà avec cette adresse.", code="email_taken")
        row = (
            await Facilitator.insert(
                Facilitator(
                    email=email, display_name=name, password_hash=password_hash, is_admin=admin
                )
            ).returning(Facilitator.id)
        )[0]
        for council in councils:
            await FacilitatorCouncil.insert(
                FacilitatorCouncil(facilitator=row["id"], council=council["id"])
            )
    return FacilitatorView(row["id"], email, name, admin, frozenset(c["id"] for c in councils))


async def _view(facilitator_id: int) -> FacilitatorView | None:
    row = (
        await Facilitator.select()
        .where((Facilitator.id == facilitator_id) & (Facilitator.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        return None
    links = await FacilitatorCouncil.select(FacilitatorCouncil.council).where(
        FacilitatorCouncil.facilitator == facilitator_id
    )
    return FacilitatorView(
        row["id"],
        row["email"],
        row["display_name"],
        row["is_admin"],
        frozenset(link["council"] for link in links),
    )


async def issue_token(email: str, password: str) -> IssuedToken:
    """Check the password (in a thread: argon2 is deliberately slow) and mint a token."""
    wrong = Unauthorized("Adresse ou mot de passe incorrect.", code="bad_credentials")
    if len(password) > MAX_PASSWORD_LENGTH or len(email) > 254 or "\x00" in email:
        raise wrong
    row = (
        await Facilitator.select(Facilitator.id, Facilitator.password_hash, Facilitator.active)
        .where(Facilitator.email == email.strip().lower())
        .first()
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        await anyio.to_thread.run_sync(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    if row is None or not row["active"]:
        raise wrong
    token = secrets.token_urlsafe(32)
    expires_at = now_utc() + timedelta(hours=get_settings().token_ttl_hours)
    await ApiToken.insert(
        ApiToken(facilitator=row["id"], token_hash=_token_hash(token), expires_at=expires_at)
    )
    return IssuedToken(token=token, expires_at_iso=expires_at.isoformat())


async def facilitator_for_token(token: str) -> FacilitatorView:
    """The facilitator behind a live token; Unauthorized when unknown, expired or revoked."""
    refused = Unauthorized("Jeton absent, expiré ou révoqué.", code="bad_token")
    if not token or len(token) > 200:
        raise refused
    row = (
        await ApiToken.select(ApiToken.facilitator, ApiToken.expires_at, ApiToken.revoked_at)
        .where(ApiToken.token_hash == _token_hash(token))
        .first()
    )
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now_utc():
        raise refused
    view = await _view(row["facilitator"])
    if view is None:
        raise refused
    return view


async def revoke_token(token: str) -> None:
    await ApiToken.update({ApiToken.revoked_at: now_utc()}).where(
        (ApiToken.token_hash == _token_hash(token)) & ApiToken.revoked_at.is_null()
    )
