"""Calendar feeds sent compressed: gzip or Brotli as the client accepts, each copy made once
per feed version and kept next to the plain body, one ETag per coding, 304 with either, and
a big feed that travels in under 15 % of its size."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from httpx import AsyncClient

from conseils.web import compression
from tests.support.bulk_support import insert_meetings
from tests.support.compression_support import DECODE, decoded, raw_get
from tests.support.feed_support import create_published, parse, patch
from tests.support.registration_support import feed_path, feed_token_of, person, sign_up

FEEDS = [
    "/calendrier.ics",
    "/conseils/ales-tamaris/calendrier.ics",
    "/calendrier.ics?quartier=ales-tamaris&type=cafe",
]


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Every compression made meanwhile: (coding, size of the plain body)."""
    made: list[tuple[str, int]] = []
    original = compression.encode

    def counting(body: bytes, coding: str) -> bytes:
        made.append((coding, len(body)))
        return original(body, coding)

    monkeypatch.setattr(compression, "encode", counting)
    yield made


# ---------------------------------------------------------------- size


async def test_a_big_feed_travels_in_under_15_percent_of_its_size(
    client: AsyncClient, demo: None
) -> None:
    await insert_meetings(2000)
    plain, plain_raw = await raw_get(client, "/calendrier.ics", accept_encoding=None)
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain_raw.count(b"BEGIN:VEVENT") >= 2000
    sizes = {}
    for coding in ("gzip", "br"):
        response, raw = await raw_get(client, "/calendrier.ics", accept_encoding=coding)
        assert response.headers["content-encoding"] == coding
        assert int(response.headers["content-length"]) == len(raw)
        assert DECODE[coding](raw) == plain_raw  # the same feed, compressed once (not twice)
        sizes[coding] = len(raw)
    assert sizes["gzip"] < 0.15 * len(plain_raw), sizes["gzip"] / len(plain_raw)
    assert sizes["br"] < sizes["gzip"]


# ---------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("GZip", "gzip"),
        ("x-gzip", "gzip"),
        ("deflate, gzip;q=1.0", "gzip"),
        ("gzip, deflate, br, zstd", "br"),  # a browser's
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0", None),
        ("gzip;q=0.000, identity", None),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("br;q=0, *", "gzip"),
        ("gzip;q=2", None),  # not a q-value: not an acceptance either
        ("gzip;q=abc", None),
        ("gzip;q=nan", None),
        ("zstd, deflate", None),
        (" , ;q=1, gzip ; q=0.8 ", "gzip"),
    ],
)
async def test_the_coding_follows_accept_encoding(
    client: AsyncClient, demo: None, accept_encoding: str | None, coding: str | None
) -> None:
    path = "/conseils/ales-tamaris/calendrier.ics"
    plain, plain_raw = await raw_get(client, path, accept_encoding=None)
    response, raw = await raw_get(client, path, accept_encoding=accept_encoding)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(raw)
    assert decoded(response, raw) == plain_raw
    suffix = "" if coding is None else f"-{coding}"
    assert response.headers["etag"] == plain.headers["etag"][:-1] + suffix + '"'
    assert response.headers["last-modified"] == plain.headers["last-modified"]


