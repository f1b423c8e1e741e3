"""Mail settings, read once from the environment (documented in README.md).

With no SMTP_HOST the relay delivers to a maildir under var/ (the embedded default), so
that nothing is lost and the demo works without a mail server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path

from meetings.settings import ROOT, ConfigurationError, _bool


@dataclass(frozen=True, slots=True)
class MailSettings:
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_tls: bool  # implicit TLS (SMTPS, usually port 465)
    smtp_starttls: bool  # STARTTLS upgrade (usually port 587)
    smtp_timeout: float
    mail_from: Address
    mail_reply_to: str | None
    maildir: Path
    relay_in_process: bool
    batch_size: int

    @property
    def domain(self) -> str:
        """The domain of Message-IDs: the sender's."""
        return self.mail_from.domain or "localhost"


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigurationError(f"{name} must be an integer between {low} and {high}")
    return int(raw)


def _address(name: str, raw: str) -> Address:
    display, email = parseaddr(raw)
    if "@" not in email or any(c in raw for c in "\r\n"):
        raise ConfigurationError(f"{name} must be an email address, e.g. Conseils <a@b.fr>")
    user, _, domain = email.rpartition("@")
    return Address(display_name=display, username=user, domain=domain)


def load_mail_settings() -> MailSettings:
    tls = _bool("SMTP_TLS")
    starttls = _bool("SMTP_STARTTLS")
    if tls and starttls:
        raise ConfigurationError("set SMTP_TLS or SMTP_STARTTLS, not both")
    default_port = 465 if tls else 587 if starttls else 25
    reply_to = os.environ.get("MAIL_REPLY_TO") or None
    if reply_to is not None:
        _address("MAIL_REPLY_TO", reply_to)
    maildir = Path(os.environ.get("MAILDIR") or ROOT / "var" / "maildir")
    return MailSettings(
        smtp_host=os.environ.get("SMTP_HOST") or None,
        smtp_port=_int("SMTP_PORT", default_port, 1, 65535),
        smtp_username=os.environ.get("SMTP_USERNAME") or None,
        smtp_password=os.environ.get("SMTP_PASSWORD") or None,
        smtp_tls=tls,
        smtp_starttls=starttls,
        smtp_timeout=float(_int("SMTP_TIMEOUT_SECONDS", 30, 1, 600)),
        mail_from=_address(
            "MAIL_FROM",
            os.environ.get("MAIL_FROM") or "Conseils citoyens <ne-pas-repondre@localhost>",
        ),
        mail_reply_to=reply_to,
        maildir=maildir if maildir.is_absolute() else ROOT / maildir,
        relay_in_process=_bool("OUTBOX_IN_PROCESS", default=True),
        batch_size=_int("OUTBOX_BATCH_SIZE", 100, 1, 10_000),
    )


@lru_cache(maxsize=1)
def get_mail_settings() -> MailSettings:
    return load_mail_settings()
