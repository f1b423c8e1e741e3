"""Compressed responses (RFC 9110 §8.4, §12.5.3): the one place that chooses a content coding
and compresses.

- `chosen_coding()` reads `Accept-Encoding` with its q-values: Brotli (`br`) when the client
  takes it, else gzip, else the plain body. `gzip;q=0` refuses gzip, `*` stands for any coding
  not named, no header means the plain body. A request with a `Range` header always gets the
  plain body: byte ranges count the plain bytes.
- `Compressed` keeps a body's compressed copies, each made once (off the event loop) when a
  client first asks for it: the calendar feeds hold one per feed version, next to the plain
  body, so a feed is compressed once per change, not once per request.
- `encoded_etag()`: each coding has its own ETag, the plain one with `-gzip` or `-br` inside
  the quotes; a cache holding one copy revalidates it with its own tag.
- `CompressionMiddleware` compresses everything else of a text type (HTML pages, JSON, CSS)
  on the fly and adds `Vary: Accept-Encoding`. It leaves alone a response that already
  names its coding (the feeds), a partial one (206, `Content-Range`), one that offers byte
  ranges, a streamed one, bodies too small to gain, and the routes whose `opt` holds
  `UNCOMPRESSED`: the back-office's, whose pages carry a CSRF token and residents' personal
  data next to text that others typed (a compressed size would leak them: BREACH).

Litestar's own `CompressionConfig` is not used: it looks for the word "gzip" in the header
(so `gzip;q=0` still gets gzip), compresses an already encoded body again, leaves a
compressed response's ETag unchanged, and adds `Vary` only when it compressed.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Mapping, Sequence

import anyio
import brotli
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

BROTLI, GZIP = "br", "gzip"
CODINGS = (BROTLI, GZIP)  # preferred first when the client weighs them alike
GZIP_LEVEL = 6  # zlib's default: level 9 costs twice the time for about 5 % less
BROTLI_QUALITY = 5  # beats gzip 6 by a fifth at about its speed; 9 and up are far slower
MINIMUM_SIZE = 500  # below this the headers and framing eat the gain
IN_THREAD_FROM = 64 * 1024  # larger bodies are compressed in a worker thread
_QVALUE = re.compile(r"^(0(\.\d{0,3})?|1(\.0{0,3})?)$")  # RFC 9110 §12.4.2
_ALIASES = {"x-gzip": GZIP}  # RFC 9110 §8.4.1.3
UNCOMPRESSED = "uncompressed"  # a route (or router) `opt` key: never compressed


def _weights(header: str) -> dict[str, float]:
    """Each coding the header names, with its weight; an unreadable weight refuses it."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        name = _ALIASES.get(name.lower(), name.lower())
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else 0.0
        weights[name] = max(weight, weights.get(name, 0.0))
    return weights


