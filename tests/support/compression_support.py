"""Reading answers as they travel: the body as sent (compressed or not), with the request's
Accept-Encoding chosen by the test (httpx sends its own otherwise, and decodes)."""

from __future__ import annotations

import gzip

import brotli
from httpx import AsyncClient, Response

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda body: body}


async def raw_get(
    client: AsyncClient, path: str, method: str = "GET", **headers: str | None
) -> tuple[Response, bytes]:
    """The answer and its body as sent (not decoded). Header names in snake case; one given
    None is not sent at all."""
    request = client.build_request(method, path)
    for name, value in headers.items():
        name = name.replace("_", "-")
        if value is None:
            request.headers.pop(name, None)
        else:
            request.headers[name] = value
    response = await client.send(request, stream=True)
    raw = b"".join([part async for part in response.aiter_raw()])
    await response.aclose()
    return response, raw


def decoded(response: Response, raw: bytes) -> bytes:
    return DECODE[response.headers.get("content-encoding")](raw)


def vary(response: Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}
