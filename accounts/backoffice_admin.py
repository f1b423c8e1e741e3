"""Admins' pages about people: the facilitators' accounts ("Animateurs": invite, roles,
deactivate, reactivate) and the audit log ("Journal"). Every handler asks for `admin`
(403 `admin_only` otherwise); the rules live in `accounts.management`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

from accounts import management
from accounts.tables import Facilitator
from conseils import audit, backoffice
from conseils.backoffice import Form, form_text
from conseils.db import MAX_ID
from conseils.errors import Conflict, InvalidInput
from conseils.viewer import FacilitatorView
from conseils.web.csrf import BACKOFFICE

ACCOUNTS = f"{BACKOFFICE}/animateurs"
FLASHES = {
    "invite": "Invitation envoyée : le lien, valable sept jours, part à l'adresse indiquée.",
    "reinvite": "Nouvelle invitation envoyée ; le lien précédent ne sert plus.",
    "roles": "Rôles enregistrés.",
    "desactive": "Compte désactivé : ses sessions et ses jetons ne servent plus.",
    "reactive": "Compte réactivé : la personne peut se connecter à nouveau.",
}
PER_PAGE = 50


def _ticked(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name, [])
    return value if isinstance(value, list) else [value]


async def _list_page(
    admin: FacilitatorView,
    *,
    status_code: int = 200,
    flash: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    councils = await management.councils()
    return backoffice.page(
        "animation/accounts.html",
        admin,
        status_code=status_code,
        flash=flash,
        accounts=await management.accounts(),
        councils=councils,
        council_names={c.id: c.name for c in councils},
        form=form or {"email": "", "name": "", "councils": [], "admin": False},
        errors=errors or {},
    )


async def _detail_page(
    admin: FacilitatorView,
    facilitator_id: int,
    *,
    status_code: int = 200,
    flash: str | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> Template:
    return backoffice.page(
        "animation/account.html",
        admin,
        status_code=status_code,
        flash=flash,
        account=await management.account(facilitator_id),
        councils=await management.councils(),
        errors=errors or {},
        message=message,
    )


class AccountsAdminPages(Controller):
    path = "/animateurs"

    @get("/", status_code=HTTP_200_OK)
    async def list_accounts(
        self, admin: NamedDependency[FacilitatorView], fait: FromQuery[str] = ""
    ) -> Template:
        return await _list_page(admin, flash=FLASHES.get(fait))

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def invite(
        self, admin: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        form = {
            "email": form_text(data, "email", 254),
            "name": form_text(data, "name", 200),
            "councils": [str(c) for c in _ticked(data, "councils")],
            "admin": data.get("admin") == "1",
        }
        try:
            _, again = await management.invite(
                admin,
                email=form["email"],
                name=form["name"],
                councils=form["councils"],
                is_admin=form["admin"],
            )
        except InvalidInput as exc:
            return await _list_page(admin, status_code=400, form=form, errors=exc.errors)
        done = "reinvite" if again else "invite"
        return Redirect(f"{ACCOUNTS}?fait={done}", status_code=HTTP_303_SEE_OTHER)

    @get("/{facilitator_id:int}", status_code=HTTP_200_OK)
    async def show(
        self,
        admin: NamedDependency[FacilitatorView],
        facilitator_id: FromPath[int],
        fait: FromQuery[str] = "",
    ) -> Template:
        return await _detail_page(admin, facilitator_id, flash=FLASHES.get(fait))

    @post("/{facilitator_id:int}/roles", status_code=HTTP_303_SEE_OTHER)
    async def set_roles(
        self, admin: NamedDependency[FacilitatorView], facilitator_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        try:
            await management.set_roles(
                admin, facilitator_id, _ticked(data, "councils"), data.get("admin") == "1"
            )
        except InvalidInput as exc:
            return await _detail_page(admin, facilitator_id, status_code=400, errors=exc.errors)
        return Redirect(f"{ACCOUNTS}/{facilitator_id}?fait=roles", status_code=HTTP_303_SEE_OTHER)

    @post("/{facilitator_id:int}/desactiver", status_code=HTTP_303_SEE_OTHER)
    async def deactivate(
        self, admin: NamedDependency[FacilitatorView], facilitator_id: FromPath[int]
    ) -> Redirect | Template:
        try:
            await management.deactivate(admin, facilitator_id)
        except Conflict as exc:
            return await _detail_page(admin, facilitator_id, status_code=409, message=exc.message)
        return Redirect(
            f"{ACCOUNTS}/{facilitator_id}?fait=desactive", status_code=HTTP_303_SEE_OTHER
        )

    @post("/{facilitator_id:int}/reactiver", status_code=HTTP_303_SEE_OTHER)
    async def reactivate(
        self, admin: NamedDependency[FacilitatorView], facilitator_id: FromPath[int]
    ) -> Redirect:
        await management.reactivate(admin, facilitator_id)
        return Redirect(
            f"{ACCOUNTS}/{facilitator_id}?fait=reactive", status_code=HTTP_303_SEE_OTHER
        )

    @post("/{facilitator_id:int}/invitation", status_code=HTTP_303_SEE_OTHER)
    async def resend_invitation(
        self, admin: NamedDependency[FacilitatorView], facilitator_id: FromPath[int]
    ) -> Redirect | Template:
        try:
            await management.resend_invitation(admin, facilitator_id)
        except Conflict as exc:
            return await _detail_page(admin, facilitator_id, status_code=409, message=exc.message)
        return Redirect(
            f"{ACCOUNTS}/{facilitator_id}?fait=reinvite", status_code=HTTP_303_SEE_OTHER
        )


ACTIONS = {
    "account.password_reset": "a choisi un nouveau mot de passe (lien envoyé par courriel)",
    "account.invitation_accepted": "a accepté son invitation (mot de passe choisi)",
    "account.password_change": "a changé son mot de passe",
    "token.create": "a créé un jeton d'API",
    "token.revoke": "a révoqué un jeton d'API",
    "facilitator.invite": "a invité un animateur",
    "facilitator.reinvite": "a renvoyé une invitation",
    "facilitator.role_grant": "a confié un conseil à un animateur",
    "facilitator.role_revoke": "a retiré un conseil à un animateur",
    "facilitator.admin_grant": "a nommé un administrateur",
    "facilitator.admin_revoke": "a retiré le rôle d'administrateur",
    "facilitator.deactivate": "a désactivé un compte",
    "facilitator.reactivate": "a réactivé un compte",
}
OBJECT_KINDS = {
    "facilitator": "compte",
    "api_token": "jeton d'API",
    "meeting": "réunion",
    "registration": "inscription",
    "council": "conseil",
    "quartier": "quartier",
    "outbox_message": "courriel",
}


async def _actor_names(ids: set[int]) -> dict[int, str]:
    names = {management.COMMAND_LINE.id: "ligne de commande (serveur)"}
    wanted = [i for i in ids if i != management.COMMAND_LINE.id]
    if wanted:
        rows = await Facilitator.select(Facilitator.id, Facilitator.display_name).where(
            Facilitator.id.is_in(wanted)
        )
        names.update({row["id"]: row["display_name"] for row in rows})
    return names


class AuditLogPage(Controller):
    path = "/journal"

    @get("/", status_code=HTTP_200_OK)
    async def show(
        self,
        admin: NamedDependency[FacilitatorView],
        conseil: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        """Newest first, PER_PAGE a page, optionally one council's lines. A bad filter or
        page number shows the first page of everything (nothing to refuse in a GET)."""
        councils = await management.councils()
        council_names = {c.id: c.name for c in councils}
        council_id = int(conseil) if conseil.isdigit() and int(conseil) in council_names else None
        number = int(page) if page.isdigit() and 1 <= int(page) <= MAX_ID // PER_PAGE else 1
        lines, total = await audit.recent(
            limit=PER_PAGE, offset=(number - 1) * PER_PAGE, council_id=council_id
        )
        return backoffice.page(
            "animation/audit_log.html",
            admin,
            lines=lines,
            total=total,
            page=number,
            pages=max(1, -(-total // PER_PAGE)),
            council_id=council_id,
            councils=councils,
            council_names=council_names,
            actors=await _actor_names({line.actor_id for line in lines}),
            actions=ACTIONS,
            object_kinds=OBJECT_KINDS,
        )
