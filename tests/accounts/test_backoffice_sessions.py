"""Back-office sessions: sign-in and out, rotation, timeouts, revocation, CSRF, and the wall
between the session cookie and the bearer API."""

from __future__ import annotations

import asyncio
import time
from hashlib import blake2s
from typing import Any

import httpx
import pytest

from accounts import sessions
from accounts.tables import Facilitator
from conseils.app import create_app
from conseils.settings import get_settings
from conseils.web.csrf import csrf_config
from tests.support.backoffice_support import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SIGN_IN,
    csrf_token,
    post_form,
    signed_in,
)
from tests.support.facilitator_support import PASSWORD, make_facilitator
from tests.support.limits_support import REDIS_URL

EMAIL = "anim.tamaris@ales.fr"


async def dashboard_with(client: httpx.AsyncClient, session_id: str) -> int:
    """The dashboard's status for a browser holding only this session cookie."""
    async with httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver.local",
        cookies={SESSION_COOKIE: session_id},
    ) as other:
        return (await other.get("/animation/")).status_code


@pytest.fixture
async def facilitator(demo: None) -> dict[str, str]:
    return await make_facilitator(EMAIL, "ales-tamaris")


async def test_anonymous_visitor_is_sent_to_sign_in_with_the_way_back(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    answer = await client.get("/animation/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/animation/connexion?suite=%2Fanimation%3Fx%3D1"
    assert "animation" not in client.cookies  # no session for a mere visit
    form = await client.get(answer.headers["location"])
    assert form.status_code == 200
    assert 'name="_csrf_token"' in form.text
    assert SESSION_COOKIE not in client.cookies


async def test_sign_in_opens_the_dashboard_and_sign_out_closes_it(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    answer = await signed_in(client, EMAIL)
    assert answer.headers["location"] == "/animation/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    dashboard = await client.get("/animation/")
    assert dashboard.status_code == 200
    assert "Bonjour anim.tamaris" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"
    old = client.cookies.get(SESSION_COOKIE)

    out = await post_form(client, "/animation/deconnexion")
    assert out.status_code == 303 and out.headers["location"] == SIGN_IN
    assert (await client.get("/animation/")).status_code == 303
    # The old id replayed (a copied cookie) opens nothing: the store forgot it.
    assert await dashboard_with(client, old) == 303


async def test_sign_in_goes_back_where_asked_but_never_off_site(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    for suite, expected in [
        ("/animation/?x=1", "/animation/?x=1"),
        ("https://evil.example/animation/", "/animation/"),
        ("//evil.example/animation/", "/animation/"),
        ("/reunions/1", "/animation/"),
    ]:
        client.cookies.clear()
        answer = await post_form(
            client, SIGN_IN, {"email": EMAIL, "password": PASSWORD, "suite": suite}
        )
        assert answer.headers["location"] == expected, suite


async def test_session_id_is_renewed_at_sign_in(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    """An id planted before sign-in (fixation) is not the one that gets signed in."""
    planted = "a" * 64
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    await signed_in(client, EMAIL)
    fresh = client.cookies.get(SESSION_COOKIE)
    assert fresh != planted
    assert await dashboard_with(client, fresh) == 200
    assert await dashboard_with(client, planted) == 303


async def test_wrong_password_and_unknown_account_answer_alike(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    wrong = await post_form(client, SIGN_IN, {"email": EMAIL, "password": "pas le bon"})
    unknown = await post_form(
        client, SIGN_IN, {"email": "personne@ales.fr", "password": "pas le bon"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "www-authenticate" not in wrong.headers  # a form, not an HTTP scheme
    assert "Adresse ou mot de passe incorrect." in wrong.text
    assert wrong.text.replace(EMAIL, "") == unknown.text.replace("personne@ales.fr", "")
    assert SESSION_COOKIE not in client.cookies


async def test_repeated_failures_are_throttled_on_the_page(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    for _ in range(6):
        await post_form(client, SIGN_IN, {"email": EMAIL, "password": "pas le bon"})
    blocked = await post_form(client, SIGN_IN, {"email": EMAIL, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "Trop de tentatives" in blocked.text
    assert SESSION_COOKIE not in client.cookies


async def test_deactivation_ends_sessions_at_once(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    await signed_in(client, EMAIL)
    await Facilitator.update({Facilitator.active: False}).where(Facilitator.email == EMAIL)
    assert (await client.get("/animation/")).status_code == 303


async def test_a_new_session_version_ends_older_sessions(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    await signed_in(client, EMAIL)
    await Facilitator.update({Facilitator.session_version: Facilitator.session_version + 1}).where(
        Facilitator.email == EMAIL
    )
    assert (await client.get("/animation/")).status_code == 303


async def test_absolute_timeout_after_twelve_hours(
    client: httpx.AsyncClient, facilitator: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    await signed_in(client, EMAIL)
    assert (await client.get("/animation/")).status_code == 200
    later = time.time() + sessions.ABSOLUTE_TIMEOUT_S + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert (await client.get("/animation/")).status_code == 303


async def test_idle_timeout_is_the_stores_expiry(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    answer = await signed_in(client, EMAIL)
    assert f"Max-Age={sessions.IDLE_TIMEOUT_S}" in answer.headers["set-cookie"]
    config = sessions.session_config()
    assert config.max_age == 2 * 3600 and config.renew_on_access


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    await signed_in(client, EMAIL)
    missing = await client.post("/animation/deconnexion")
    assert missing.status_code == 403
    forged = await client.post("/animation/deconnexion", data={"_csrf_token": "x" * 80})
    assert forged.status_code == 403
    # another visitor's valid token does not match this browser's cookie
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver.local"
    ) as other:
        foreign = await csrf_token(other)
    assert foreign != client.cookies.get(CSRF_COOKIE)
    crossed = await client.post("/animation/deconnexion", data={"_csrf_token": foreign})
    assert crossed.status_code == 403
    assert (await client.get("/animation/")).status_code == 200  # still signed in


async def test_a_form_posted_from_another_site_is_refused(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    token = await csrf_token(client)
    answer = await client.post(
        SIGN_IN,
        data={"_csrf_token": token, "email": EMAIL, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


async def test_the_api_never_accepts_the_session_cookie(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    await signed_in(client, EMAIL)
    created = await client.post(
        "/api/v1/meetings",
        json={
            "council": "ales-tamaris",
            "kind": "cafe",
            "title": "Café",
            "starts_at": "2030-01-10T18:00:00+01:00",
            "ends_at": "2030-01-10T20:00:00+01:00",
        },
    )
    assert created.status_code == 401
    assert "set-cookie" not in created.headers


async def test_public_pages_set_no_cookie(client: httpx.AsyncClient, facilitator: dict) -> None:
    await signed_in(client, EMAIL)
    home = await client.get("/")
    assert home.status_code == 200
    assert "set-cookie" not in home.headers


async def test_cookies_are_host_only_and_secure_behind_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BASE_URL", "https://conseils.example.fr")
    get_settings.cache_clear()
    try:
        config = sessions.session_config()
        assert config.key == "__Host-animation" and config.secure and config.path == "/"
        csrf = csrf_config(get_settings())
        assert csrf.cookie_name == "__Host-csrf" and csrf.cookie_secure
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_sessions_in_redis_are_shared_by_every_application(
    facilitator: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With REDIS_URL, two application instances (two processes, say) see one session."""
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    try:
        first, second = create_app(), create_app()
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=first), base_url="http://testserver.local"
            ) as one,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=second), base_url="http://testserver.local"
            ) as two,
        ):
            await signed_in(one, EMAIL)
            session_id = one.cookies.get(SESSION_COOKIE)
            assert await dashboard_with(two, session_id) == 200
            store = second.stores.get(sessions.STORE_NAME)
            assert await store.exists(session_id)
            await post_form(one, "/animation/deconnexion")
            assert not await store.exists(session_id)
            assert await dashboard_with(two, session_id) == 303
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_expired_session_files_are_swept_at_sign_in(
    client: httpx.AsyncClient, facilitator: dict, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.stores.get(sessions.STORE_NAME)
    await store.set("abandonne", b"{}", expires_in=1)
    await store.set("vivante", b"{}", expires_in=3600)
    monkeypatch.setattr(sessions, "_swept_at", -sessions.SWEEP_EVERY_S)
    await asyncio.sleep(1.1)
    await signed_in(client, EMAIL)
    files = {path.name async for path in store.path.iterdir()}
    # FileStore names a key's file by its BLAKE2s digest
    assert blake2s(b"abandonne").hexdigest() not in files
    assert blake2s(b"vivante").hexdigest() in files


async def test_a_form_posted_without_a_session_is_refused_in_french(
    client: httpx.AsyncClient, facilitator: dict
) -> None:
    answer = await post_form(client, "/animation/mon-compte/jetons", {"label": "x", "days": "7"})
    assert answer.status_code == 401
    assert "Connectez-vous" in answer.text
    assert "www-authenticate" not in answer.headers  # a form signs in, not an HTTP scheme
