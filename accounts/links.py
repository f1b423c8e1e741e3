"""Links that let a facilitator choose a password: a reset asked for on the sign-in page
(valid an hour) and an admin's invitation (valid a week).

- **The answer never tells whether an account exists**: asking for a reset answers the same
  page for every address; only an active account's own address receives a link.
- **The token goes only to the inbox**: 256 random bits, stored as its SHA-256, handed to
  the notifications app in a `PasswordLinkIssued` event inside the transaction (the outbox).
- **One live link per account**: a new link ends the older ones; using it (once) sets the
  password, and increments `session_version`, so every session opened before dies; API
  tokens stay (the account's owner revokes them from "Mon compte").
- **No flooding**: requests are throttled per typed address and per client IP; an account
  receives at most RESETS_PER_HOUR reset emails an hour, the others change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread

from accounts.events import PasswordLinkIssued
from accounts.services import hash_password, password_errors
from accounts.tables import Facilitator, PasswordLink
from conseils import audit, capabilities, events
from conseils.counters import counters
from conseils.db import locked, write_transaction
from conseils.errors import DomainError, InvalidInput, TooManyRequests
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, required_email
from conseils.viewer import FacilitatorView

RESET = "reset"
INVITATION = "invitation"
VALIDITY = {RESET: timedelta(hours=1), INVITATION: timedelta(days=7)}
RESETS_PER_HOUR = 3  # emails to one account, whoever asks
REQUEST_WINDOW_S = 3600
REQUESTS_PER_ADDRESS = 5  # asked for one typed address an hour (known or not: same limit)
REQUESTS_PER_IP = 20
KEPT_AFTER_END = timedelta(days=1)  # ended links are deleted when the account gets a new one
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkRefused(DomainError):
    """An unknown (`gone` False: 404) or an expired, used or replaced link (`gone`: 410)."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("Ce lien n'est plus valable.", code="password_link_invalid")
        self.gone = gone


@dataclass(frozen=True, slots=True)
class LiveLink:
    purpose: str
    facilitator_id: int
    email: str
    display_name: str
    expires_at: datetime


