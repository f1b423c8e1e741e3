"""Exception handlers: JSON for the API, French HTML pages for everything else.

Domain errors map to one status each; validation errors name the field; anything unexpected
is logged and answered with a plain 500 that leaks nothing.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from conseils.complaints import Complaints
from conseils.db import outage
from conseils.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    SignInRequired,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from conseils.web.access_log import redact
from conseils.web.headers import security_headers

log = logging.getLogger("conseils")
RETRY_AFTER_S = 30  # what a client waiting for the database is told
_outages = Complaints(logging.getLogger("conseils.db"), every_s=60.0)

STATUS_OF = {
    NotFound: 404,
    Forbidden: 403,
    Unauthorized: 401,
    Conflict: 409,
    InvalidInput: 400,
    TooManyRequests: 429,
    UnsupportedMediaType: 415,
}
FRENCH_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Format non pris en charge",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service momentanément indisponible",
}
FRENCH_DEFAULTS = {
    404: "La page demandée n'existe pas ou n'est plus en ligne.",
    405: "Cette adresse ne s'utilise pas ainsi.",
    413: "La requête envoyée est trop volumineuse.",
    500: "Une erreur inattendue s'est produite. L'équipe a été prévenue.",
    503: "Le service est momentanément indisponible. Réessayez dans quelques instants.",
}


def _is_api(request: Request) -> bool:
    """JSON errors: the API's, and those of a route marked `opt={"json_errors": True}`."""
    path = request.url.path
    handler = request.scope.get("route_handler")
    if handler is not None and handler.opt.get("json_errors"):
        return True
    return path.startswith(("/api/", "/schema")) or path == "/healthz"


def _field_errors(exc: Exception) -> list[dict[str, str]]:
    if isinstance(exc, InvalidInput):
        return [{"key": key, "message": message} for key, message in exc.errors.items()]
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        return [
            {"key": str(item.get("key", "")), "message": str(item.get("message", ""))}
            for item in exc.extra
            if isinstance(item, dict)
        ]
    return []


def _respond(request: Request, status: int, detail: str, code: str, errors: list) -> Response:
    # after_request hooks do not see responses built here, so the headers are added now.
    headers = dict(security_headers())
    if status == 401 and _is_api(request):  # pages sign in with a form, not a scheme
        headers["WWW-Authenticate"] = "Bearer"
    if _is_api(request):
        body: dict = {"status_code": status, "code": code, "detail": detail}
        if errors:
            body["extra"] = errors
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    return Template(
        "pages/error.html",
        context={
            "status": status,
            "title": FRENCH_TITLES.get(status, "Erreur"),
            "message": FRENCH_DEFAULTS.get(status) or detail
            if not errors and status != 400
            else detail,
            "errors": errors,
        },
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, SignInRequired) and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = dict(security_headers())
        headers["Cache-Control"] = "no-store"
        return Redirect(
            f"{exc.sign_in_url}?{urlencode({'suite': target})}",
            status_code=HTTP_303_SEE_OTHER,
            headers=headers,
        )
    status = next(s for cls, s in STATUS_OF.items() if isinstance(exc, cls))
    detail = exc.message if status != 400 else "Certaines informations sont invalides."
    response = _respond(request, status, detail, exc.code, _field_errors(exc))
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    errors = _field_errors(exc)
    if errors and not _is_api(request):
        detail = "Certaines informations sont invalides."
    else:
        detail = exc.detail
    code = "invalid" if isinstance(exc, ValidationException) else f"http_{exc.status_code}"
    response = _respond(request, exc.status_code, detail, code, errors)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def encoding_error_handler(request: Request, exc: UnicodeDecodeError) -> Response:
    """msgspec raises UnicodeDecodeError (not a validation error) for invalid UTF-8 inside a
    JSON string: the client sent bad bytes, a 400, not our 500."""
    return _respond(
        request,
        400,
        "Le corps de la requête n'est pas de l'UTF-8 valide.",
        "invalid_encoding",
        [{"key": "body", "message": "texte UTF-8 invalide"}],
    )


def nesting_error_handler(request: Request, exc: RecursionError) -> Response:
    """msgspec gives up on a JSON body nested too deep (100,000 `[`) with a RecursionError:
    the client's fault, a 400. Any other RecursionError is ours."""
    if "deserializing" not in str(exc):
        return internal_error_handler(request, exc)
    return _respond(
        request,
        400,
        "Le corps de la requête est imbriqué trop profondément.",
        "too_deep",
        [{"key": "body", "message": "JSON imbriqué trop profondément"}],
    )


def database_unavailable(request: Request, exc: Exception, kind: str) -> Response:
    """The database does not answer: 503 with Retry-After, and one log line per kind of
    failure a minute (no traceback: the trouble is not in the code). Each request tries the
    database afresh, so service resumes by itself when it is back."""
    _outages.complain(
        f"database:{kind}",
        "database unavailable (%s), answering 503: %s %s: %s",
        kind,
        request.method,
        redact(request.url.path),
        exc,
    )
    response = _respond(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        FRENCH_DEFAULTS[HTTP_503_SERVICE_UNAVAILABLE],
        "database_unavailable",
        [],
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def internal_error_handler(request: Request, exc: Exception) -> Response:
    kind = outage(exc)
    if kind is not None:
        return database_unavailable(request, exc, kind)
    log.exception(
        "unhandled error on %s %s", request.method, redact(request.url.path), exc_info=exc
    )
    return _respond(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error", "internal", []
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    UnicodeDecodeError: encoding_error_handler,
    RecursionError: nesting_error_handler,
    Exception: internal_error_handler,
}
