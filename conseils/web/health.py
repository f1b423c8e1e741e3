"""Liveness and readiness: does the database answer?"""

from __future__ import annotations

from litestar import Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import Struct

from conseils.db import ping
from conseils.web.errors import RETRY_AFTER_S


class Health(Struct):
    status: str
    database: str


@get("/healthz", tags=["health"], cache_control=None)
async def healthz() -> Response[Health]:
    if await ping():
        return Response(Health("ok", "ok"), status_code=HTTP_200_OK)
    return Response(
        Health("degraded", "unreachable"),
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
