""" "Mon compte": a facilitator changes their own password and manages their own API tokens
(a new token shown once, on the answer to its creation; revoked ones refused at once)."""

from __future__ import annotations

import re

import httpx
from litestar import Litestar

from accounts.tables import ApiToken, Facilitator
from conseils.tables import AuditEntry
from tests.support.backoffice_support import SIGN_IN, post_form, signed_in
from tests.support.facilitator_support import PASSWORD, make_facilitator
from tests.support.mail_support import MEETING

EMAIL = "anim.tamaris@ales.fr"
PAGE = "/animation/mon-compte"
NEW_PASSWORD = "une phrase de passe toute neuve"
_SHOWN = re.compile(r'id="nouveau-jeton" type="text" readonly value="([^"]+)"')


async def make_token(client: httpx.AsyncClient, label: str = "export", days: str = "30") -> str:
    answer = await post_form(client, f"{PAGE}/jetons", {"label": label, "days": days})
    assert answer.status_code == 200, answer.text
    [token] = _SHOWN.findall(answer.text)
    return token


async def test_a_token_is_shown_once_works_and_is_revoked_from_the_page(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    await signed_in(client, EMAIL)
    page = await client.get(PAGE)
    assert page.status_code == 200 and "Mes jetons" in page.text
    token = await make_token(client, "relance du jeudi", "7")
    assert await ApiToken.count().where(ApiToken.token_hash == token) == 0  # hashed
    listing = await client.get(PAGE)
    assert "relance du jeudi" in listing.text and token not in listing.text
    assert "jamais" in listing.text  # not used yet
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/v1/meetings", json=MEETING, headers=auth)).status_code == 201
    row = await ApiToken.select().where(ApiToken.label == "relance du jeudi").first()
    assert row is not None and row["last_used_at"] is not None
    assert 6 < (row["expires_at"] - row["created_at"]).total_seconds() / 86400 <= 7

    revoked = await post_form(client, f"{PAGE}/jetons/{row['id']}/revoquer")
    assert revoked.status_code == 303
    assert "révoqué" in (await client.get(revoked.headers["location"])).text
    assert (await client.post("/api/v1/meetings", json=MEETING, headers=auth)).status_code == 401
    assert "relance du jeudi" not in (await client.get(PAGE)).text
    actions = [r["action"] for r in await AuditEntry.select().order_by(AuditEntry.id)]
    assert actions[0] == "token.create" and actions[-1] == "token.revoke"


async def test_a_token_needs_a_label_and_a_known_lifetime(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    await signed_in(client, EMAIL)
    before = await ApiToken.count()
    bad = await post_form(client, f"{PAGE}/jetons", {"label": "  ", "days": "3650"})
    assert bad.status_code == 400
    assert 'id="label-erreur"' in bad.text and 'id="days-erreur"' in bad.text
    assert 'id="nouveau-jeton"' not in bad.text
    assert await ApiToken.count() == before


async def test_nobody_revokes_someone_elses_token(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    other = await make_facilitator("autre@ales.fr", "ales-tamaris")
    their = await ApiToken.select(ApiToken.id).order_by(ApiToken.id, ascending=False).first()
    assert their is not None
    await signed_in(client, EMAIL)
    assert (await post_form(client, f"{PAGE}/jetons/{their['id']}/revoquer")).status_code == 404
    assert (await post_form(client, f"{PAGE}/jetons/99999999999/revoquer")).status_code == 404
    assert (await client.post("/api/v1/meetings", json=MEETING, headers=other)).status_code == 201


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient, app: Litestar, tamaris_auth: dict
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as elsewhere:
        await signed_in(elsewhere, EMAIL)
        await signed_in(client, EMAIL)
        before = await Facilitator.select(Facilitator.password_hash).first()
        wrong = await post_form(
            client,
            f"{PAGE}/mot-de-passe",
            {"current": "pas le bon", "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        )
        assert wrong.status_code == 400 and 'id="current-erreur"' in wrong.text
        short = await post_form(
            client,
            f"{PAGE}/mot-de-passe",
            {"current": PASSWORD, "password": "court", "confirmation": "court"},
        )
        assert short.status_code == 400 and 'id="password-erreur"' in short.text
        assert await Facilitator.select(Facilitator.password_hash).first() == before

        done = await post_form(
            client,
            f"{PAGE}/mot-de-passe",
            {"current": PASSWORD, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        )
        assert done.status_code == 303
        assert "mot de passe est changé" in (await client.get(done.headers["location"])).text
        assert (await client.get("/animation/")).status_code == 200  # this session goes on
        assert (await elsewhere.get("/animation/")).status_code == 303  # the other ends
    client.cookies.clear()
    old = await post_form(client, SIGN_IN, {"email": EMAIL, "password": PASSWORD})
    assert old.status_code == 401
    await signed_in(client, EMAIL, NEW_PASSWORD)
    # API tokens stay.
    assert (
        await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    ).status_code == 201


async def test_the_account_forms_need_their_csrf_token(
    client: httpx.AsyncClient, tamaris_auth: dict
) -> None:
    await signed_in(client, EMAIL)
    token = await ApiToken.select(ApiToken.id).first()
    assert token is not None
    for path, data in (
        (f"{PAGE}/jetons", {"label": "x", "days": "30"}),
        (f"{PAGE}/jetons/{token['id']}/revoquer", {}),
        (
            f"{PAGE}/mot-de-passe",
            {"current": PASSWORD, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        ),
    ):
        assert (await client.post(path, data=data)).status_code == 403, path
    assert await ApiToken.count() == 1
    assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 1
    assert await AuditEntry.count() == 0
