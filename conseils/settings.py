"""Every setting, read from the environment and checked once, at start-up.

`get_settings()` reads the environment the first time it is called and keeps the answer: a
bad value stops the start with a message naming the variable, never a request later on.
Every variable here is documented in README.md ("Configuration"); keep the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Argon2id parameters for facilitators' passwords, by the names of argon2-cffi's profiles:
# RFC 9106's low-memory choice (64 MiB, 3 passes) for every real site; its cheapest (8 KiB,
# one pass) only in development, for test suites that make hundreds of accounts.
PASSWORD_HASHINGS = ("rfc9106-low-memory", "cheapest")
DEFAULT_MAIL_FROM = "Conseils citoyens <ne-pas-repondre@localhost>"


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never mid-request."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    smtp_host: str | None  # None: the maildir under the data directory
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_tls: bool  # implicit TLS (SMTPS, usually port 465)
    smtp_starttls: bool  # STARTTLS upgrade (usually port 587)
    smtp_ca_file: Path | None  # authorities trusted besides the system's
    smtp_timeout: float
    mail_from: Address
    mail_reply_to: str | None
    maildir: Path
    relay_in_process: bool
    batch_size: int
    retry_base: timedelta  # first delay after a 4xx reply or a connection failure
    reminder_delay: timedelta  # how long before a meeting its registrants are reminded

    @property
    def domain(self) -> str:
        """The domain of Message-IDs: the sender's."""
        return self.mail_from.domain or "localhost"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Abuse limits: how many public POSTs a client may send, and where counts are kept."""

    per_minute: int  # public POSTs per client IP and minute; 0: no limit (load tests)
    redis_url: str | None  # counters shared by every host; None: a file in DATA_DIR
    redis_prefix: str  # of every key, so that several sites or test runs share one Redis
    trusted_proxies: tuple[Network, ...]  # whose X-Forwarded-For names the client


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """Who runs the site, as its pages and legal notices say it (LCEN art. 6, RGPD art. 13)."""

    operator_name: str
    operator_address: str | None  # None: the legal pages say "à compléter"
    operator_email: str | None  # the contact for residents' rights and accessibility
    operator_phone: str | None
    publication_director: str | None
    hosting_provider: str | None  # the host's name and address
    logo_url: str | None  # a path under /static/ or an https URL
    accent_colour: str  # #rrggbb


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    base_url: str
    secret_key: str
    log_level: str
    development: bool
    token_ttl_hours: int
    outbox_retention_days: int  # sent, failed, cancelled messages are deleted after this
    mail: MailSettings
    limits: LimitSettings
    site: SiteSettings
    # Origins whose pages may show /integration/agenda in a frame (CSP frame-ancestors);
    # empty: none may.
    embed_allowed_origins: tuple[str, ...] = ()
    # Uploaded files (PDF), content-addressed: a directory every host serving the site
    # mounts (FILES_DIR; by default DATA_DIR/files).
    files_dir: Path = Path("var/files")
    password_hashing: str = PASSWORD_HASHINGS[0]

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _text(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _bool(name: str, default: bool = False) -> bool:
    raw = _text(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = _text(name) or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigurationError(f"{name} must be an integer between {low} and {high}")
    return int(raw)


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = _text(name)
    try:
        value = default if raw is None else float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails both comparisons
        raise ConfigurationError(f"{name} must be a number between {low:g} and {high:g}")
    return value


def _address(name: str, raw: str) -> Address:
    display, email = parseaddr(raw)
    if "@" not in email or any(c in raw for c in "\r\n"):
        raise ConfigurationError(f"{name} must be an email address, e.g. Conseils <a@b.fr>")
    user, _, domain = email.rpartition("@")
    return Address(display_name=display, username=user, domain=domain)


def _data_dir() -> Path:
    """Where everything written at run time lives (SQLite file, maildir, later uploads):
    `DATA_DIR`, by default `var/` of the working directory, created with its parents."""
    path = Path(_text("DATA_DIR") or "var").expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"DATA_DIR {path} cannot be created: {exc.strerror}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigurationError(f"DATA_DIR {path} is not writable")
    return path


def _files_dir(data_dir: Path) -> Path:
    """`FILES_DIR` (relative to DATA_DIR when relative), by default DATA_DIR/files."""
    path = Path(_text("FILES_DIR") or "files").expanduser()
    return path if path.is_absolute() else data_dir / path


def _database_url(data_dir: Path) -> str:
    url = _text("DATABASE_URL") or f"sqlite:///{data_dir / 'conseils.sqlite'}"
    if not url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise ConfigurationError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return url


def _ca_file() -> Path | None:
    """`SMTP_CA_FILE`: PEM certificates of authorities trusted, besides the system's, to sign
    the SMTP server's certificate (a relay with a private authority). Loaded once here, so
    that a missing or malformed file stops the start, not the first batch."""
    raw = _text("SMTP_CA_FILE")
    if raw is None:
        return None
    path = Path(raw).expanduser().absolute()
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigurationError(f"SMTP_CA_FILE {path} cannot be loaded: {reason}") from exc
    return path


def _mail(data_dir: Path) -> MailSettings:
    tls, starttls = _bool("SMTP_TLS"), _bool("SMTP_STARTTLS")
    if tls and starttls:
        raise ConfigurationError("set SMTP_TLS or SMTP_STARTTLS, not both")
    reply_to = _text("MAIL_REPLY_TO")
    if reply_to is not None:
        _address("MAIL_REPLY_TO", reply_to)
    maildir = Path(_text("MAILDIR") or "maildir").expanduser()
    return MailSettings(
        smtp_host=_text("SMTP_HOST"),
        smtp_port=_int("SMTP_PORT", 465 if tls else 587 if starttls else 25, 1, 65535),
        smtp_username=_text("SMTP_USERNAME"),
        smtp_password=os.environ.get("SMTP_PASSWORD") or None,  # spaces may be meant
        smtp_tls=tls,
        smtp_starttls=starttls,
        smtp_ca_file=_ca_file(),
        smtp_timeout=float(_int("SMTP_TIMEOUT_SECONDS", 30, 1, 600)),
        mail_from=_address("MAIL_FROM", _text("MAIL_FROM") or DEFAULT_MAIL_FROM),
        mail_reply_to=reply_to,
        maildir=maildir if maildir.is_absolute() else data_dir / maildir,
        relay_in_process=_bool("OUTBOX_IN_PROCESS", default=True),
        batch_size=_int("OUTBOX_BATCH_SIZE", 100, 1, 10_000),
        retry_base=timedelta(seconds=_number("OUTBOX_RETRY_BASE_SECONDS", 60, 0.01, 3600)),
        reminder_delay=timedelta(hours=_number("REMINDER_HOURS", 24, 0, 24 * 14)),
    )


def _networks(name: str, default: str) -> tuple[Network, ...]:
    raw = _text(name) or default
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in raw.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ConfigurationError(
            f"{name} must list IP addresses or networks separated by commas ({exc})"
        ) from exc


def _limits() -> LimitSettings:
    redis_url = _text("REDIS_URL")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError("REDIS_URL must start with redis://, rediss:// or unix://")
    return LimitSettings(
        per_minute=_int("RATE_LIMIT_PER_MINUTE", 20, 0, 100_000),
        redis_url=redis_url,
        redis_prefix=_text("REDIS_PREFIX") or "conseils:",
        trusted_proxies=_networks("TRUSTED_PROXIES", "127.0.0.1,::1"),
    )


def development_mode() -> bool:
    """`DEVELOPMENT=1`: a throw-away SECRET_KEY and an http BASE_URL are allowed."""
    return _bool("DEVELOPMENT")


def _base_url(development: bool) -> str:
    """The public address. Production (DEVELOPMENT unset) must name it, in https: every link
    in emails depends on it, and RFC 8058 wants an https List-Unsubscribe."""
    raw = _text("BASE_URL")
    if raw is None and not development:
        raise ConfigurationError(
            "BASE_URL is required, e.g. https://conseils.example.fr "
            "(set DEVELOPMENT=1 to serve on http://127.0.0.1)"
        )
    base_url = (raw or "http://127.0.0.1:8000").rstrip("/")
    if not base_url.startswith(("http://", "https://")) or any(c in base_url for c in " \r\n"):
        raise ConfigurationError("BASE_URL must start with http:// or https://")
    if not development and not base_url.startswith("https://"):
        raise ConfigurationError(
            f"BASE_URL must start with https:// in production, not {base_url!r} "
            "(set DEVELOPMENT=1 to serve on http://)"
        )
    return base_url


DEFAULT_OPERATOR = "Alès Agglomération"
DEFAULT_ACCENT = "#00558c"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of a #rrggbb colour with white."""
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def _site() -> SiteSettings:
    """The operator's identity. Only the name has a default (the first user's): the legal
    pages show what is not set as "à compléter", never an address made up for them."""
    email = _text("OPERATOR_EMAIL")
    if email is not None and ("@" not in email or any(c in email for c in ' <>"\r\n')):
        raise ConfigurationError("OPERATOR_EMAIL must be an email address, e.g. contact@ville.fr")
    logo = _text("SITE_LOGO_URL")
    if logo is not None and (
        not (logo.startswith("/static/") or logo.startswith("https://"))
        or ".." in logo
        or any(c in logo for c in " \"'<>\\")
    ):
        raise ConfigurationError("SITE_LOGO_URL must be a path under /static/ or an https:// URL")
    accent = _text("ACCENT_COLOUR") or DEFAULT_ACCENT
    if not _COLOUR.fullmatch(accent):
        raise ConfigurationError(f"ACCENT_COLOUR must be a colour written #rrggbb, not {accent!r}")
    if contrast_with_white(accent) < 4.5:
        raise ConfigurationError(
            f"ACCENT_COLOUR {accent} is too light: links and white button text on it need a "
            "contrast of at least 4.5:1 with white (RGAA 3.2)"
        )
    return SiteSettings(
        operator_name=_text("OPERATOR_NAME") or DEFAULT_OPERATOR,
        operator_address=_text("OPERATOR_ADDRESS"),
        operator_email=email,
        operator_phone=_text("OPERATOR_PHONE"),
        publication_director=_text("PUBLICATION_DIRECTOR"),
        hosting_provider=_text("HOSTING_PROVIDER"),
        logo_url=logo,
        accent_colour=accent.lower(),
    )


