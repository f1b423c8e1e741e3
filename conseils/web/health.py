"""Liveness and readiness: does the database answer?"""

from __future__ import annotations

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import Struct

from conseils.db import ping
from conseils.web.api_spec import operation
from conseils.web.errors import RETRY_AFTER_S


class Health(Struct):
    status: str
    database: str


@get(
    "/healthz",
    tags=["health"],
    cache_control=None,
    **operation(
        "getHealth",
        "Check the service and its database",
        answers={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                Health,
                description="The database does not answer (with `Retry-After`)",
                generate_examples=False,
            )
        },
    ),
)
async def healthz() -> Response[Health]:
    """For load balancers and monitoring (anyone may call): 200 `ok` while the database
    answers, 503 `degraded` with `Retry-After` while it does not."""
    if await ping():
        return Response(Health("ok", "ok"), status_code=HTTP_200_OK)
    return Response(
        Health("degraded", "unreachable"),
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
