"""HEAD is answered wherever GET is: same status and headers, no body."""

from __future__ import annotations

import httpx
import pytest
from httpx import AsyncClient

from tests.support.live_server import LiveServer


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conseils/ales-tamaris",
        "/calendrier.ics",
        "/conseils/ales-tamaris/calendrier.ics",
        "/api/v1/meetings",
        "/healthz",
        "/static/site.css",
        "/reunions/999999",
    ],
)
async def test_head_answers_like_get_without_a_body(
    client: AsyncClient, demo: None, path: str
) -> None:
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers.get("content-type") == get.headers.get("content-type")
    if "content-length" in get.headers:
        assert head.headers["content-length"] == get.headers["content-length"]


def test_head_over_a_real_server(live_server: LiveServer) -> None:
    """Through uvicorn, which checks that a HEAD answer carries no body."""
    for path in ("/", "/calendrier.ics", "/api/v1/councils"):
        get = httpx.get(live_server.url + path)
        head = httpx.head(live_server.url + path)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(get.num_bytes_downloaded)  # as sent


async def test_post_only_routes_still_refuse_head(client: AsyncClient, demo: None) -> None:
    head = await client.head("/api/v1/auth/token")
    assert head.status_code == 405