async def issue(
    facilitator: dict[str, Any], purpose: str, *, invited_by: str | None = None
) -> None:
    """A new link for `facilitator` (a row with id, email, display_name), by email to its
    address; older links of the account end. Inside a write transaction."""
    now = now_utc()
    account = facilitator["id"]
    await PasswordLink.delete().where(
        (PasswordLink.facilitator == account) & (PasswordLink.expires_at < now - KEPT_AFTER_END)
    )
    await end_links(account, now)
    token = capabilities.new_token()
    expires_at = now + VALIDITY[purpose]
    await PasswordLink.insert(
        PasswordLink(
            facilitator=account,
            purpose=purpose,
            token_hash=capabilities.digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    await events.emit(
        PasswordLinkIssued(
            purpose=purpose,
            facilitator_id=account,
            email=facilitator["email"],
            display_name=facilitator["display_name"],
            token=token,
            expires_at=expires_at,
            invited_by=invited_by,
        )
    )


async def end_links(facilitator_id: int, now: datetime | None = None) -> None:
    """End every live link of an account (a newer one, a deactivation)."""
    now = now or now_utc()
    await PasswordLink.update({PasswordLink.expires_at: now}).where(
        (PasswordLink.facilitator == facilitator_id)
        & PasswordLink.used_at.is_null()
        & (PasswordLink.expires_at > now)
    )


async def _throttle(email: str, client: str) -> None:
    store = counters()
    for key, limit in (
        (f"reset:account:{email}", REQUESTS_PER_ADDRESS),
        (f"reset:ip:{client}", REQUESTS_PER_IP),
    ):
        count, ttl = await store.hit(key, REQUEST_WINDOW_S)
        if count > limit:
            raise TooManyRequests(
                "Trop de demandes de réinitialisation : réessayez plus tard.",
                retry_after=ttl,
                code="reset_throttled",
            )


async def _active_account(email: str) -> dict[str, Any] | None:
    return await locked(
        Facilitator.select(Facilitator.id, Facilitator.email, Facilitator.display_name).where(
            (Facilitator.email == email) & (Facilitator.active == True)  # noqa: E712
        )
    ).first()


async def request_reset(value: Any, *, client: str = "") -> None:
    """Someone typed an address on the "mot de passe oublié" form. If it is an active
    account's, and that account has had fewer than RESETS_PER_HOUR links this hour, a link
    goes to it. The caller answers the same either way."""
    email = required_email(value)
    await _throttle(email, client)
    async with write_transaction():
        account = await _active_account(email)
        if account is None:
            return
        recent = await PasswordLink.count().where(
            (PasswordLink.facilitator == account["id"])
            & (PasswordLink.purpose == RESET)
            & (PasswordLink.created_at > now_utc() - timedelta(hours=1))
        )
        if recent < RESETS_PER_HOUR:
            await issue(account, RESET)


async def send_reset(email: str) -> bool:
    """Queue a reset link to an active account (the command line, for an admin): False when
    there is no such account. Not capped: whoever runs it runs the server."""
    async with write_transaction():
        account = await _active_account(normalise_email(email))
        if account is None:
            return False
        await issue(account, RESET)
    return True


async def _live(token: str) -> tuple[int, LiveLink]:
    """The link's id and what it is for; LinkRefused when unknown, ended or used, or when
    its account has been deactivated."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise LinkRefused(gone=False)
    row = (
        await PasswordLink.select(
            PasswordLink.id,
            PasswordLink.purpose,
            PasswordLink.expires_at,
            PasswordLink.used_at,
            PasswordLink.facilitator.id,
            PasswordLink.facilitator.email,
            PasswordLink.facilitator.display_name,
            PasswordLink.facilitator.active,
        )
        .where(PasswordLink.token_hash == capabilities.digest(token))
        .first()
    )
    if row is None:
        raise LinkRefused(gone=False)
    if (
        row["used_at"] is not None
        or row["expires_at"] <= now_utc()
        or not row["facilitator.active"]
    ):
        raise LinkRefused(gone=True)
    return row["id"], LiveLink(
        row["purpose"],
        row["facilitator.id"],
        row["facilitator.email"],
        row["facilitator.display_name"],
        row["expires_at"],
    )


async def check(token: str) -> LiveLink:
    """What a live link is for (the form's page); LinkRefused otherwise. Looking changes
    nothing: mail scanners open links."""
    return (await _live(token))[1]


async def choose_password(token: str, password: Any, confirmation: Any) -> LiveLink:
    """Set the account's password through its link, which is then used up; every session
    of the account dies. InvalidInput (nothing changes) on a bad password."""
    link = await check(token)  # a dead link is told before the password's faults
    errors = password_errors(password, confirmation)
    if errors:
        raise InvalidInput(errors)
    password_hash = await anyio.to_thread.run_sync(hash_password, password)
    async with write_transaction():
        link_id, link = await _live(token)  # deactivated meanwhile: refused now
        now = now_utc()
        used = (
            await PasswordLink.update({PasswordLink.used_at: now})
            .where(
                (PasswordLink.id == link_id)
                & PasswordLink.used_at.is_null()
                & (PasswordLink.expires_at > now)
            )
            .returning(PasswordLink.id)
        )
        if not used:  # used by a concurrent request: once only
            raise LinkRefused(gone=True)
        await Facilitator.update(
            {
                Facilitator.password_hash: password_hash,
                Facilitator.session_version: Facilitator.session_version + 1,
            }
        ).where(Facilitator.id == link.facilitator_id)
        await end_links(link.facilitator_id, now)
        actor = FacilitatorView(
            link.facilitator_id, link.email, link.display_name, False, frozenset()
        )
        action = (
            "account.invitation_accepted"
            if link.purpose == INVITATION
            else "account.password_reset"
        )
        await audit.record(actor, action, "facilitator", link.facilitator_id)
    return link