def negotiate(accept_encoding: str | None) -> str | None:
    """The coding to send ("br", "gzip") for this Accept-Encoding, or None for the plain body."""
    if not accept_encoding:
        return None
    weights = _weights(accept_encoding)
    wildcard = weights.get("*", 0.0)
    best, best_weight = None, 0.0
    for coding in CODINGS:
        weight = weights.get(coding, wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def chosen_coding(headers: Mapping[str, str]) -> str | None:
    """The coding of the answer to a request with these headers (lower-case names)."""
    if "range" in headers:
        return None
    return negotiate(headers.get("accept-encoding"))


def encode(body: bytes, coding: str) -> bytes:
    if coding == GZIP:
        return gzip.compress(body, GZIP_LEVEL, mtime=0)  # mtime 0: the same bytes everywhere
    if coding == BROTLI:
        return brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    raise ValueError(f"unknown content coding {coding!r}")


async def encode_off_loop(body: bytes, coding: str) -> bytes:
    if len(body) < IN_THREAD_FROM:
        return encode(body, coding)
    return await anyio.to_thread.run_sync(encode, body, coding)


def encoded_etag(etag: str, coding: str | None) -> str:
    """`"abc"` → `"abc-gzip"` (and `W/"abc"` → `W/"abc-gzip"`): one tag per coding."""
    if coding is None or not etag.endswith('"'):
        return etag
    return f'{etag[:-1]}-{coding}"'


class Compressed:
    """A plain body and its compressed copies, each made once, when first asked for. The body
    may come in parts (a feed's segments): they are joined only to be compressed, in the
    worker thread, and the joined copy is not kept."""

    __slots__ = ("_copies", "_lock", "length", "parts")

    def __init__(self, body: bytes | Sequence[bytes]) -> None:
        self.parts: tuple[bytes, ...] = (body,) if isinstance(body, bytes) else tuple(body)
        self.length = sum(map(len, self.parts))
        self._copies: dict[str, bytes] = {}
        self._lock: asyncio.Lock | None = None

    @property
    def body(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)

    async def copy(self, coding: str | None) -> bytes:
        """The body in this coding (None: the plain body)."""
        if coding is None:
            return self.body
        found = self._copies.get(coding)
        if found is not None:
            return found
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one compression; requests arriving meanwhile wait for it
            found = self._copies.get(coding)
            if found is None:
                if self.length < IN_THREAD_FROM:
                    found = encode(self.body, coding)
                else:
                    found = await anyio.to_thread.run_sync(_encode_parts, self.parts, coding)
                self._copies[coding] = found
        return found


def _encode_parts(parts: tuple[bytes, ...], coding: str) -> bytes:
    return encode(parts[0] if len(parts) == 1 else b"".join(parts), coding)


# ---------------------------------------------------------------- everything else


def compressible(media_type: str) -> bool:
    media = media_type.split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        return False
    kind, _, subtype = media.partition("/")
    return (
        kind == "text"
        or subtype in ("json", "javascript", "xml")
        or subtype.endswith(("+json", "+xml"))
    )


_READ = (b"content-encoding", b"content-range", b"accept-ranges", b"content-type")


def _read(start: Message) -> tuple[dict[bytes, bytes], set[str]]:
    """The first value of each header `_eligible` reads, and the names `Vary` lists: one pass
    over the raw headers (this runs on every answer)."""
    first: dict[bytes, bytes] = {}
    varies: set[str] = set()
    for name, value in start.get("headers", ()):
        name = name.lower()
        if name == b"vary":
            varies.update(v.strip().lower() for v in value.decode("latin-1").split(","))
        elif name in _READ and name not in first:
            first[name] = value
    return first, varies


def _add_vary(start: Message, varies: set[str]) -> None:
    if "accept-encoding" not in varies and "*" not in varies:
        MutableScopeHeaders(start).extend_header_value("vary", "Accept-Encoding")


def _eligible(start: Message, headers: dict[bytes, bytes]) -> bool:
    """Whether the answer may vary by coding: a complete body of a text type, not encoded."""
    return (
        200 <= start["status"] < 300
        and start["status"] not in (204, 206)
        and b"content-encoding" not in headers
        and b"content-range" not in headers
        and headers.get(b"accept-ranges", b"none").strip().lower() == b"none"
        and compressible(headers.get(b"content-type", b"").decode("latin-1"))
    )


class CompressionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = UNCOMPRESSED

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        coding = chosen_coding(Headers.from_scope(scope))
        await next_app(scope, receive, _compressing(send, coding))


def _compressing(send: Send, coding: str | None) -> Send:
    start: Message | None = None  # held until the body tells whether it is compressed

    async def send_wrapper(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers, varies = _read(message)
            if not _eligible(message, headers):
                await send(message)
                return
            _add_vary(message, varies)
            if coding is None:
                await send(message)
                return
            start = message
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        held, start = start, None
        body = message.get("body", b"")
        if not message.get("more_body", False) and len(body) >= MINIMUM_SIZE:
            encoded = await encode_off_loop(body, coding)  # type: ignore[arg-type]
            headers = MutableScopeHeaders(held)
            headers["Content-Encoding"] = coding  # type: ignore[assignment]
            headers["Content-Length"] = str(len(encoded))
            if "etag" in headers:
                headers["ETag"] = encoded_etag(headers["etag"], coding)
            message = {**message, "body": encoded}
        await send(held)  # a streamed body (more_body) goes out as it is
        await send(message)

    return send_wrapper
