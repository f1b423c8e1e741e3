"""Build the MIME message of an outbox row, the same at every retry.

With a calendar part, the structure is the one Gmail, Outlook, Apple Mail and Thunderbird all
recognise as an invitation (RFC 6047): multipart/mixed holding a multipart/alternative of
text/plain, text/html and text/calendar (with a `method=` equal to the METHOD inside), then
the same calendar as an .ics attachment.
"""

from __future__ import annotations

import json
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from notifications.outbox import one_line
from notifications.settings import MailSettings

# Only these headers may come from a row's `headers` (JSON); every value is on one line.
ALLOWED_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Reply-To")
SMTP_POLICY = policy.SMTP.clone(max_line_length=78)


def sender_address(settings: MailSettings, display_name: str | None = None) -> Address:
    base = settings.mail_from
    name = one_line(display_name) if display_name else base.display_name
    return Address(display_name=name, username=base.username, domain=base.domain)


def compose(row: dict[str, Any], settings: MailSettings) -> EmailMessage:
    extra: dict[str, str] = json.loads(row["headers"] or "{}")
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = sender_address(settings, extra.get("From-Name"))
    message["To"] = row["recipient"]
    message["Subject"] = one_line(row["subject"])
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = row["message_id"]
    message["Auto-Submitted"] = "auto-generated"
    reply_to = extra.get("Reply-To") or settings.mail_reply_to
    if reply_to:
        message["Reply-To"] = one_line(reply_to)
    for name in ALLOWED_HEADERS:
        if name != "Reply-To" and extra.get(name):
            message[name] = one_line(extra[name])
    message.set_content(row["text_body"], charset="utf-8")
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html", charset="utf-8")
    if row["calendar"]:
        method = row["calendar_method"] or "PUBLISH"
        message.add_alternative(
            row["calendar"], subtype="calendar", charset="utf-8", params={"method": method}
        )
        message.add_attachment(
            row["calendar"].encode(),
            maintype="application",
            subtype="ics",
            filename="invitation.ics" if method == "REQUEST" else f"{method.lower()}.ics",
        )
    return message
