"""Pages, JSON and static text compressed on the fly (conseils/web/compression.py), and what
is never compressed: encoded, partial, streamed or ranged answers, small bodies, the
back-office."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from litestar import Litestar, Response, get
from litestar.response import Stream

from conseils.web.compression import CompressionMiddleware
from tests.support.backoffice_registrants_support import base, tamaris_meeting
from tests.support.compression_support import decoded, raw_get, vary

PUBLIC = ["/", "/?type=cafe", "/conseils/ales-tamaris", "/api/v1/meetings", "/api/v1/councils"]


@pytest.mark.parametrize("path", PUBLIC)
@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [("gzip", "gzip"), ("gzip, deflate, br, zstd", "br"), (None, None), ("gzip;q=0", None)],
)
async def test_pages_and_json_are_compressed_when_accepted(
    client: AsyncClient, demo: None, path: str, accept_encoding: str | None, coding: str | None
) -> None:
    plain, plain_raw = await raw_get(client, path, accept_encoding=None)
    response, raw = await raw_get(client, path, accept_encoding=accept_encoding)
    assert response.status_code == plain.status_code == 200
    assert len(plain_raw) > 500
    assert response.headers.get("content-encoding") == coding
    assert "accept-encoding" in vary(response) and "accept-encoding" in vary(plain)
    assert int(response.headers["content-length"]) == len(raw)
    assert response.headers["content-type"] == plain.headers["content-type"]
    assert response.headers["content-security-policy"] == plain.headers["content-security-policy"]
    assert decoded(response, raw) == plain_raw
    if coding is not None:
        assert len(raw) < len(plain_raw) / 2


async def test_head_announces_the_compressed_length(client: AsyncClient, demo: None) -> None:
    _, raw = await raw_get(client, "/", accept_encoding="gzip")
    head, head_raw = await raw_get(client, "/", "HEAD", accept_encoding="gzip")
    assert (head.status_code, head_raw) == (200, b"")
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == str(len(raw))


async def test_static_text_is_compressed_with_its_own_etag(client: AsyncClient) -> None:
    plain, plain_raw = await raw_get(client, "/static/site.css", accept_encoding=None)
    zipped, raw = await raw_get(client, "/static/site.css", accept_encoding="gzip")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == plain_raw
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["etag"].endswith('-gzip"')
    font, _ = await raw_get(client, "/static/fonts/DejaVuSans.ttf", accept_encoding="gzip")
    assert font.status_code == 200
    assert "content-encoding" not in font.headers  # not a text type


async def test_a_small_answer_is_sent_as_it_is_but_varies(client: AsyncClient, demo: None) -> None:
    response, raw = await raw_get(client, "/healthz", accept_encoding="gzip")
    assert len(raw) < 500
    assert "content-encoding" not in response.headers
    assert "accept-encoding" in vary(response)


async def test_a_range_request_gets_the_plain_body(client: AsyncClient, demo: None) -> None:
    _, plain_raw = await raw_get(client, "/api/v1/meetings", accept_encoding=None)
    response, raw = await raw_get(
        client, "/api/v1/meetings", accept_encoding="gzip, br", range="bytes=0-99"
    )
    assert response.status_code == 200  # ranges are not served: the whole body, plain
    assert "content-encoding" not in response.headers
    assert raw == plain_raw


async def test_errors_are_not_compressed(client: AsyncClient, demo: None) -> None:
    response, raw = await raw_get(client, "/conseils/nulle-part", accept_encoding="gzip")
    assert response.status_code == 404
    assert "content-encoding" not in response.headers
    assert "conseil" in raw.decode().lower()


async def test_the_back_office_is_never_compressed(client: AsyncClient, demo: None) -> None:
    """Its pages hold a CSRF token and residents' data beside what others typed: BREACH."""
    setup = await tamaris_meeting(client, signups=5)
    meeting_id = setup["meeting"]["id"]
    for path, media in [
        ("/inscriptions", "text/html"),
        ("/inscriptions.csv", "text/csv"),
        ("/emargement.pdf", "application/pdf"),
    ]:
        for extra in ({}, {"range": "bytes=0-99"}):
            response, raw = await raw_get(
                client, base(meeting_id) + path, accept_encoding="gzip, br", **extra
            )
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(media)
            assert "content-encoding" not in response.headers, path
            assert int(response.headers["content-length"]) == len(raw)
    sign_in, _ = await raw_get(client, "/animation/connexion", accept_encoding="gzip")
    assert "content-encoding" not in sign_in.headers


# ---------------------------------------------------------------- the rules, on their own

TEXT = ("Une ligne de texte qui se répète. " * 100).encode()


@get("/encoded")
async def already_encoded() -> Response:
    return Response(
        gzip.compress(TEXT), media_type="text/plain", headers={"Content-Encoding": "gzip"}
    )


@get("/partial")
async def partial() -> Response:
    return Response(
        TEXT[:1000],
        status_code=206,
        media_type="text/plain",
        headers={"Content-Range": f"bytes 0-999/{len(TEXT)}"},
    )


@get("/ranges")
async def ranges() -> Response:
    return Response(TEXT, media_type="text/plain", headers={"Accept-Ranges": "bytes"})


@get("/streamed")
async def streamed() -> Stream:
    async def parts() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield TEXT

    return Stream(parts(), media_type="text/plain")


@get("/binary")
async def binary() -> Response:
    return Response(TEXT, media_type="application/octet-stream")


@get("/tagged")
async def tagged() -> Response:
    return Response(
        TEXT, media_type="text/plain", headers={"ETag": 'W/"v1"', "Vary": "Accept-Language"}
    )


@pytest.fixture
async def bare() -> AsyncIterator[AsyncClient]:
    app = Litestar(
        [already_encoded, partial, ranges, streamed, binary, tagged],
        middleware=[CompressionMiddleware()],
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_an_encoded_answer_is_not_compressed_twice(bare: AsyncClient) -> None:
    response, raw = await raw_get(bare, "/encoded", accept_encoding="gzip, br")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT


@pytest.mark.parametrize("path", ["/partial", "/ranges", "/streamed", "/binary"])
async def test_partial_ranged_streamed_and_binary_answers_go_as_they_are(
    bare: AsyncClient, path: str
) -> None:
    response, raw = await raw_get(bare, path, accept_encoding="gzip, br")
    assert "content-encoding" not in response.headers
    assert raw in (TEXT[:1000], TEXT, TEXT * 3)


async def test_a_compressed_answer_keeps_its_vary_and_gets_its_own_etag(
    bare: AsyncClient,
) -> None:
    response, raw = await raw_get(bare, "/tagged", accept_encoding="gzip")
    assert gzip.decompress(raw) == TEXT
    assert response.headers["etag"] == 'W/"v1-gzip"'
    assert vary(response) == {"accept-language", "accept-encoding"}
    plain, _ = await raw_get(bare, "/tagged", accept_encoding=None)
    assert plain.headers["etag"] == 'W/"v1"'
    assert vary(plain) == {"accept-language", "accept-encoding"}
