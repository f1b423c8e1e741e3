"""The baselines: Litestar handlers that touch no database and no template.

`/` answers a tiny JSON body; `/same-bytes` answers the bytes of the file named by
BENCH_PLAIN_BODY (a copy of the feed being measured), so that a large cached feed is compared
with the cost of sending the same number of bytes.
"""

import os
from pathlib import Path

from litestar import Litestar, Response, get

_BODY = (
    Path(os.environ["BENCH_PLAIN_BODY"]).read_bytes() if "BENCH_PLAIN_BODY" in os.environ else b""
)


@get("/")
async def plain() -> dict[str, str]:
    return {"status": "ok"}


@get("/same-bytes")
async def same_bytes() -> Response:
    return Response(_BODY, media_type="text/calendar")


app = Litestar(route_handlers=[plain, same_bytes])
