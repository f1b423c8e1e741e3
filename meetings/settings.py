"""Settings read once from the environment, as a frozen dataclass.

Every variable here is documented in README.md; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'conseils.sqlite'}"
LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never mid-request."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    base_url: str
    secret_key: str
    log_level: str
    development: bool
    token_ttl_hours: int

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def load_settings() -> Settings:
    """Read the environment; refuse to start production without a SECRET_KEY."""
    development = _bool("DEVELOPMENT", default=False)
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        if not development:
            raise ConfigurationError(
                "SECRET_KEY is required (set DEVELOPMENT=1 to run with a throw-away key)"
            )
        secret_key = secrets.token_urlsafe(32)
    log_level = os.environ.get("LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {sorted(LOG_LEVELS)}")
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError("BASE_URL must start with http:// or https://")
    ttl = os.environ.get("TOKEN_TTL_HOURS", "12")
    if not ttl.isdigit() or not 1 <= int(ttl) <= 24 * 90:
        raise ConfigurationError("TOKEN_TTL_HOURS must be an integer between 1 and 2160")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        base_url=base_url,
        secret_key=secret_key,
        log_level=log_level,
        development=development,
        token_ttl_hours=int(ttl),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