# An origin as CSP's frame-ancestors and browsers compare it: scheme, host, optional port.
_ORIGIN = re.compile(
    r"(https?)://([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)"
    r"(?::([0-9]{1,5}))?"
)


def _origins(name: str) -> tuple[str, ...]:
    """Comma-separated origins (`https://www.ales.fr`, `http://localhost:8080`): scheme, host
    and port only. Anything else (a path, a query, a wildcard, a quote) is refused: the value
    goes into a Content-Security-Policy header as written. A lone final `/` is forgiven."""
    raw = _text(name)
    if raw is None:
        return ()
    origins: list[str] = []
    for part in raw.split(","):
        origin = part.strip().lower().removesuffix("/")
        if not origin:
            continue
        match = _ORIGIN.fullmatch(origin)
        if match is None or (match[3] is not None and not 1 <= int(match[3]) <= 65535):
            raise ConfigurationError(
                f"{name} must list origins separated by commas, each a scheme, a host and "
                f"optionally a port, with no path, e.g. https://www.ales.fr: not {part.strip()!r}"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _password_hashing(development: bool) -> str:
    raw = (_text("PASSWORD_HASHING") or PASSWORD_HASHINGS[0]).lower()
    if raw not in PASSWORD_HASHINGS:
        raise ConfigurationError(f"PASSWORD_HASHING must be one of {', '.join(PASSWORD_HASHINGS)}")
    if raw != PASSWORD_HASHINGS[0] and not development:
        raise ConfigurationError(
            f"PASSWORD_HASHING={raw} is for test suites: set DEVELOPMENT=1, or leave it unset"
        )
    return raw


def load_settings() -> Settings:
    """Read and check the environment; refuse to start production without a SECRET_KEY and an
    https BASE_URL."""
    development = development_mode()
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        if not development:
            raise ConfigurationError(
                "SECRET_KEY is required (set DEVELOPMENT=1 to run with a throw-away key)"
            )
        secret_key = secrets.token_urlsafe(32)
    elif len(secret_key) < 16:
        raise ConfigurationError("SECRET_KEY must be at least 16 characters long")
    log_level = (_text("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    base_url = _base_url(development)
    data_dir = _data_dir()
    return Settings(
        database_url=_database_url(data_dir),
        data_dir=data_dir,
        base_url=base_url,
        secret_key=secret_key,
        log_level=log_level,
        development=development,
        token_ttl_hours=_int("TOKEN_TTL_HOURS", 12, 1, 24 * 90),
        outbox_retention_days=_int("OUTBOX_RETENTION_DAYS", 30, 1, 3650),
        mail=_mail(data_dir),
        limits=_limits(),
        site=_site(),
        embed_allowed_origins=_origins("EMBED_ALLOWED_ORIGINS"),
        files_dir=_files_dir(data_dir),
        password_hashing=_password_hashing(development),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
