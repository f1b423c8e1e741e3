"""Field checks shared by every service: one wording, one place.

Each raises InvalidInput naming the field, with a French reason that pages show as is and the
API returns under `extra`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from conseils.errors import InvalidInput

# C0 controls (but tab and newline), DEL and C1 controls: never useful, and NUL breaks PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def require_text(
    field: str, value: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Trim, then refuse empty (when required), over-long, or control characters."""
    value = value.replace("\r\n", "\n").strip() if multiline else value.strip()
    if required and not value:
        raise InvalidInput({field: "ne doit pas être vide"})
    if len(value) > max_length:
        raise InvalidInput({field: f"ne doit pas dépasser {max_length} caractères"})
    if _CONTROL.search(value):
        raise InvalidInput({field: "contient des caractères de contrôle interdits"})
    if not multiline and _LINE_BREAK.search(value):
        raise InvalidInput({field: "ne doit pas contenir de retour à la ligne"})
    return value


def normalise_email(value: str, field: str = "email") -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput({field: "adresse électronique invalide"})
    return value


def required_email(value: object, field: str = "email") -> str:
    """An address typed in a form (anything the form sent): present, then well formed."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({field: "indiquez votre adresse électronique"})
    return normalise_email(value, field)


def require_url(field: str, value: str) -> str:
    value = require_text(field, value, max_length=500)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput({field: "doit être une adresse http:// ou https://"})
    return value


def require_moment(field: str, value: datetime) -> datetime:
    """Aware, plausible (2000–2100), normalised to UTC."""
    if value.tzinfo is None:
        raise InvalidInput({field: "doit préciser le fuseau horaire (ex. +01:00)"})
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        raise InvalidInput({field: "doit être entre 2000 et 2100"}) from None
    if not EARLIEST <= value < LATEST:
        raise InvalidInput({field: "doit être entre 2000 et 2100"})
    return value
