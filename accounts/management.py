"""What admins do to facilitators' accounts: invite, give and take roles, deactivate and
reactivate. The back-office pages and the command line call these.

Rules:
- **An invitation creates the account without a usable password** (`password_hash` empty:
  nothing signs in with it) and emails a link to choose one, valid a week. Inviting a
  pending account again sends a new link and ends the old one; an address that already
  has a working account is refused.
- **Roles**: facilitator of each council ticked, admin of the whole site or not. They take
  effect at the account's next request (sessions and tokens load the account afresh).
- **No admin locks the site out**: an admin cannot take their own admin role away, and the
  last active admin cannot be deactivated (by themselves or from the command line).
- **Deactivation is immediate**: the account is inactive, its `session_version` moves on
  (every session dies), every API token is revoked and every password link ended, in one
  transaction. Reactivation gives back the sign-in, not the tokens.

Each change writes its audit line(s) in its own transaction; role lines carry the council.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts import links
from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil
from conseils import audit
from conseils.db import MAX_ID, locked, write_transaction
from conseils.errors import Conflict, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Council

# The audit log's actor for what the `conseils` command does (run by whoever runs the
# server): no account has id 0.
COMMAND_LINE = FacilitatorView(0, "", "ligne de commande", True, frozenset())


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    display_name: str
    is_admin: bool
    active: bool
    pending: bool  # invited, no password chosen yet
    created_at: datetime
    last_signed_in_at: datetime | None
    council_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CouncilChoice:
    id: int
    name: str
    slug: str


async def councils() -> list[CouncilChoice]:
    rows = await Council.select(Council.id, Council.name, Council.slug).order_by(Council.name)
    return [CouncilChoice(**row) for row in rows]


_COLUMNS = (
    Facilitator.id,
    Facilitator.email,
    Facilitator.display_name,
    Facilitator.is_admin,
    Facilitator.active,
    Facilitator.password_hash,
    Facilitator.created_at,
    Facilitator.last_signed_in_at,
)


async def _accounts(where: Any = None) -> list[Account]:
    query = Facilitator.select(*_COLUMNS).order_by(Facilitator.display_name)
    if where is not None:
        query = query.where(where)
    rows = await query
    roles: dict[int, list[int]] = {}
    if rows:
        for link in await FacilitatorCouncil.select(
            FacilitatorCouncil.facilitator, FacilitatorCouncil.council
        ).where(FacilitatorCouncil.facilitator.is_in([row["id"] for row in rows])):
            roles.setdefault(link["facilitator"], []).append(link["council"])
    return [
        Account(
            id=row["id"],
            email=row["email"],
            display_name=row["display_name"],
            is_admin=row["is_admin"],
            active=row["active"],
            pending=not row["password_hash"],
            created_at=row["created_at"],
            last_signed_in_at=row["last_signed_in_at"],
            council_ids=tuple(sorted(roles.get(row["id"], []))),
        )
        for row in rows
    ]


async def accounts() -> list[Account]:
    """Every account, by name (no password hash leaves this module)."""
    return await _accounts()


async def account(facilitator_id: int) -> Account:
    if not 1 <= facilitator_id <= MAX_ID:
        raise NotFound("Ce compte n'existe pas.", code="facilitator_not_found")
    found = await _accounts(Facilitator.id == facilitator_id)
    if not found:
        raise NotFound("Ce compte n'existe pas.", code="facilitator_not_found")
    return found[0]


async def account_by_email(email: str) -> Account:
    found = await _accounts(Facilitator.email == normalise_email(email))
    if not found:
        raise NotFound("Aucun compte avec cette adresse.", code="facilitator_not_found")
    return found[0]


async def _council_ids(values: Iterable[Any]) -> list[int]:
    """The ids of councils ticked on a form; InvalidInput for anything else."""
    wanted: set[int] = set()
    for value in values:
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            raise InvalidInput({"councils": "conseil inconnu"}) from None
    if not wanted:
        return []
    known = {
        row["id"]
        for row in await Council.select(Council.id).where(
            Council.id.is_in([i for i in wanted if 1 <= i <= MAX_ID] or [0])
        )
    }
    if wanted - known:
        raise InvalidInput({"councils": "conseil inconnu"})
    return sorted(wanted)


async def _lock(facilitator_id: int) -> dict[str, Any]:
    if not 1 <= facilitator_id <= MAX_ID:
        raise NotFound("Ce compte n'existe pas.", code="facilitator_not_found")
    row = await locked(
        Facilitator.select(*_COLUMNS).where(Facilitator.id == facilitator_id)
    ).first()
    if row is None:
        raise NotFound("Ce compte n'existe pas.", code="facilitator_not_found")
    return row


async def _grant(actor: FacilitatorView, facilitator_id: int, council_ids: Iterable[int]) -> None:
    for council_id in council_ids:
        await FacilitatorCouncil.insert(
            FacilitatorCouncil(facilitator=facilitator_id, council=council_id)
        )
        await audit.record(
            actor, "facilitator.role_grant", "facilitator", facilitator_id, council_id=council_id
        )


async def invite(
    admin: FacilitatorView, *, email: Any, name: Any, councils: Iterable[Any], is_admin: bool
) -> tuple[Account, bool]:
    """Create an account without a password and email it an invitation link; an account
    still pending gets a new link instead (its old one ends; its name and roles stay).
    Returns the account and whether it was invited before."""
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email if isinstance(email, str) else "")
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        name = require_text("name", name if isinstance(name, str) else "", max_length=120)
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        council_ids = await _council_ids(councils)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    async with write_transaction():
        existing = await locked(
            Facilitator.select(*_COLUMNS).where(Facilitator.email == email)
        ).first()
        if existing is not None:
            if existing["password_hash"] or not existing["active"]:
                raise InvalidInput({"email": "un compte existe déjà avec cette adresse"})
            await links.issue(existing, links.INVITATION, invited_by=admin.display_name)
            await audit.record(admin, "facilitator.reinvite", "facilitator", existing["id"])
            facilitator_id, again = existing["id"], True
        else:
            row = (
                await Facilitator.insert(
                    Facilitator(email=email, display_name=name, password_hash="", is_admin=is_admin)
                ).returning(Facilitator.id, Facilitator.email, Facilitator.display_name)
            )[0]
            facilitator_id, again = row["id"], False
            await audit.record(
                admin,
                "facilitator.invite",
                "facilitator",
                facilitator_id,
                detail="administrateur" if is_admin else "",
            )
            await _grant(admin, facilitator_id, council_ids)
            await links.issue(row, links.INVITATION, invited_by=admin.display_name)
    return await account(facilitator_id), again


async def resend_invitation(admin: FacilitatorView, facilitator_id: int) -> None:
    """A new invitation link for a pending account (the old one ends)."""
    async with write_transaction():
        row = await _lock(facilitator_id)
        if row["password_hash"] or not row["active"]:
            raise Conflict(
                "Ce compte a déjà choisi son mot de passe, ou il est désactivé.",
                code="not_pending",
            )
        await links.issue(row, links.INVITATION, invited_by=admin.display_name)
        await audit.record(admin, "facilitator.reinvite", "facilitator", facilitator_id)


async def set_roles(
    admin: FacilitatorView, facilitator_id: int, councils: Iterable[Any], is_admin: bool
) -> None:
    """The account runs exactly the councils given, and is admin or not. An admin cannot
    take their own admin role away (InvalidInput on `admin`)."""
    council_ids = set(await _council_ids(councils))
    if facilitator_id == admin.id and not is_admin:
        raise InvalidInput(
            {"admin": "vous ne pouvez pas retirer votre propre rôle d'administrateur"}
        )
    async with write_transaction():
        row = await _lock(facilitator_id)
        current = {
            link["council"]
            for link in await FacilitatorCouncil.select(FacilitatorCouncil.council).where(
                FacilitatorCouncil.facilitator == facilitator_id
            )
        }
        gone = sorted(current - council_ids)
        if gone:
            await FacilitatorCouncil.delete().where(
                (FacilitatorCouncil.facilitator == facilitator_id)
                & FacilitatorCouncil.council.is_in(gone)
            )
        for council_id in gone:
            await audit.record(
                admin,
                "facilitator.role_revoke",
                "facilitator",
                facilitator_id,
                council_id=council_id,
            )
        await _grant(admin, facilitator_id, sorted(council_ids - current))
        if row["is_admin"] != is_admin:
            await Facilitator.update({Facilitator.is_admin: is_admin}).where(
                Facilitator.id == facilitator_id
            )
            action = "facilitator.admin_grant" if is_admin else "facilitator.admin_revoke"
            await audit.record(admin, action, "facilitator", facilitator_id)


async def _other_active_admins(facilitator_id: int) -> int:
    return await Facilitator.count().where(
        (Facilitator.is_admin == True)  # noqa: E712
        & (Facilitator.active == True)  # noqa: E712
        & (Facilitator.id != facilitator_id)
    )


async def deactivate(actor: FacilitatorView, facilitator_id: int) -> None:
    """At once: sign-ins, sessions, API tokens and password links of the account all stop.
    The last active admin stays (Conflict)."""
    async with write_transaction():
        row = await _lock(facilitator_id)
        if not row["active"]:
            return
        if row["is_admin"]:
            # Every active admin's row, locked: two admins deactivating each other at once
            # cannot both pass this check.
            await locked(
                Facilitator.select(Facilitator.id).where(
                    (Facilitator.is_admin == True) & (Facilitator.active == True)  # noqa: E712
                )
            )
            if not await _other_active_admins(facilitator_id):
                raise Conflict(
                    "C'est le dernier administrateur actif : donnez d'abord ce rôle à un autre "
                    "compte.",
                    code="last_admin",
                )
        now = now_utc()
        await Facilitator.update(
            {
                Facilitator.active: False,
                Facilitator.session_version: Facilitator.session_version + 1,
            }
        ).where(Facilitator.id == facilitator_id)
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where((ApiToken.facilitator == facilitator_id) & ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        await links.end_links(facilitator_id, now)
        await audit.record(
            actor,
            "facilitator.deactivate",
            "facilitator",
            facilitator_id,
            detail=f"{len(revoked)} jeton(s) révoqué(s)",
        )


async def reactivate(admin: FacilitatorView, facilitator_id: int) -> None:
    """The account may sign in again (its revoked tokens stay revoked)."""
    async with write_transaction():
        row = await _lock(facilitator_id)
        if row["active"]:
            return
        await Facilitator.update({Facilitator.active: True}).where(Facilitator.id == facilitator_id)
        await audit.record(admin, "facilitator.reactivate", "facilitator", facilitator_id)
