"""The sign-up form says what it will do."""

from __future__ import annotations

from httpx import AsyncClient

from tests.support.registration_support import person, published_meeting, sign_up


def button(page: str) -> str:
    return page.split('<button type="submit">', 1)[1].split("</button>", 1)[0]


async def test_the_button_says_waiting_list_when_the_meeting_is_full(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=1)
    path = f"/reunions/{meeting['id']}"
    assert button((await client.get(path)).text) == "M'inscrire"
    await sign_up(client, meeting["id"], person(1))
    assert button((await client.get(path)).text) == "Rejoindre la liste d'attente"


async def test_without_a_limit_the_button_signs_up(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=None)
    await sign_up(client, meeting["id"], person(1))
    assert button((await client.get(f"/reunions/{meeting['id']}")).text) == "M'inscrire"
