"""The personal-data link: asked for on /mes-donnees, sent only to the address (the answer
is the same for an unknown one), valid one hour, replaced by a newer one, never consumed by
a GET (mail scanners open links), consumed by erasure."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from conseils.timefmt import now_utc
from notifications.tables import OutboxMessage
from privacy.tables import AccessRequest
from tests.support.privacy_support import ask_link, data_links
from tests.support.registration_support import person, published_meeting, sign_up

ADDRESS = "habitante.1@example.org"


async def test_a_known_and_an_unknown_address_get_the_same_answer(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    form = await client.get("/mes-donnees")
    assert form.status_code == 200
    assert 'name="email"' in form.text
    known = await client.post("/mes-donnees", data={"email": " Habitante.1@Example.org "})
    unknown = await client.post("/mes-donnees", data={"email": "personne@example.org"})
    assert (known.status_code, known.headers["location"]) == (
        unknown.status_code,
        unknown.headers["location"],
    )
    assert known.content == unknown.content
    page = await client.get(known.headers["location"])
    assert page.status_code == 200
    assert "Si cette adresse est connue" in page.text
    assert "/mes-donnees/" not in page.text.replace("/mes-donnees/demande-envoyee", "")
    assert len(await data_links(ADDRESS)) == 1
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "personne@example.org") == 0
    assert await AccessRequest.count().where(AccessRequest.email == "personne@example.org") == 0


async def test_a_bad_address_is_refused_with_the_field_and_reason(client: AsyncClient) -> None:
    answer = await client.post("/mes-donnees", data={"email": "pas-une-adresse"})
    assert answer.status_code == 400
    assert "Adresse électronique : adresse électronique invalide" in answer.text
    empty = await client.post("/mes-donnees", data={})
    assert empty.status_code == 400
    assert "indiquez votre adresse électronique" in empty.text


async def test_the_link_is_stored_hashed_and_viewing_does_not_consume_it(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1, name="Bernadette"))
    token = await ask_link(client, ADDRESS)
    [stored] = await AccessRequest.select()
    assert token not in str(stored)
    for _ in range(3):  # a mail scanner, then the resident, then a reload
        page = await client.get(f"/mes-donnees/{token}")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "Bernadette" in page.text and ADDRESS in page.text
        download = await client.get(f"/mes-donnees/{token}/export.json")
        assert download.status_code == 200
        confirm = await client.get(f"/mes-donnees/{token}/effacer")
        assert confirm.status_code == 200
    assert await AccessRequest.count() == 1


async def test_a_new_request_kills_the_older_link(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    first = await ask_link(client, ADDRESS)
    second = await ask_link(client, ADDRESS)
    assert first != second
    assert (await client.get(f"/mes-donnees/{first}")).status_code == 404
    assert (await client.post(f"/mes-donnees/{first}/effacer")).status_code == 404
    assert (await client.get(f"/mes-donnees/{second}")).status_code == 200


async def test_the_link_expires_after_an_hour(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    token = await ask_link(client, ADDRESS)
    [stored] = await AccessRequest.select()
    validity = stored["expires_at"] - stored["created_at"]
    assert validity == timedelta(hours=1)
    # An hour later (the clock moved by moving the stored expiry).
    await AccessRequest.update({AccessRequest.expires_at: now_utc() - timedelta(seconds=1)}).where(
        AccessRequest.email == ADDRESS
    )
    for path in (f"/mes-donnees/{token}", f"/mes-donnees/{token}/export.json"):
        expired = await client.get(path)
        assert expired.status_code == 404
        assert "Ce lien n'est plus valable" in expired.text
        assert 'href="/mes-donnees"' in expired.text
    assert (await client.post(f"/mes-donnees/{token}/effacer")).status_code == 404
    assert (await client.get("/mes-donnees/" + "x" * 43)).status_code == 404
    assert (await client.get("/mes-donnees/court")).status_code == 404


async def test_asking_again_and_again_neither_floods_the_inbox_nor_kills_the_link(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    links = [await ask_link(client, ADDRESS) for _ in range(3)]
    for _ in range(5):  # someone typing the address again: held, not sent
        answer = await client.post("/mes-donnees", data={"email": ADDRESS})
        assert answer.status_code == 303
    statuses = [
        row["status"]
        for row in await OutboxMessage.select(OutboxMessage.status).where(
            OutboxMessage.kind == "privacy_link"
        )
    ]
    assert statuses == ["queued"] * 3 + ["held"] * 5
    assert (await client.get(f"/mes-donnees/{links[-1]}")).status_code == 200
