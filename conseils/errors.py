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


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    """One or more fields are wrong; `errors` maps each field name to its reason."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors.items()))
