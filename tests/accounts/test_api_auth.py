"""Facilitator tokens: POST /api/v1/auth/token to log in, DELETE to log out; expiry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from accounts.services import hash_password
from accounts.tables import ApiToken
from conseils.settings import get_settings
from tests.support.dates import LIKE_2031
from tests.support.facilitator_support import PASSWORD, make_facilitator

EMAIL = "anim.tamaris@ales.fr"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def log_in(client: AsyncClient, email: str = EMAIL, password: str = PASSWORD):
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


async def can_see_drafts(client: AsyncClient, headers: dict[str, str]) -> int:
    """The status of an authenticated request (the drafts listing)."""
    response = await client.get("/api/v1/meetings", params={"status": "draft"}, headers=headers)
    return response.status_code


async def test_log_in_returns_a_working_token(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    response = await log_in(client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at", "token_type"}
    assert body["token_type"] == "bearer"
    assert len(body["token"]) >= 32
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None
    assert datetime.now(UTC) < expires < datetime.now(UTC) + timedelta(days=366)
    # Only the token's hash is stored.
    rows = await ApiToken.select(ApiToken.token_hash)
    hashes = {row["token_hash"] for row in rows}
    assert hashlib.sha256(body["token"].encode()).hexdigest() in hashes
    assert body["token"] not in hashes
    # The token works: the facilitator may create a meeting.
    assert await can_see_drafts(client, bearer(body["token"])) == 200
    created = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-tamaris",
            "kind": "council",
            "title": "Réunion de test",
            "starts_at": f"{LIKE_2031}-01-15T18:00:00+01:00",
            "ends_at": f"{LIKE_2031}-01-15T20:00:00+01:00",
            "address": "Rue de la Lozère, 30100 Alès",
        },
        headers=bearer(body["token"]),
    )
    assert created.status_code == 201


async def test_each_log_in_gives_a_new_token(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    first = (await log_in(client)).json()["token"]
    second = (await log_in(client)).json()["token"]
    assert first != second
    assert await can_see_drafts(client, bearer(first)) == 200
    assert await can_see_drafts(client, bearer(second)) == 200


async def test_email_is_case_and_space_insensitive(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    response = await log_in(client, email="  Anim.Tamaris@ALES.fr ")
    assert response.status_code == 201


async def test_wrong_password_is_401(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    for password in ("un mot de passe faux", "", PASSWORD + " ", PASSWORD.upper(), "x" * 2000):
        response = await log_in(client, password=password)
        assert response.status_code == 401, password
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert body["code"] == "bad_credentials"
        assert "token" not in body


async def test_unknown_email_is_401_like_a_wrong_password(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    unknown = await log_in(client, email="personne@ales.fr")
    wrong = await log_in(client, password="un mot de passe faux")
    assert unknown.status_code == wrong.status_code == 401
    # Nothing tells which of the two was wrong.
    assert unknown.json() == wrong.json()
    assert (await log_in(client, email="")).status_code == 401
    assert (await log_in(client, email="x" * 300 + "@ales.fr")).status_code == 401


async def test_inactive_facilitator_cannot_log_in(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    from accounts.tables import Facilitator

    await Facilitator.update({Facilitator.active: False}).where(Facilitator.email == EMAIL)
    assert (await log_in(client)).status_code == 401
    # Nor use a token issued before.
    assert await can_see_drafts(client, tamaris_auth) == 401


async def test_token_request_needs_both_fields(client: AsyncClient, demo: None) -> None:
    for body in ({"email": EMAIL}, {"password": PASSWORD}, {}, {"email": 1, "password": 2}):
        response = await client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 400, body
    extra = {"email": EMAIL, "password": PASSWORD, "admin": True}
    response = await client.post("/api/v1/auth/token", json=extra)
    assert response.status_code == 400


async def test_log_out_revokes_the_token(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    other = bearer((await log_in(client)).json()["token"])
    assert await can_see_drafts(client, tamaris_auth) == 200
    response = await client.delete("/api/v1/auth/token", headers=tamaris_auth)
    assert response.status_code == 204
    assert response.content == b""
    refused = await client.get("/api/v1/meetings", params={"status": "draft"}, headers=tamaris_auth)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["code"] == "bad_token"
    # Logging out twice with the same token: it is no longer valid.
    assert (await client.delete("/api/v1/auth/token", headers=tamaris_auth)).status_code == 401
    # The facilitator's other token is untouched.
    assert await can_see_drafts(client, other) == 200
    revoked = await ApiToken.select(ApiToken.revoked_at).where(ApiToken.revoked_at.is_not_null())
    assert len(revoked) == 1


async def test_log_out_needs_a_token(client: AsyncClient, demo: None) -> None:
    response = await client.delete("/api/v1/auth/token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "auth_required"
    response = await client.delete("/api/v1/auth/token", headers=bearer("n'importe quoi"))
    assert response.status_code == 401


async def test_expired_token_is_refused(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    token = tamaris_auth["Authorization"].removeprefix("Bearer ")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    assert await can_see_drafts(client, tamaris_auth) == 200
    await ApiToken.update({ApiToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        ApiToken.token_hash == token_hash
    )
    response = await client.get(
        "/api/v1/meetings", params={"status": "draft"}, headers=tamaris_auth
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "bad_token"
    response = await client.post("/api/v1/meetings/1/publish", headers=tamaris_auth)
    assert response.status_code == 401
    # A token about to expire still works.
    await ApiToken.update({ApiToken.expires_at: datetime.now(UTC) + timedelta(minutes=1)}).where(
        ApiToken.token_hash == token_hash
    )
    assert await can_see_drafts(client, tamaris_auth) == 200


async def test_malformed_authorization_headers(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    token = tamaris_auth["Authorization"].removeprefix("Bearer ")
    assert await can_see_drafts(client, {"Authorization": f"bearer {token}"}) == 200
    assert await can_see_drafts(client, {"Authorization": f"Bearer   {token}  "}) == 200
    for value in (
        token,
        f"Token {token}",
        "Bearer",
        "Bearer ",
        f"Bearer {token}x",
        f"Bearer {token[:-1]}",
        "Bearer " + "a" * 5000,
        "Bearer \x7f",
    ):
        response = await client.get("/api/v1/meetings", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"] == "Bearer"


async def test_facilitator_of_several_councils(client: AsyncClient, demo: None) -> None:
    auth = await make_facilitator("anim.multi@ales.fr", "ales-tamaris", "ales-rive-droite")
    for council in ("ales-tamaris", "ales-rive-droite"):
        response = await client.post(
            "/api/v1/meetings",
            json={
                "council": council,
                "kind": "cafe",
                "title": "Café partagé",
                "starts_at": f"{LIKE_2031}-01-15T18:00:00+01:00",
                "ends_at": f"{LIKE_2031}-01-15T20:00:00+01:00",
                "online_url": "https://visio.example.org/cafe",
            },
            headers=auth,
        )
        assert response.status_code == 201, response.text
    response = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-agglo",
            "kind": "cafe",
            "title": "Café partagé",
            "starts_at": f"{LIKE_2031}-01-15T18:00:00+01:00",
            "ends_at": f"{LIKE_2031}-01-15T20:00:00+01:00",
            "online_url": "https://visio.example.org/cafe",
        },
        headers=auth,
    )
    assert response.status_code == 403
    drafts = await client.get("/api/v1/meetings", params={"status": "draft"}, headers=auth)
    assert drafts.json()["total"] == 2


async def test_a_real_site_hashes_with_rfc_9106_and_still_reads_other_hashes(
    client: AsyncClient, tamaris_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite hashes cheaply (PASSWORD_HASHING=cheapest); a site left at the default hashes
    with 64 MiB and three passes, and an account hashed otherwise still signs in."""
    monkeypatch.delenv("PASSWORD_HASHING")
    get_settings.cache_clear()
    try:
        assert hash_password("un mot de passe assez long").startswith(
            "$argon2id$v=19$m=65536,t=3,p=4$"
        )
        assert (await log_in(client)).status_code == 201  # hashed with the cheapest profile
        assert (await log_in(client, password=PASSWORD + "x")).status_code == 401
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
