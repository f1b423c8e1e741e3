"""Driving the back-office (`/animation/`) as a browser does: the CSRF cookie and the
`_csrf_token` field of forms, the session cookie, redirects to the sign-in page.

`signed_in(client, email)` signs a facilitator in through the real form (create them first
with `make_facilitator`); `post_form(client, url, data)` posts a form with the token the
back-office's pages carry.
"""

from __future__ import annotations

import re

import httpx

from tests.support.facilitator_support import PASSWORD

SIGN_IN = "/animation/connexion"
SESSION_COOKIE = "animation"  # "__Host-animation" behind https
CSRF_COOKIE = "csrf"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The token this client's forms carry (the sign-in page sets the cookie if needed)."""
    token = client.cookies.get(CSRF_COOKIE)
    if token:
        return token
    page = await client.get(SIGN_IN)
    found = _TOKEN.search(page.text)
    assert found, "the sign-in page carries a CSRF field"
    return found.group(1)


async def post_form(
    client: httpx.AsyncClient, url: str, data: dict[str, str | list[str]] | None = None
) -> httpx.Response:
    """POST a form as a back-office page would, `_csrf_token` included (a list value is a
    repeated field: check-boxes)."""
    token = await csrf_token(client)
    return await client.post(url, data={"_csrf_token": token, **(data or {})})


async def signed_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign in through the form; asserts it worked (303 to the dashboard)."""
    answer = await post_form(client, SIGN_IN, {"email": email, "password": password})
    assert answer.status_code == 303, answer.text
    assert client.cookies.get(SESSION_COOKIE)
    return answer
