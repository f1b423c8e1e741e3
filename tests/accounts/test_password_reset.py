"""A forgotten password: the same answer for every address, a single-use link valid an
hour sent to the account's own inbox, every session ended once it is used."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from litestar import Litestar

from accounts import links
from accounts.tables import Facilitator, PasswordLink
from conseils.tables import AuditEntry
from conseils.timefmt import now_utc
from notifications.tables import OutboxMessage
from tests.support.account_support import emailed_links, link_path, links_in
from tests.support.backoffice_support import SIGN_IN, csrf_token, post_form, signed_in
from tests.support.facilitator_support import PASSWORD, make_facilitator
from tests.support.mail_support import create_meeting, plain_text, send_all
from tests.support.smtp_sink import SmtpSink

EMAIL = "anim.tamaris@ales.fr"
FORGOT = "/animation/mot-de-passe-oublie"
NEW_PASSWORD = "une toute nouvelle phrase de passe"


@pytest.fixture
async def auth(demo: None) -> dict[str, str]:
    return await make_facilitator(EMAIL, "ales-tamaris")


async def ask_reset(client: httpx.AsyncClient, address: str) -> httpx.Response:
    return await post_form(client, FORGOT, {"email": address})


async def password_hash() -> str:
    row = await Facilitator.select(Facilitator.password_hash).where(Facilitator.email == EMAIL)
    return row[0]["password_hash"]


async def choose(
    client: httpx.AsyncClient,
    token: str,
    password: str = NEW_PASSWORD,
    confirmation: str | None = None,
) -> httpx.Response:
    return await post_form(
        client,
        link_path(token),
        {"password": password, "confirmation": password if confirmation is None else confirmation},
    )


async def test_the_link_reaches_the_inbox_and_works_once(
    client: httpx.AsyncClient, auth: dict, smtp_sink: SmtpSink
) -> None:
    form = await client.get(FORGOT)
    assert form.status_code == 200 and 'name="_csrf_token"' in form.text
    asked = await ask_reset(client, " Anim.Tamaris@ales.fr ")
    assert asked.status_code == 303
    assert asked.headers["location"] == f"{FORGOT}/envoye"
    sent_page = await client.get(asked.headers["location"])
    assert "si un compte existe avec cette adresse, un lien a été envoyé" in sent_page.text.lower()
    assert EMAIL not in sent_page.text

    [message] = (await send_all(smtp_sink)).values()
    assert message["To"] == EMAIL
    assert "mot de passe" in message["Subject"].lower()
    assert message["Auto-Submitted"] == "auto-generated"
    text = plain_text(message)
    [token] = links_in(text)
    assert "valable une heure" in text
    assert "espace d'animation" in text.split("--")[-1].lower()  # the footer
    stored = await PasswordLink.select().first()
    assert stored is not None and token not in str(stored)  # only its hash is kept
    assert timedelta(minutes=59) < stored["expires_at"] - now_utc() <= timedelta(hours=1)

    page = await client.get(link_path(token))
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text and "confirmation" in page.text
    assert page.headers["cache-control"] == "no-store"
    before = await password_hash()
    done = await choose(client, token)
    assert done.status_code == 303
    assert done.headers["location"] == "/animation/mot-de-passe-enregistre"
    assert (await client.get(done.headers["location"])).status_code == 200
    assert await password_hash() != before

    await signed_in(client, EMAIL, NEW_PASSWORD)
    client.cookies.clear()
    refused = await post_form(client, SIGN_IN, {"email": EMAIL, "password": PASSWORD})
    assert refused.status_code == 401
    after = await password_hash()

    # Used: the page and the form both refuse it (410), and nothing changes.
    again = await client.get(link_path(token))
    assert again.status_code == 410
    assert "Ce lien n'est plus valable" in again.text
    reused = await choose(client, token, "encore un autre mot de passe")
    assert reused.status_code == 410
    assert await password_hash() == after
    assert [row["action"] for row in await AuditEntry.select(AuditEntry.action)] == [
        "account.password_reset"
    ]


async def test_an_unknown_or_inactive_address_gets_the_same_answer_and_no_email(
    client: httpx.AsyncClient, auth: dict
) -> None:
    await make_facilitator("ancien@ales.fr")
    await Facilitator.update({Facilitator.active: False}).where(
        Facilitator.email == "ancien@ales.fr"
    )
    known = await ask_reset(client, EMAIL)
    for address in ("personne@ales.fr", "ancien@ales.fr"):
        other = await ask_reset(client, address)
        assert (other.status_code, other.headers["location"]) == (
            known.status_code,
            known.headers["location"],
        )
        assert await emailed_links(address) == []
    assert len(await emailed_links(EMAIL)) == 1
    assert await OutboxMessage.count() == 1


async def test_a_malformed_address_is_told_beside_the_field(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for value in ("", "pas-une-adresse"):
        answer = await ask_reset(client, value)
        assert answer.status_code == 400
        assert 'id="email-erreur"' in answer.text
        assert 'aria-describedby="email-erreur"' in answer.text
    assert await OutboxMessage.count() == 0


async def test_the_link_expires_after_an_hour(client: httpx.AsyncClient, auth: dict) -> None:
    await ask_reset(client, EMAIL)
    [token] = await emailed_links(EMAIL)
    await PasswordLink.update(
        {PasswordLink.expires_at: now_utc() - timedelta(seconds=1)}, force=True
    )
    before = await password_hash()
    assert (await client.get(link_path(token))).status_code == 410
    assert (await choose(client, token)).status_code == 410
    assert await password_hash() == before
    row = await Facilitator.select(Facilitator.session_version).first()
    assert row is not None and row["session_version"] == 0


async def test_an_unknown_link_is_not_found(client: httpx.AsyncClient, auth: dict) -> None:
    for token in ("x" * 43, "trop-court", "a" * 200):
        assert (await client.get(link_path(token))).status_code == 404
    assert (await choose(client, "x" * 43)).status_code == 404


async def test_every_session_dies_and_the_api_tokens_stay(
    client: httpx.AsyncClient, app: Litestar, auth: dict
) -> None:
    await signed_in(client, EMAIL)
    assert (await client.get("/animation/")).status_code == 200
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as other:
        await ask_reset(other, EMAIL)
        [token] = await emailed_links(EMAIL)
        assert (await choose(other, token)).status_code == 303
    assert (await client.get("/animation/")).status_code == 303  # signed out
    await create_meeting(client, auth)  # the API token still works (201)


async def test_bad_passwords_are_told_beside_the_fields_and_the_link_stays(
    client: httpx.AsyncClient, auth: dict
) -> None:
    await ask_reset(client, EMAIL)
    [token] = await emailed_links(EMAIL)
    before = await password_hash()
    short = await choose(client, token, "court")
    assert short.status_code == 400
    assert 'id="password-erreur"' in short.text and "12" in short.text
    different = await choose(client, token, NEW_PASSWORD, "une autre phrase de passe")
    assert different.status_code == 400
    assert 'id="confirmation-erreur"' in different.text
    assert "diffèrent" in different.text
    assert await password_hash() == before
    assert (await choose(client, token)).status_code == 303


async def test_a_new_link_ends_the_previous_one(client: httpx.AsyncClient, auth: dict) -> None:
    await ask_reset(client, EMAIL)
    await ask_reset(client, EMAIL)
    first, second = await emailed_links(EMAIL)
    assert (await client.get(link_path(first))).status_code == 410
    assert (await client.get(link_path(second))).status_code == 200


async def test_an_inbox_gets_three_links_an_hour_at_most(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for _ in range(links.REQUESTS_PER_ADDRESS):
        answer = await ask_reset(client, EMAIL)
        assert answer.status_code == 303
    assert len(await emailed_links(EMAIL)) == links.RESETS_PER_HOUR == 3
    # Past the cap nothing changes: the last link sent still works.
    assert (await client.get(link_path((await emailed_links(EMAIL))[-1]))).status_code == 200
    blocked = await ask_reset(client, EMAIL)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "Trop de demandes" in blocked.text
    assert len(await emailed_links(EMAIL)) == 3


async def test_requests_are_throttled_per_client_address(
    client: httpx.AsyncClient, auth: dict
) -> None:
    for number in range(links.REQUESTS_PER_IP):
        assert (await ask_reset(client, f"inconnu{number}@ales.fr")).status_code == 303
    assert (await ask_reset(client, EMAIL)).status_code == 429
    assert await emailed_links(EMAIL) == []


async def test_a_deactivated_account_cannot_use_its_link(
    client: httpx.AsyncClient, auth: dict
) -> None:
    await ask_reset(client, EMAIL)
    [token] = await emailed_links(EMAIL)
    await Facilitator.update({Facilitator.active: False}).where(Facilitator.email == EMAIL)
    before = await password_hash()
    assert (await choose(client, token)).status_code == 410
    assert await password_hash() == before


async def test_the_forms_need_their_csrf_token(client: httpx.AsyncClient, auth: dict) -> None:
    await csrf_token(client)  # the cookie is there; the field is not
    assert (await client.post(FORGOT, data={"email": EMAIL})).status_code == 403
    assert await OutboxMessage.count() == 0
    await ask_reset(client, EMAIL)
    [token] = await emailed_links(EMAIL)
    before = await password_hash()
    forged = await client.post(
        link_path(token),
        data={"_csrf_token": "forged", "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert forged.status_code == 403
    assert await password_hash() == before
    assert (await client.get(link_path(token))).status_code == 200
