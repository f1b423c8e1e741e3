"""Facilitators: accounts, passwords (argon2id) and API bearer tokens."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import anyio
import anyio.to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
from conseils import audit, capabilities
from conseils.counters import counters
from conseils.db import MAX_ID, write_transaction
from conseils.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from conseils.settings import get_settings
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Council

# argon2id with the parameters PASSWORD_HASHING names (`conseils.settings.PASSWORD_HASHINGS`).
# A hash carries its parameters: any hasher verifies any of them.
_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


@lru_cache(maxsize=len(_PROFILES))
def _hashing(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher of a profile, and a hash verified against when the email is unknown (so a
    wrong email costs as much as a wrong password)."""
    hasher = PasswordHasher.from_parameters(_PROFILES[profile])
    return hasher, hasher.hash("not-a-real-password")


def _hasher() -> PasswordHasher:
    return _hashing(get_settings().password_hashing)[0]


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


# Tokens made on the "Mon compte" page, for scripts: their owner picks how long they last.
TOKEN_DAYS = (7, 30, 90)
TOKEN_LABEL_LENGTH = 80
# A token's `last_used_at` is written at most this often (not a write per API request).
LAST_USE_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at_iso: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A live token as its owner sees it: never the token itself (only its hash is kept)."""

    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


def hash_password(password: str) -> str:
    """The argon2id hash of a password (slow: run it in a thread)."""
    return _hasher().hash(password)


def password_errors(password: object, confirmation: object) -> dict[str, str]:
    """What is wrong with a new password typed twice, by field (empty when it is fine)."""
    if not isinstance(password, str) or not (
        MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH
    ):
        return {"password": f"doit compter entre {MIN_PASSWORD_LENGTH} et 1024 caractères"}
    if confirmation != password:
        return {"confirmation": "les deux saisies du mot de passe diffèrent"}
    return {}


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
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
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
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
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


def _check(stored: str | None, password: str) -> None:
    """Verify against `stored`, or against the stand-in hash when there is none (made on first
    use, in this worker thread: a hash costs the event loop nothing)."""
    hasher, unknown = _hashing(get_settings().password_hashing)
    hasher.verify(stored or unknown, password)


async def _verify(stored: str | None, password: str) -> bool:
    try:
        await anyio.to_thread.run_sync(_check, stored, password)
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
    # An invited account has no password yet (""): it costs a check as any other.
    stored = row["password_hash"] if row and row["password_hash"] else None
    async with _password_check_turn():
        # A flood waits here: those behind the failure that set a block leave at once.
        await _refuse_if_blocked(keys)
        right = await _verify(stored, password)
        if not right or row is None or not row["active"] or not row["password_hash"]:
            await _count_failure(keys)
            raise wrong
    await counters().reset(keys[0])
    async with write_transaction():
        await Facilitator.update({Facilitator.last_signed_in_at: now_utc()}).where(
            Facilitator.id == row["id"]
        )
    return row["id"]


async def issue_token(email: str, password: str, *, client: str = "") -> IssuedToken:
    """Check the password and mint a bearer token (for scripts)."""
    facilitator_id = await authenticate(email, password, client=client)
    return await _mint_token(facilitator_id)


async def _mint_token(facilitator_id: int) -> IssuedToken:
    token = capabilities.new_token()
    expires_at = now_utc() + timedelta(hours=get_settings().token_ttl_hours)
    await ApiToken.insert(
        ApiToken(
            facilitator=facilitator_id, token_hash=capabilities.digest(token), expires_at=expires_at
        )
    )
    return IssuedToken(token=token, expires_at_iso=expires_at.isoformat())


async def facilitator_for_token(token: str) -> FacilitatorView:
    """The facilitator behind a live token; Unauthorized when unknown, expired or revoked."""
    refused = Unauthorized("Jeton absent, expiré ou révoqué.", code="bad_token")
    if not token or len(token) > 200:
        raise refused
    row = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.facilitator,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .where(ApiToken.token_hash == capabilities.digest(token))
        .first()
    )
    now = now_utc()
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        raise refused
    found = await facilitator_view(row["facilitator"])
    if found is None:
        raise refused
    if row["last_used_at"] is None or row["last_used_at"] < now - LAST_USE_PRECISION:
        async with write_transaction():
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return found[0]


async def revoke_token(token: str) -> None:
    await ApiToken.update({ApiToken.revoked_at: now_utc()}).where(
        (ApiToken.token_hash == capabilities.digest(token)) & ApiToken.revoked_at.is_null()
    )


# ---------------------------------------------------------------- "Mon compte"


async def change_password(
    viewer: FacilitatorView,
    current: object,
    password: object,
    confirmation: object,
    *,
    client: str = "",
) -> int:
    """A signed-in facilitator's new password, given the current one (a wrong one counts as
    a failed sign-in: the same throttle). Every other session of the account dies: the new
    `session_version` is returned for the caller's own session."""
    errors = password_errors(password, confirmation)
    if not isinstance(current, str) or not current or len(current) > MAX_PASSWORD_LENGTH:
        errors = {"current": "indiquez votre mot de passe actuel", **errors}
    if errors:
        raise InvalidInput(errors)
    assert isinstance(current, str) and isinstance(password, str)
    keys = _throttle_keys(viewer.email, client)
    await _refuse_if_blocked(keys)
    row = (
        await Facilitator.select(Facilitator.password_hash)
        .where(Facilitator.id == viewer.id)
        .first()
    )
    async with _password_check_turn():
        right = (
            row is not None
            and bool(row["password_hash"])
            and await _verify(row["password_hash"], current)
        )
    if not right:
        await _count_failure(keys)
        raise InvalidInput({"current": "le mot de passe actuel est incorrect"})
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    async with write_transaction():
        updated = (
            await Facilitator.update(
                {
                    Facilitator.password_hash: password_hash,
                    Facilitator.session_version: Facilitator.session_version + 1,
                }
            )
            .where(Facilitator.id == viewer.id)
            .returning(Facilitator.session_version)
        )
        await audit.record(viewer, "account.password_change", "facilitator", viewer.id)
    return updated[0]["session_version"]


