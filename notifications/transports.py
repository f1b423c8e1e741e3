"""Where messages go: an SMTP server (aiosmtplib, one connection per batch) or a maildir.

Both raise the same two errors, so the relay has one rule for each: `TemporaryFailure`
(4xx replies, connection trouble: retry later) and `PermanentFailure` (5xx: give up now).
`ConnectionLost` is the temporary failure after which the connection is unusable.
"""

from __future__ import annotations

import asyncio
import hashlib
import mailbox
import os
import re
from collections.abc import Awaitable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosmtplib

from conseils.settings import MailSettings


class TemporaryFailure(Exception):
    """Retry later (RFC 5321 §4.2.1: 4yz replies, and an unreachable server)."""


class ConnectionLost(TemporaryFailure):
    """The connection is gone: this message and the rest of the batch wait for a retry."""


class PermanentFailure(Exception):
    """Do not retry (5yz replies)."""


def _failure(code: int, text: str) -> Exception:
    reason = f"{code} {text}".strip()
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class SMTPTransport:
    """One authenticated connection for a whole batch."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SMTPTransport:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout,
            username=s.smtp_username,
            password=s.smtp_password,
            validate_certs=True,  # certificate and host name, with either TLS mode
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,  # beside the system's
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise ConnectionLost(
                f"authentification SMTP refusée ({s.smtp_username}) : {exc.code} {exc.message}"
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise ConnectionLost(f"connexion refusée : {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ConnectionLost(f"serveur SMTP injoignable : {exc}") from exc
        self.client = client
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()

    async def send(
        self, message: bytes, sender: str, recipient: str, ready: Awaitable[Any] | None = None
    ) -> None:
        """Send one flattened message. `ready` (the previous message's "sent" mark) is awaited
        after RCPT and before DATA: the database write overlaps two SMTP round trips, yet no
        message is committed to the server before the previous one is recorded."""
        client = self.client
        assert client is not None
        try:
            await client.mail(sender)
            await client.rcpt(recipient)
            if ready is not None:
                await ready
            await client.data(message)
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise ConnectionLost(f"connexion perdue : {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:  # refused sender, recipient or data
            if exc.code == 421:  # the server is closing the connection
                raise ConnectionLost(f"{exc.code} {exc.message}") from exc
            await self._reset()
            raise _failure(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ConnectionLost(f"erreur SMTP : {exc}") from exc

    async def _reset(self) -> None:
        """RSET after a refusal, so the next message starts a clean envelope."""
        assert self.client is not None
        try:
            await self.client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ConnectionLost(f"RSET impossible : {exc}") from exc


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def maildir_name(message_id: str) -> str:
    """A message's file name in the maildir, from its Message-ID: so that a message can be
    found again and deleted (retention, erasure) without reading every file."""
    return hashlib.sha256(message_id.encode()).hexdigest()[:40]


def forget_maildir_messages(maildir: Path, message_ids: Iterable[str]) -> int:
    """Delete these messages' files from the maildir (new/ and cur/, where a mail reader
    moves what it has seen, adding ":2,<flags>"). Returns how many files went."""
    names = {maildir_name(message_id) for message_id in message_ids}
    if not names:
        return 0
    deleted = 0
    for folder in ("new", "cur", "tmp"):
        try:
            entries = os.scandir(maildir / folder)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                if entry.name.split(":", 1)[0] in names:
                    try:
                        os.unlink(entry.path)
                        deleted += 1
                    except FileNotFoundError:
                        pass
    return deleted


class MaildirTransport:
    """The embedded default: each message a file in <DATA_DIR>/maildir/new, written atomically
    (tmp/ then a rename) and named after its Message-ID (`maildir_name`)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.box: mailbox.Maildir | None = None

    async def __aenter__(self) -> MaildirTransport:
        try:
            self.box = await asyncio.to_thread(self._open)
        except OSError as exc:  # a full or read-only disk: retried later, as SMTP trouble is
            raise ConnectionLost(f"maildir {self.settings.maildir} : {exc}") from exc
        return self

    def _open(self) -> mailbox.Maildir:
        # Maildir(create=True) makes only the last level, and nothing at all when that
        # folder exists already (empty, made by hand): make every level it needs.
        for part in ("tmp", "new", "cur"):
            (self.settings.maildir / part).mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.settings.maildir, create=False)

    async def __aexit__(self, *args: object) -> None:
        self.box = None

    def _write(self, message: bytes) -> None:
        found = _MESSAGE_ID.search(message, 0, message.find(b"\r\n\r\n"))
        if found is None:  # every queued message has one; a stray one still gets delivered
            assert self.box is not None
            self.box.add(message)
            return
        name = maildir_name(found.group(1).decode("ascii"))
        temporary = self.settings.maildir / "tmp" / name
        with open(temporary, "wb") as file:
            file.write(message)
            file.flush()
            os.fsync(file.fileno())
        # A message sent twice (a relay killed after the write) replaces its own file.
        os.replace(temporary, self.settings.maildir / "new" / name)

    async def send(
        self, message: bytes, sender: str, recipient: str, ready: Awaitable[Any] | None = None
    ) -> None:
        assert self.box is not None
        if ready is not None:
            await ready
        try:
            await asyncio.to_thread(self._write, message)
        except OSError as exc:
            raise ConnectionLost(f"maildir : {exc}") from exc


def transport_for(settings: MailSettings) -> SMTPTransport | MaildirTransport:
    return SMTPTransport(settings) if settings.smtp_host else MaildirTransport(settings)
