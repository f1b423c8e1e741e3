"""The baseline: a Litestar app with one handler that touches no database and no template."""

from litestar import Litestar, get


@get("/")
async def plain() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[plain])
