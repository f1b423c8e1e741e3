"""Maildir files are named after their Message-ID, so that retention and erasure can find
and delete one message's file without reading the others."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from notifications.transports import MaildirTransport, forget_maildir_messages, maildir_name
from tests.support.mail_support import mail_settings


def _message(message_id: str, body: str = "Bonjour") -> bytes:
    return (
        f"From: a@example.org\r\nTo: b@example.org\r\nMessage-ID: {message_id}\r\n"
        f"Subject: test\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.asyncio
async def test_files_are_named_after_message_ids_and_can_be_forgotten(tmp_path: Path) -> None:
    settings = mail_settings(maildir=tmp_path / "box")
    async with MaildirTransport(settings) as transport:
        await transport.send(_message("<one@x>"), "a@example.org", "b@example.org")
        await transport.send(_message("<two@x>"), "a@example.org", "b@example.org")
        await transport.send(_message("<one@x>", "again"), "a@example.org", "b@example.org")
    new = sorted(p.name for p in (tmp_path / "box" / "new").iterdir())
    assert new == sorted([maildir_name("<one@x>"), maildir_name("<two@x>")])
    assert not list((tmp_path / "box" / "tmp").iterdir())
    # A mail reader moved one into cur/ with flags: still found.
    box = mailbox.Maildir(tmp_path / "box", create=False)
    assert len(box) == 2
    seen = tmp_path / "box" / "new" / maildir_name("<two@x>")
    seen.rename(tmp_path / "box" / "cur" / f"{maildir_name('<two@x>')}:2,S")
    assert forget_maildir_messages(tmp_path / "box", ["<two@x>", "<absent@x>"]) == 1
    assert forget_maildir_messages(tmp_path / "box", []) == 0
    remaining = mailbox.Maildir(tmp_path / "box", create=False)
    assert [m["Message-ID"] for m in remaining] == ["<one@x>"]
    assert "again" in next(iter(remaining)).get_payload()
