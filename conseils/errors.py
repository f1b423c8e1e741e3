"""Domain errors the services raise; the web layer maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: `message` is French (shown on pages), `code` is stable for API clients."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"


class SignInRequired(Unauthorized):
    """No live back-office session: a page asked for with GET sends the browser to
    `sign_in_url` (with the page to come back to), anything else answers 401."""

    code = "sign_in_required"
    sign_in_url = "/animation/connexion"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    """One or more fields are wrong; `errors` maps each field name to its reason."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors.items()))


class TooManyRequests(DomainError):
    """Too many attempts from one client or on one account: try again in `retry_after` s."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(int(retry_after), 1)


class UnsupportedMediaType(DomainError):
    """The body is not in the format the endpoint reads (JSON for the API)."""

    code = "unsupported_media_type"
