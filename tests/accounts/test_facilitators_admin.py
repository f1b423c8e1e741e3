"""Admins' "Animateurs" pages: invitations (a link valid a week, a re-invitation ends the old
one), roles per council and admin of the site, deactivation (sessions and tokens die at
once) and reactivation, and the rules that keep at least one admin."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from accounts.tables import ApiToken, Facilitator, FacilitatorCouncil, PasswordLink
from conseils.tables import AuditEntry
from conseils.timefmt import now_utc
from tests.support.account_support import emailed_links, link_path
from tests.support.backoffice_support import post_form, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import MEETING, council_id, plain_text, send_all
from tests.support.smtp_sink import SmtpSink

ADMIN = "admin@ales.fr"
TAMARIS = "anim.tamaris@ales.fr"
INVITED = "nouvelle@ales.fr"
ACCOUNTS = "/animation/animateurs"
NEW_PASSWORD = "ma phrase de passe à moi"


@pytest.fixture
async def admin(client: httpx.AsyncClient, admin_auth: dict) -> httpx.AsyncClient:
    """The test's client, signed in as the site's admin."""
    await signed_in(client, ADMIN)
    return client


async def account_id(email: str) -> int:
    row = await Facilitator.select(Facilitator.id).where(Facilitator.email == email).first()
    assert row is not None
    return row["id"]


async def invite(client: httpx.AsyncClient, **fields: str | list[str]) -> httpx.Response:
    data: dict[str, str | list[str]] = {"email": INVITED, "name": "Nouvelle Animatrice"}
    data.update(fields)
    return await post_form(client, ACCOUNTS, data)


async def test_an_invitation_creates_a_passwordless_account_and_emails_its_link(
    admin: httpx.AsyncClient, app, smtp_sink: SmtpSink
) -> None:
    tamaris = await council_id("ales-tamaris")
    answer = await invite(admin, councils=[str(tamaris)])
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{ACCOUNTS}?fait=invite"
    listing = await admin.get(answer.headers["location"])
    assert "Invitation envoyée" in listing.text
    assert "Nouvelle Animatrice" in listing.text and "invitation en attente" in listing.text
    row = await Facilitator.select().where(Facilitator.email == INVITED).first()
    assert row is not None and row["password_hash"] == "" and not row["is_admin"]
    roles = await FacilitatorCouncil.select(FacilitatorCouncil.council).where(
        FacilitatorCouncil.facilitator == row["id"]
    )
    assert [r["council"] for r in roles] == [tamaris]

    [message] = (await send_all(smtp_sink)).values()
    assert message["To"] == INVITED
    text = plain_text(message)
    assert "choisissez votre mot de passe" in text.lower()
    assert "sept jours" in text and "admin vous invite" in text
    [token] = await emailed_links(INVITED, "invitation")
    link = await PasswordLink.select().first()
    assert link is not None
    assert timedelta(days=6, hours=23) < link["expires_at"] - now_utc() <= timedelta(days=7)

    # No password yet: nothing signs in (same answer as a wrong password).
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as invitee:
        refused = await post_form(
            invitee, "/animation/connexion", {"email": INVITED, "password": ""}
        )
        assert refused.status_code == 401
        page = await invitee.get(link_path(token))
        assert page.status_code == 200 and "choisissez votre mot de passe" in page.text.lower()
        done = await post_form(
            invitee, link_path(token), {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
        )
        assert done.status_code == 303
        await signed_in(invitee, INVITED, NEW_PASSWORD)
        assert (await invitee.get(link_path(token))).status_code == 410
    actions = [r["action"] for r in await AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == [
        "facilitator.invite",
        "facilitator.role_grant",
        "account.invitation_accepted",
    ]


async def test_an_invitation_expires_after_seven_days(admin: httpx.AsyncClient) -> None:
    await invite(admin)
    [token] = await emailed_links(INVITED, "invitation")
    await PasswordLink.update(
        {PasswordLink.expires_at: now_utc() - timedelta(seconds=1)}, force=True
    )
    assert (await admin.get(link_path(token))).status_code == 410
    refused = await post_form(
        admin, link_path(token), {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    )
    assert refused.status_code == 410
    row = await Facilitator.select(Facilitator.password_hash).where(Facilitator.email == INVITED)
    assert row[0]["password_hash"] == ""


async def test_inviting_again_sends_a_new_link_and_ends_the_old(
    admin: httpx.AsyncClient,
) -> None:
    await invite(admin)
    again = await invite(admin, name="Autre nom")
    assert again.headers["location"] == f"{ACCOUNTS}?fait=reinvite"
    old, new = await emailed_links(INVITED, "invitation")
    assert (await admin.get(link_path(old))).status_code == 410
    assert (await admin.get(link_path(new))).status_code == 200
    assert await Facilitator.count().where(Facilitator.email == INVITED) == 1
    # The button on the account's page does the same.
    resent = await post_form(admin, f"{ACCOUNTS}/{await account_id(INVITED)}/invitation")
    assert resent.status_code == 303
    assert (await admin.get(link_path(new))).status_code == 410
    assert len(await emailed_links(INVITED, "invitation")) == 3


async def test_an_address_with_a_working_account_or_bad_input_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    taken = await invite(admin, email=ADMIN)
    assert taken.status_code == 400
    assert 'id="email-erreur"' in taken.text and "existe déjà" in taken.text
    bad = await invite(admin, email="pas-une-adresse", name=" ", councils=["999999"])
    assert bad.status_code == 400
    for field in ("email", "name", "councils"):
        assert f'id="{field}-erreur"' in bad.text
    assert await Facilitator.count() == 1
    assert await PasswordLink.count() == 0


async def test_roles_decide_which_councils_a_facilitator_writes(
    client: httpx.AsyncClient, admin_auth: dict, tamaris_auth: dict
) -> None:
    rive_droite = await council_id("ales-rive-droite")
    tamaris = await council_id("ales-tamaris")
    elsewhere = {**MEETING, "council": "ales-rive-droite"}
    assert (
        await client.post("/api/v1/meetings", json=elsewhere, headers=tamaris_auth)
    ).status_code == 403
    await signed_in(client, ADMIN)
    target = await account_id(TAMARIS)
    given = await post_form(
        client, f"{ACCOUNTS}/{target}/roles", {"councils": [str(tamaris), str(rive_droite)]}
    )
    assert given.status_code == 303
    assert "Rôles enregistrés" in (await client.get(given.headers["location"])).text
    assert (
        await client.post("/api/v1/meetings", json=elsewhere, headers=tamaris_auth)
    ).status_code == 201
    taken = await post_form(client, f"{ACCOUNTS}/{target}/roles", {"councils": [str(rive_droite)]})
    assert taken.status_code == 303
    assert (
        await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    ).status_code == 403
    # Admin of the whole site: every council.
    await post_form(client, f"{ACCOUNTS}/{target}/roles", {"admin": "1"})
    assert (
        await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    ).status_code == 201
    lines = await (
        AuditEntry.select(AuditEntry.action, AuditEntry.council_id)
        .where(AuditEntry.action.like("facilitator.%"))
        .order_by(AuditEntry.id)
    )
    assert [(line["action"], line["council_id"]) for line in lines] == [
        ("facilitator.role_grant", rive_droite),
        ("facilitator.role_revoke", tamaris),
        ("facilitator.role_revoke", rive_droite),
        ("facilitator.admin_grant", None),
    ]


async def test_only_admins_reach_the_accounts_pages(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    await signed_in(client, TAMARIS)
    assert (await client.get(ACCOUNTS)).status_code == 403
    assert (await client.get("/animation/journal")).status_code == 403
    assert (await invite(client)).status_code == 403
    target = await account_id(TAMARIS)
    assert (
        await post_form(client, f"{ACCOUNTS}/{target}/roles", {"admin": "1"})
    ).status_code == 403
    dashboard = await client.get("/animation/")
    assert 'href="/animation/animateurs"' not in dashboard.text
    assert 'href="/animation/mon-compte"' in dashboard.text
    assert await Facilitator.count().where(Facilitator.is_admin == True) == 0  # noqa: E712


async def test_deactivation_ends_sessions_and_tokens_at_once(
    client: httpx.AsyncClient, app, admin_auth: dict, tamaris_auth: dict
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as facilitator:
        await signed_in(facilitator, TAMARIS)
        assert (await facilitator.get("/animation/")).status_code == 200
        await signed_in(client, ADMIN)
        target = await account_id(TAMARIS)
        done = await post_form(client, f"{ACCOUNTS}/{target}/desactiver")
        assert done.status_code == 303
        assert "Compte désactivé" in (await client.get(done.headers["location"])).text
        assert (await facilitator.get("/animation/")).status_code == 303
        assert (
            await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
        ).status_code == 401
        assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 1  # the admin's
        # Reactivated: signing in works again, the old token stays revoked.
        back = await post_form(client, f"{ACCOUNTS}/{target}/reactiver")
        assert back.status_code == 303
        await signed_in(facilitator, TAMARIS)
        assert (
            await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
        ).status_code == 401
    actions = [r["action"] for r in await AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["facilitator.deactivate", "facilitator.reactivate"]


async def test_a_deactivated_accounts_token_is_refused_even_unrevoked(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    """`facilitator_for_token` checks the account, not only the token."""
    await Facilitator.update({Facilitator.active: False}).where(Facilitator.email == TAMARIS)
    refused = await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    assert refused.status_code == 401


async def test_an_admin_keeps_their_own_admin_role_and_the_last_admin_stays(
    admin: httpx.AsyncClient,
) -> None:
    me = await account_id(ADMIN)
    refused = await post_form(admin, f"{ACCOUNTS}/{me}/roles", {})
    assert refused.status_code == 400
    assert 'id="admin-erreur"' in refused.text and "propre rôle" in refused.text
    last = await post_form(admin, f"{ACCOUNTS}/{me}/desactiver")
    assert last.status_code == 409 and "dernier administrateur actif" in last.text
    row = await Facilitator.select().where(Facilitator.id == me).first()
    assert row is not None and row["is_admin"] and row["active"]
    # With a second admin, an admin may deactivate themselves (and is signed out).
    await make_facilitator("second.admin@ales.fr", admin=True)
    gone = await post_form(admin, f"{ACCOUNTS}/{me}/desactiver")
    assert gone.status_code == 303
    assert (await admin.get("/animation/")).status_code == 303


async def test_unknown_accounts_are_not_found(admin: httpx.AsyncClient) -> None:
    for path in (f"{ACCOUNTS}/999999", f"{ACCOUNTS}/99999999999"):
        assert (await admin.get(path)).status_code == 404
    assert (await post_form(admin, f"{ACCOUNTS}/999999/desactiver")).status_code == 404
    assert (await post_form(admin, f"{ACCOUNTS}/999999/roles", {})).status_code == 404


async def test_the_admin_forms_need_their_csrf_token(admin: httpx.AsyncClient) -> None:
    target = await account_id(ADMIN)
    await make_facilitator(TAMARIS)
    other = await account_id(TAMARIS)
    for path, data in (
        (ACCOUNTS, {"email": INVITED, "name": "X"}),
        (f"{ACCOUNTS}/{other}/roles", {"admin": "1"}),
        (f"{ACCOUNTS}/{other}/desactiver", {}),
        (f"{ACCOUNTS}/{other}/reactiver", {}),
        (f"{ACCOUNTS}/{target}/invitation", {}),
    ):
        assert (await admin.post(path, data=data)).status_code == 403, path
    assert await Facilitator.count() == 2
    assert await AuditEntry.count() == 0
    row = await Facilitator.select().where(Facilitator.id == other).first()
    assert row is not None and row["active"] and not row["is_admin"]
