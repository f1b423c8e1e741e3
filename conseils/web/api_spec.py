"""What the OpenAPI document says of each API operation beyond its types: its id and
summary, the errors it answers with their reason codes, and the error body's one schema.

A route handler of /api/v1 is decorated with `**operation("createMeeting", "Schedule a draft
meeting", INVALID, *BEARER, NOT_YOUR_COUNCIL, ...)`; its docstring is its description.
Each `Reason` is one (status, code) the operation really answers, with what it means; the
responses are built from them here, grouped by status, every one with the `Error` schema
(what `conseils.web.errors` writes) and its codes listed. The apps declare the reasons of
their own codes next to their controllers; the core's, shared by all, are below.
tests/system/test_openapi_errors.py provokes every one of them over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIHeader, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec import Reference as SchemaReference
from msgspec import UNSET, Meta, Struct, UnsetType


@dataclass
class JsonExample(Example):
    """An example written as OpenAPI wants it: its value as given (Litestar leaves out
    every `null` in it, and a field that is always there, `"online_url": null`, would seem
    optional), and no `id` field (Litestar writes it; it is the example's key)."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        schema.pop("id", None)
        if self.value is not None:
            schema["value"] = self.value
        return schema


class FieldError(Struct):
    """One field at fault."""

    key: Annotated[
        str,
        Meta(description="The field, query parameter or header (`data`: the body as a whole)"),
    ]
    message: Annotated[str, Meta(description="Why, in French")]


class Error(Struct):
    """The body of every error the API answers."""

    status_code: Annotated[int, Meta(description="The HTTP status, repeated")]
    code: Annotated[
        str,
        Meta(description="Stable, for programs: one of the reason codes the response lists"),
    ]
    detail: Annotated[str, Meta(description="For people, in French")]
    extra: Annotated[
        list[FieldError] | UnsetType,
        Meta(description="400 only: each field at fault, with its reason"),
    ] = UNSET


@dataclass(frozen=True, slots=True)
class Reason:
    """One error an operation answers: its status, its stable code, and when."""

    status: int
    code: str
    meaning: str


# ---------------------------------------------------------------- the core's reasons

INVALID = Reason(
    400, "invalid", "a field, query parameter or header is wrong: `extra` names each one"
)
BODY_MALFORMED = Reason(400, "http_400", "the body is not JSON: malformed, or not UTF-8")
BODY_TOO_DEEP = Reason(400, "too_deep", "the JSON body is nested too deep")
AUTH_REQUIRED = Reason(401, "auth_required", "no `Authorization: Bearer <token>` header")
BAD_TOKEN = Reason(
    401,
    "bad_token",
    "the `Authorization` header is not `Bearer <token>`, or the token is unknown, expired "
    "or revoked, or its account was deactivated",
)
BODY_TOO_LARGE = Reason(413, "http_413", "the body is larger than 1 MB")
NOT_JSON = Reason(
    415, "unsupported_media_type", "the body is not sent as `Content-Type: application/json`"
)
ADMIN_ONLY = Reason(403, "admin_only", "only the site's administrators may do this")
RATE_LIMITED = Reason(
    429,
    "too_many_requests",
    "more than `RATE_LIMIT_PER_MINUTE` writes from this client in a minute; wait "
    "`Retry-After` seconds",
)

# Groups: what every operation of a kind answers.
BEARER = (AUTH_REQUIRED, BAD_TOKEN)  # an operation that needs a token
OPTIONAL_BEARER = (BAD_TOKEN,)  # one that reads a token when one is sent
ADMIN = (*BEARER, ADMIN_ONLY)  # one for the site's administrators only
JSON_BODY = (INVALID, BODY_MALFORMED, BODY_TOO_DEEP, BODY_TOO_LARGE, NOT_JSON)
# A public write (no bearer scheme): counted by the per-client rate limit.
PUBLIC_WRITE = (RATE_LIMITED,)

HEADERS = {
    401: {
        "WWW-Authenticate": OpenAPIHeader(
            schema=Schema(type="string", examples=["Bearer"]),  # type: ignore[arg-type]
            description="`Bearer`: the scheme this API expects",
        )
    },
    429: {
        "Retry-After": OpenAPIHeader(
            schema=Schema(type="integer", minimum=1),  # type: ignore[arg-type]
            description="seconds to wait before trying again",
        )
    },
}


def _description(status: int, reasons: list[Reason]) -> str:
    lines = [f"{HTTPStatus(status).phrase}. Reason codes (`code`):", ""]
    lines += [f"- `{r.code}`: {r.meaning}" for r in reasons]
    return "\n".join(lines)


def _example(reason: Reason) -> Example:
    body: dict[str, Any] = {"status_code": reason.status, "code": reason.code, "detail": "…"}
    if reason.code == INVALID.code:
        body["extra"] = [{"key": "title", "message": "ne doit pas être vide"}]
    return JsonExample(id=reason.code, summary=reason.meaning, value=body)


def error_responses(reasons: Iterable[Reason]) -> dict[int, ResponseSpec]:
    """One response per status, the `Error` schema, its reasons listed and exemplified."""
    by_status: dict[int, list[Reason]] = {}
    for reason in reasons:
        listed = by_status.setdefault(reason.status, [])
        if reason not in listed:
            listed.append(reason)
    return {
        status: ResponseSpec(
            data_container=Error,
            description=_description(status, listed),
            examples=[_example(reason) for reason in listed],
            generate_examples=False,
        )
        for status, listed in sorted(by_status.items())
    }


@dataclass
class ApiOperation(Operation):
    """An operation of the API as `operation()` documents it: Litestar's own generic 400
    (a schema of its `ValidationException`, added to any operation with a parameter) is
    left out, since every error it does answer is listed with our `Error` schema; 401 and
    429 name their headers; a body that may be left out is not required."""

    def __post_init__(self) -> None:
        for status, response in list((self.responses or {}).items()):
            if not isinstance(response, OpenAPIResponse) or int(status) < 400:
                continue
            if not _is_error_schema(response):
                del self.responses[status]  # type: ignore[union-attr]
            elif int(status) in HEADERS:
                response.headers = dict(HEADERS[int(status)])
        body = self.request_body
        if body is not None and not isinstance(body, SchemaReference):
            for media in (body.content or {}).values():
                schema = media.schema
                if isinstance(schema, Schema) and any(
                    isinstance(s, Schema) and s.type == "null" for s in schema.one_of or ()
                ):
                    body.required = False


def _is_error_schema(response: OpenAPIResponse) -> bool:
    """Ours refer to the `Error` component (its reference is named only once the document
    is complete); Litestar's own error responses are inline schemas."""
    return any(
        isinstance(media.schema, SchemaReference) for media in (response.content or {}).values()
    )


def operation(
    operation_id: str,
    summary: str,
    *reasons: Reason,
    answers: dict[int, ResponseSpec] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a route decorator that document an API operation:
    `operation_id` (lowerCamelCase), `summary`, the error responses of `reasons`, and
    `answers` (success responses with examples) when given. The description is the
    handler's docstring."""
    return {
        "operation_id": operation_id,
        "summary": summary,
        "responses": {**(answers or {}), **error_responses(reasons)},
        "operation_class": ApiOperation,
    }
