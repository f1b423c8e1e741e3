"""The API reads JSON bodies strictly: `"12"` is not an integer, `"true"` not a boolean.

Litestar decodes a body to Python values, then converts them to the handler's type with
msgspec in lax mode (so that query strings can become integers): `{"capacity": "12"}` was
accepted although the OpenAPI schema says integer. This hook, run before the handler,
decodes the raw body once more, strictly, against the handler's `data` type, and answers
400 naming the field; the body is cached by the request, so Litestar's own reading follows.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

_WHERE = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def _field(path: str, message: str) -> str:
    """`.capacity` → `capacity`; an unknown or missing field is named; the body itself, as
    Litestar names it, `data`."""
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named['name']}"
    return path.lstrip(".") or "data"


def _data_type(request: Request) -> Any:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    return None if parameter is None else parameter.annotation


async def strict_json_body(request: Request) -> None:
    target = _data_type(request)
    if target is None:
        return
    body = await request.body()
    if not body.strip():
        return  # no body: the handler's own rules (an optional body, or 400) apply
    try:
        # Untyped first: a body nested too deep raises RecursionError here, answered as such.
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar answers it, as before
    try:
        msgspec.convert(value, type=target, strict=True)
    except msgspec.ValidationError as exc:
        found = _WHERE.match(str(exc))
        message, path = (found["message"], found["path"] or "") if found else (str(exc), "")
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"key": _field(path, message), "message": message, "source": "body"}],
        ) from None