async def tokens_of(viewer: FacilitatorView) -> list[TokenInfo]:
    """The viewer's live API tokens, newest first."""
    rows = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
        )
        .where(
            (ApiToken.facilitator == viewer.id)
            & ApiToken.revoked_at.is_null()
            & (ApiToken.expires_at > now_utc())
        )
        .order_by(ApiToken.id, ascending=False)
    )
    return [TokenInfo(**row) for row in rows]


async def create_token(viewer: FacilitatorView, label: object, days: object) -> IssuedToken:
    """A token for the viewer's scripts, named `label`, valid `days` (one of TOKEN_DAYS)."""
    errors: dict[str, str] = {}
    try:
        label = require_text(
            "label", label if isinstance(label, str) else "", max_length=TOKEN_LABEL_LENGTH
        )
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        lifetime = int(days)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        lifetime = 0
    if lifetime not in TOKEN_DAYS:
        errors["days"] = f"choisissez {', '.join(map(str, TOKEN_DAYS))} jours"
    if errors:
        raise InvalidInput(errors)
    token = capabilities.new_token()
    expires_at = now_utc() + timedelta(days=lifetime)
    async with write_transaction():
        row = (
            await ApiToken.insert(
                ApiToken(
                    facilitator=viewer.id,
                    token_hash=capabilities.digest(token),
                    expires_at=expires_at,
                    label=label,
                )
            ).returning(ApiToken.id)
        )[0]
        await audit.record(viewer, "token.create", "api_token", row["id"])
    return IssuedToken(token=token, expires_at_iso=expires_at.isoformat())


async def revoke_token_of(viewer: FacilitatorView, token_id: int) -> None:
    """Revoke one of the viewer's own live tokens; NotFound for anyone else's."""
    if not 1 <= token_id <= MAX_ID:
        raise NotFound("Ce jeton n'existe pas ou est déjà révoqué.", code="token_not_found")
    async with write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now_utc()})
            .where(
                (ApiToken.id == token_id)
                & (ApiToken.facilitator == viewer.id)
                & ApiToken.revoked_at.is_null()
            )
            .returning(ApiToken.id)
        )
        if not revoked:
            raise NotFound("Ce jeton n'existe pas ou est déjà révoqué.", code="token_not_found")
        await audit.record(viewer, "token.revoke", "api_token", token_id)
