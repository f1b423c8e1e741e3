"""Facilitators: accounts, passwords (argon2id) and API bearer tokens."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
from conseils.counters import counters
from conseils.db import write_transaction
from conseils.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
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

# Each check costs 64 MiB and a core for about a tenth of a second: a few at once per
# process, the others wait their turn (up to CHECK_WAIT_S, then 429). 150 concurrent wrong
# passwords used to take 2.4 GB and stall every other request.
CHECKS_AT_ONCE = 2
CHECK_WAIT_S = 10.0
# Throttling, counted per account and per client IP over an hour: after FREE_* failures,
# each new one blocks that account or IP for 2, 4, 8 … seconds, at most MAX_DELAY_S. The
# block holds for the right password too, so a guesser cannot tell it found it.
FAILURE_WINDOW_S = 3600
FREE_ACCOUNT_FAILURES = 5
FREE_IP_FAILURES = 20
MAX_DELAY_S = 900
_checks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


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


async def set_password(email: str, password: str) -> bool:
    """Give an account a new password; False when there is no such account."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            {"password": f"doit compter entre {MIN_PASSWORD_LENGTH} et 1024 caractères"}
        )
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    updated = (
        await Facilitator.update({Facilitator.password_hash: password_hash})
        .where(Facilitator.email == normalise_email(email))
        .returning(Facilitator.id)
    )
    return bool(updated)


async def facilitator_view(facilitator_id: int) -> tuple[FacilitatorView, int] | None:
    """An active account as permission checks see it, with its `session_version` (sessions
    opened under another version are dead); None when it is unknown or deactivated."""
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
    view = FacilitatorView(
        row["id"],
        row["email"],
        row["display_name"],
        row["is_admin"],
        frozenset(link["council"] for link in links),
    )
    return view, row["session_version"]


def _throttle_keys(email: str, client: str) -> tuple[str, str]:
    return f"login:account:{email.strip().lower()}", f"login:ip:{client}"


async def _refuse_if_blocked(keys: tuple[str, str]) -> None:
    store = counters()
    wait = max([await store.blocked_for(key) for key in keys])
    if wait > 0:
        seconds = int(wait) + 1
        raise TooManyRequests(
            f"Trop de tentatives de connexion : réessayez dans {seconds} secondes.",
            retry_after=seconds,
            code="login_throttled",
        )


async def _count_failure(keys: tuple[str, str]) -> None:
    store = counters()
    for key, free in zip(keys, (FREE_ACCOUNT_FAILURES, FREE_IP_FAILURES), strict=True):
        failures, _ = await store.hit(key, FAILURE_WINDOW_S)
        if failures > free:
            await store.block(key, min(2 ** min(failures - free, 20), MAX_DELAY_S))


@contextlib.asynccontextmanager
async def _password_check_turn() -> AsyncIterator[None]:
    """One of this process's CHECKS_AT_ONCE turns to run argon2; 429 after CHECK_WAIT_S."""
    loop = asyncio.get_running_loop()
    turns = _checks.setdefault(loop, asyncio.Semaphore(CHECKS_AT_ONCE))
    try:
        with anyio.fail_after(CHECK_WAIT_S):
            await turns.acquire()
    except TimeoutError:
        raise TooManyRequests(
            "Le service de connexion est très sollicité : réessayez dans quelques secondes.",
            retry_after=5,
            code="login_busy",
        ) from None
    try:
        yield
    finally:
        turns.release()


async def _verify(stored: str, password: str) -> bool:
    try:
        await anyio.to_thread.run_sync(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


async def authenticate(email: str, password: str, *, client: str = "") -> int:
    """Check an email and password; the account's id, or Unauthorized. An unknown address
    costs a check as a known one does, and is throttled the same way: the answer tells
    nothing about which accounts exist."""
    wrong = Unauthorized("Adresse ou mot de passe incorrect.", code="bad_credentials")
    keys = _throttle_keys(email[:254], client)
    await _refuse_if_blocked(keys)
    if len(password) > MAX_PASSWORD_LENGTH or len(email) > 254 or "\x00" in email:
        await _count_failure(keys)
        raise wrong
    row = (
        await Facilitator.select(Facilitator.id, Facilitator.password_hash, Facilitator.active)
        .where(Facilitator.email == email.strip().lower())
        .first()
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    async with _password_check_turn():
        # A flood waits here: those behind the failure that set a block leave at once.
        await _refuse_if_blocked(keys)
        right = await _verify(stored, password)
        if not right or row is None or not row["active"]:
            await _count_failure(keys)
            raise wrong
    await counters().reset(keys[0])
    return row["id"]


async def issue_token(email: str, password: str, *, client: str = "") -> IssuedToken:
    """Check the password and mint a bearer token (for scripts)."""
    facilitator_id = await authenticate(email, password, client=client)
    return await _mint_token(facilitator_id)


async def _mint_token(facilitator_id: int) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = now_utc() + timedelta(hours=get_settings().token_ttl_hours)
    await ApiToken.insert(
        ApiToken(facilitator=facilitator_id, token_hash=_token_hash(token), expires_at=expires_at)
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
    found = await facilitator_view(row["facilitator"])
    if found is None:
        raise refused
    return found[0]


async def revoke_token(token: str) -> None:
    await ApiToken.update({ApiToken.revoked_at: now_utc()}).where(
        (ApiToken.token_hash == _token_hash(token)) & ApiToken.revoked_at.is_null()
    )
