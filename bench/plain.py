"""The baselines: Litestar handlers that touch no database and no template.

`/` answers a tiny JSON body; `/same-bytes` answers the bytes of the file named by
BENCH_PLAIN_BODY (a copy of the feed being measured), so that a large cached feed is compared
with the cost of sending the same number of bytes; `/same-gzip-bytes` those of
BENCH_PLAIN_GZIP (its gzip copy), sent as `Content-Encoding: gzip`.
"""

import os
from pathlib import Path

from litestar import Litestar, Response, get


def _file(variable: str) -> bytes:
    return Path(os.environ[variable]).read_bytes() if variable in os.environ else b""


_BODY = _file("BENCH_PLAIN_BODY")
_GZIP = _file("BENCH_PLAIN_GZIP")


@get("/")
async def plain() -> dict[str, str]:
    return {"status": "ok"}


@get("/same-bytes")
async def same_bytes() -> Response:
    return Response(_BODY, media_type="text/calendar")


@get("/same-gzip-bytes")
async def same_gzip_bytes() -> Response:
    return Response(_GZIP, media_type="text/calendar", headers={"Content-Encoding": "gzip"})


app = Litestar(route_handlers=[plain, same_bytes, same_gzip_bytes])