async def test_every_feed_is_compressed(client: AsyncClient, tamaris_auth: dict[str, str]) -> None:
    meeting = await create_published(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    token = await feed_token_of(meeting["id"], person(1)["email"])
    for path in [*FEEDS, f"/reunions/{meeting['id']}/calendrier.ics", feed_path(token)]:
        response, raw = await raw_get(client, path, accept_encoding="gzip")
        assert response.status_code == 200, path
        assert response.headers["content-encoding"] == "gzip", path
        assert response.headers["vary"] == "Accept-Encoding", path
        assert response.headers["etag"].endswith('-gzip"'), path
        parse(gzip.decompress(raw))  # a valid calendar once decoded: never compressed twice


async def test_a_range_request_gets_the_plain_feed(client: AsyncClient, demo: None) -> None:
    """Byte ranges count the plain bytes: no compressed body under a range."""
    plain, plain_raw = await raw_get(client, "/calendrier.ics", accept_encoding=None)
    response, raw = await raw_get(
        client, "/calendrier.ics", accept_encoding="gzip, br", range="bytes=0-99"
    )
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert raw == plain_raw and response.headers["etag"] == plain.headers["etag"]


# ---------------------------------------------------------------- compressed once per version


async def test_each_copy_is_compressed_once_per_feed_version(
    client: AsyncClient, tamaris_auth: dict[str, str], encodings: list[tuple[str, int]]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    path = "/conseils/ales-tamaris/calendrier.ics"
    encodings.clear()  # the API's answers above were compressed too
    for _ in range(3):
        await raw_get(client, path, accept_encoding="gzip")
        await raw_get(client, path, accept_encoding="br")
        await raw_get(client, path, accept_encoding=None)
        await raw_get(client, path, "HEAD", accept_encoding="gzip")
    assert sorted(coding for coding, _ in encodings) == ["br", "gzip"]
    before, _ = await raw_get(client, path, accept_encoding="gzip")

    await patch(client, tamaris_auth, meeting["id"], title="Le marché du dimanche")
    encodings.clear()
    for _ in range(3):
        after, raw = await raw_get(client, path, accept_encoding="gzip")
    assert encodings == [("gzip", len(gzip.decompress(raw)))]  # the new version, once
    assert after.headers["etag"] != before.headers["etag"]
    assert b"Le march\xc3\xa9 du dimanche" in gzip.decompress(raw)


# ---------------------------------------------------------------- validators


async def test_a_304_answers_either_etag_of_the_version(client: AsyncClient, demo: None) -> None:
    path = "/conseils/ales-tamaris/calendrier.ics"
    plain, _ = await raw_get(client, path, accept_encoding=None)
    zipped, zipped_raw = await raw_get(client, path, accept_encoding="gzip")
    tag, gzip_tag = plain.headers["etag"], zipped.headers["etag"]
    assert gzip_tag == tag[:-1] + '-gzip"'
    cases = [
        # (Accept-Encoding, If-None-Match, the ETag of the 304)
        ("gzip", gzip_tag, gzip_tag),  # the gzip copy revalidated by its own tag
        ("gzip", f"W/{gzip_tag}", gzip_tag),
        ("gzip", tag, tag),  # held the plain copy before it asked for gzip: keeps it
        ("gzip", f'"autre", {tag}, {gzip_tag}', gzip_tag),  # a cache holding both: gzip
        ("gzip", "*", gzip_tag),
        (None, gzip_tag, gzip_tag),
        (None, tag, tag),
        ("br", tag[:-1] + '-br"', tag[:-1] + '-br"'),
    ]
    for accept, held, answered in cases:
        response, raw = await raw_get(client, path, accept_encoding=accept, if_none_match=held)
        assert response.status_code == 304, (accept, held)
        assert raw == b""
        assert response.headers["etag"] == answered, (accept, held)
        assert response.headers["vary"] == "Accept-Encoding"
        assert "content-encoding" not in response.headers
        assert response.headers.get("content-length") in (None, "0")
    for held in ('"autre"', tag[:-1] + '-deflate"', tag[:-1] + '-gzip-gzip"', gzip_tag[1:]):
        response, raw = await raw_get(client, path, accept_encoding="gzip", if_none_match=held)
        assert response.status_code == 200, held
        assert raw == zipped_raw


async def test_a_change_makes_every_old_etag_miss(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await create_published(client, tamaris_auth)
    path = "/conseils/ales-tamaris/calendrier.ics"
    zipped, _ = await raw_get(client, path, accept_encoding="gzip")
    plain, _ = await raw_get(client, path, accept_encoding=None)
    await patch(client, tamaris_auth, meeting["id"], title="Le marché du dimanche")
    for held in (zipped.headers["etag"], plain.headers["etag"]):
        response, raw = await raw_get(client, path, accept_encoding="gzip", if_none_match=held)
        assert response.status_code == 200
        assert b"Le march\xc3\xa9 du dimanche" in gzip.decompress(raw)
        again, _ = await raw_get(
            client, path, accept_encoding="gzip", if_none_match=response.headers["etag"]
        )
        assert again.status_code == 304


# ---------------------------------------------------------------- HEAD


@pytest.mark.parametrize("accept_encoding", [None, "gzip", "br"])
async def test_head_announces_the_length_of_the_copy_get_would_send(
    client: AsyncClient, demo: None, accept_encoding: str | None
) -> None:
    path = "/calendrier.ics"
    got, raw = await raw_get(client, path, accept_encoding=accept_encoding)
    head, head_raw = await raw_get(client, path, "HEAD", accept_encoding=accept_encoding)
    assert (head.status_code, head_raw) == (200, b"")
    assert head.headers["content-length"] == str(len(raw))
    for name in ("etag", "content-encoding", "vary", "last-modified"):
        assert head.headers.get(name) == got.headers.get(name), name
