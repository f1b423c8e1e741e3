"""The MIME bytes of an outbox row, the same at every retry.

Why not `email.message.EmailMessage`? Building and flattening one of ours with it costs about
4 ms, more than sending it; the relay must keep up with the SMTP server. This module writes
the same structure directly (about 0.1 ms), with the stdlib's C encoders (binascii) and its
RFC 2047 header encoder; the tests parse every message back with the `email` package.

With a calendar part, the structure is the one Gmail, Outlook, Apple Mail and Thunderbird all
recognise as an invitation (RFC 6047): multipart/mixed holding a multipart/alternative of
text/plain, text/html and text/calendar (with a `method=` equal to the METHOD inside), then
the same calendar as an .ics attachment. Boundaries derive from the Message-ID: they cannot
occur in quoted-printable or base64 text ("=_" is never produced by either).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from email.utils import format_datetime

from conseils.settings import MailSettings
from notifications.drafts import Draft

# Only these headers may come from a draft's `headers`; every value is put on one line.
ALLOWED_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id")
CRLF = b"\r\n"
ENCODED_WORD_OCTETS = 39
_LINE_BREAKS = re.compile(r"[\r\n\x00]+")


def one_line(value: str) -> str:
    """A header value from user data: CR, LF and NUL become spaces, so never a new header."""
    return _LINE_BREAKS.sub(" ", value).strip()


def encoded_words(value: str) -> str:
    """RFC 2047 "B" encoded-words of at most 39 octets of UTF-8 each (64 characters once
    encoded), never splitting a character, folded one per line. The stdlib's `Header` does
    the same a hundred times slower (it measures quoted-printable lengths character by
    character), which a 10,000-recipient announcement cannot afford."""
    words, chunk, size = [], [], 0
    for char in value:
        length = len(char.encode())
        if size + length > ENCODED_WORD_OCTETS:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?=" for word in words)


def _header(name: str, value: str) -> bytes:
    """One header; non-ASCII values, and long ones of the Subject, are RFC 2047 encoded; none
    holds a line break. Encoded-words are only for unstructured text (RFC 2047 §5): an
    address, a Message-ID or a List-Unsubscribe URL is sent as it is, however long."""
    value = one_line(value)
    if value.isascii() and (len(name) + len(value) < 76 or name != "Subject"):
        return f"{name}: {value}".encode()
    return f"{name}: {encoded_words(value)}".encode()


def _address(display_name: str, address: str) -> bytes:
    """`"Name" <address>`, the name RFC 2047 encoded when it is not plain ASCII."""
    name = one_line(display_name)
    if not name:
        return one_line(address).encode()
    if name.isascii():
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        quoted = encoded_words(name)
    return f"{quoted} <{one_line(address)}>".encode()


def _quoted_printable(text: str) -> bytes:
    data = text.replace("\r\n", "\n").encode()
    return binascii.b2a_qp(data, istext=True).replace(b"\n", CRLF)


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def _part(content_type: str, body: bytes, encoding: str, *extra: str) -> list[bytes]:
    lines = [f"Content-Type: {content_type}".encode()]
    lines += [line.encode() for line in extra]
    lines += [f"Content-Transfer-Encoding: {encoding}".encode(), b"", body.rstrip(CRLF)]
    return lines


def compose(draft: Draft, message_id: str, date: datetime, settings: MailSettings) -> bytes:
    """The message, ready for SMTP DATA: CRLF line ends, 7-bit, lines under 998 octets."""
    extra = draft.headers
    sender = settings.mail_from
    display = extra.get("From-Name") or sender.display_name
    headers = [
        b"From: " + _address(display, sender.addr_spec),
        _header("To", draft.recipient),
        _header("Subject", draft.subject),
        _header("Date", format_datetime(date)),
        _header("Message-ID", message_id),
        b"Auto-Submitted: auto-generated",
    ]
    reply_to = extra.get("Reply-To") or settings.mail_reply_to
    if reply_to:
        headers.append(_header("Reply-To", reply_to))
    headers += [_header(name, extra[name]) for name in ALLOWED_HEADERS if extra.get(name)]
    headers.append(b"MIME-Version: 1.0")

    token = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    mixed, alternative = f"=_m{token}", f"=_a{token}"
    alternatives = [
        _part('text/plain; charset="utf-8"', _quoted_printable(draft.text_body), "quoted-printable")
    ]
    if draft.html_body:
        alternatives.append(
            _part(
                'text/html; charset="utf-8"',
                _quoted_printable(draft.html_body),
                "quoted-printable",
            )
        )
    calendar = draft.calendar
    if calendar:
        method = one_line(draft.calendar_method or "PUBLISH").upper()
        alternatives.append(
            [
                *_part(
                    f'text/calendar; charset="utf-8"; method={method}',
                    _quoted_printable(calendar),
                    "quoted-printable",
                ),
                b"",  # END:VCALENDAR's own CRLF: the one before the boundary is the boundary's
            ]
        )
    if len(alternatives) == 1 and not calendar:
        body = [*headers, *alternatives[0]]
        return CRLF.join(body) + CRLF
    lines = [*headers]
    if calendar:
        lines += [f'Content-Type: multipart/mixed; boundary="{mixed}"'.encode(), b""]
        lines += [f"--{mixed}".encode()]
    lines += [f'Content-Type: multipart/alternative; boundary="{alternative}"'.encode(), b""]
    for part in alternatives:
        lines += [f"--{alternative}".encode(), *part]
    lines.append(f"--{alternative}--".encode())
    if calendar:
        filename = "invitation.ics" if method == "REQUEST" else f"{method.lower()}.ics"
        lines += [f"--{mixed}".encode()]
        lines += _part(
            f'application/ics; name="{filename}"',
            _base64(calendar.encode()),
            "base64",
            f'Content-Disposition: attachment; filename="{filename}"',
        )
        lines.append(f"--{mixed}--".encode())
    return CRLF.join(lines) + CRLF
