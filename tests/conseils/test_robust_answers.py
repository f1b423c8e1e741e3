"""Answers that hold up: hostile bodies and ids are the client's 4xx, never our 500, and
answers carrying a secret or personal data are never stored by a cache."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.support.registration_support import person, published_meeting, sign_up, token_of


@pytest.mark.parametrize(
    "path",
    ["/api/v1/meetings/1/registrations", "/api/v1/auth/token", "/api/v1/meetings"],
)
async def test_json_nested_too_deep_is_a_400_naming_the_body(
    client: AsyncClient, demo: None, path: str
) -> None:
    response = await client.post(
        path, content="[" * 100_000, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 401)  # 401: the meetings API asks for a token first
    if response.status_code == 400:
        body = response.json()
        assert body["code"] == "too_deep"
        assert body["extra"] == [{"key": "body", "message": "JSON imbriqué trop profondément"}]


@pytest.mark.parametrize("message_id", [2**31, 2**31 - 1, 9_999_999_999_999, 0])
async def test_an_outbox_id_out_of_range_is_a_404(
    client: AsyncClient, admin_auth: dict[str, str], message_id: int
) -> None:
    response = await client.post(f"/api/v1/outbox/{message_id}/retry", headers=admin_auth)
    assert response.status_code == 404
    assert response.json()["code"] == "message_not_found"


async def test_secrets_and_personal_data_are_never_stored_by_a_cache(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    mine = await sign_up(client, meeting["id"], person(1))
    token = token_of(mine["manage_url"])
    token_answer = await client.post(
        "/api/v1/auth/token",
        json={"email": "anim.tamaris@ales.fr", "password": "un mot de passe solide"},
    )
    assert token_answer.status_code == 201
    private = [
        token_answer,
        await client.get(f"/api/v1/meetings/{meeting['id']}/registrations", headers=tamaris_auth),
        await client.get(
            f"/api/v1/meetings/{meeting['id']}/registrations.csv", headers=tamaris_auth
        ),
        await client.get("/api/v1/outbox", headers=tamaris_auth),
        await client.get(f"/inscriptions/{token}"),
        await client.post(f"/inscriptions/{token}/agenda"),
    ]
    for answer in private:
        assert answer.status_code == 200 or answer.status_code == 201, answer.text
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    feed = (await client.get(f"/inscriptions/{token}")).text.split("/agenda/")[1][:43]
    answer = await client.get(f"/agenda/{feed}/calendrier.ics")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    public = await client.get(f"/reunions/{meeting['id']}")
    assert "no-store" not in public.headers.get("cache-control", "")
