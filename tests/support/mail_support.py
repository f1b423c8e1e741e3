"""Helpers shared by the email tests: mail settings, relays, subscribers, outbox rows, workers."""

from __future__ import annotations

import asyncio
import email
import os
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from httpx import AsyncClient

from conseils.db import write_transaction
from conseils.settings import MailSettings, get_settings
from meetings.tables import Council
from notifications import outbox, subscriptions
from notifications.fanout import expand_all
from notifications.relay import Relay
from notifications.tables import FanoutJob, OutboxMessage, Subscription
from tests.support.dates import LIKE_2031
from tests.support.live_server import CONSEILS, ROOT, server_env

if TYPE_CHECKING:  # imported by pytest as a plugin first, so that its asserts are rewritten
    from tests.support.smtp_sink import SmtpSink

FAST_RETRY = timedelta(milliseconds=50)
FINAL = ("sent", "failed", "cancelled")


def sender() -> Address:
    """The configured sender (MAIL_FROM): the envelope's, and the From header's."""
    return get_settings().mail.mail_from


def mail_settings(
    sink: SmtpSink | None = None,
    *,
    maildir: Path | None = None,
    batch_size: int = 100,
    timeout: float = 2.0,
    ca_file: Path | None = None,
    login: tuple[str, str] | None = None,
) -> MailSettings:
    """Settings for an in-process relay: the sink's SMTP server, or a maildir without one.
    Against a sink with TLS, the relay uses its mode and trusts `ca_file` (SMTP_CA_FILE);
    against one with users, it logs in as `login`, by default the sink's first user."""
    security = sink.security if sink else None
    if login is None and sink is not None and sink.handler.users:
        login = next(iter(sink.handler.users.items()))
    return MailSettings(
        smtp_host=sink.host if sink else None,
        smtp_port=sink.port if sink else 25,
        smtp_username=login[0] if login else None,
        smtp_password=login[1] if login else None,
        smtp_tls=security == "tls",
        smtp_starttls=security == "starttls",
        smtp_ca_file=ca_file,
        smtp_timeout=timeout,
        mail_from=sender(),
        mail_reply_to=None,
        # Without one from the test (tmp_path), a folder of its own in the suite's DATA_DIR,
        # which goes with the suite's temporary folder.
        maildir=maildir or Path(tempfile.mkdtemp(prefix="maildir-", dir=get_settings().data_dir)),
        relay_in_process=False,
        batch_size=batch_size,
        retry_base=FAST_RETRY,
        reminder_delay=get_settings().mail.reminder_delay,
    )


def make_relay(settings: MailSettings, name: str = "relay-test") -> Relay:
    return Relay(settings=settings, name=name)


async def eventually(
    check: Callable[[], Awaitable[bool]], seconds: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` every 20 ms until it is true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.02)


async def pending_count() -> int:
    jobs = await FanoutJob.count().where(FanoutJob.status == "pending")
    return jobs + await OutboxMessage.count().where(OutboxMessage.status.not_in(list(FINAL)))


async def deliver_all(relay: Relay, seconds: float = 10.0) -> int:
    """Run batches until every row is sent or failed (waiting out the short retry delays)."""
    handled = 0
    deadline = time.monotonic() + seconds
    while await pending_count():
        if time.monotonic() > deadline:
            rows = await OutboxMessage.select(
                OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error
            ).where(OutboxMessage.status.not_in(list(FINAL)))
            raise AssertionError(f"messages still pending after {seconds} s: {rows}")
        done = await expand_all() + await relay.deliver_once()
        handled += done
        if not done:
            await asyncio.sleep(0.02)
    return handled


async def rows(kind: str | None = None) -> list[dict[str, Any]]:
    """The outbox as the relay makes it: announcements' fan-out jobs expanded first."""
    await expand_all()
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return await query


async def row(row_id: int) -> dict[str, Any]:
    found = await OutboxMessage.select().where(OutboxMessage.id == row_id).first()
    assert found is not None
    return found


async def council_id(slug: str) -> int:
    found = await Council.select(Council.id).where(Council.slug == slug).first()
    assert found is not None
    return found["id"]


async def token_of(email: str, slug: str = "ales-tamaris") -> str:
    found = (
        await Subscription.select(Subscription.token)
        .where((Subscription.email == email) & (Subscription.council.slug == slug))
        .first()
    )
    assert found is not None
    return found["token"]


async def active_subscriber(email: str, slug: str = "ales-tamaris") -> str:
    """Subscribe and confirm (double opt-in done); returns the subscription's token."""
    await subscriptions.subscribe(slug, email)
    token = await token_of(email, slug)
    assert (await subscriptions.confirm(token)).status == "active"
    return token


async def forget_confirmations() -> None:
    """Drop the queued confirmation emails, for tests about announcements only."""
    await OutboxMessage.delete().where(OutboxMessage.kind == "subscription_confirm")


async def queue_plain(count: int, *, prefix: str = "m", council: int | None = None) -> list[str]:
    """Queue `count` simple messages to distinct recipients; returns their Message-IDs."""
    drafts = [
        outbox.Draft(
            key=f"test:{prefix}:{i}",
            kind="test",
            recipient=f"{prefix}{i}@example.org",
            subject=f"Message de test n° {i}",
            text_body=f"Bonjour, ceci est le message n° {i}.",
            council_id=council,
        )
        for i in range(count)
    ]
    async with write_transaction():
        assert await outbox.enqueue(drafts) == count
    return [r["message_id"] for r in await rows("test")]


# ---------------------------------------------------------------- meetings through the API

MEETING = {
    "council": "ales-tamaris",
    "kind": "cafe",
    "title": "Café citoyen : le jardin partagé",
    "starts_at": f"{LIKE_2031}-03-12T18:00:00+01:00",
    "ends_at": f"{LIKE_2031}-03-12T20:00:00+01:00",
    "venue": "Maison de quartier de Tamaris",
    "address": "Rue de la Lozère, 30100 Alès",
}


async def create_meeting(client: AsyncClient, auth: dict[str, str], **overrides: Any) -> dict:
    response = await client.post("/api/v1/meetings", json={**MEETING, **overrides}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def publish(client: AsyncClient, auth: dict[str, str], meeting_id: int) -> dict:
    response = await client.post(f"/api/v1/meetings/{meeting_id}/publish", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def published_meeting(client: AsyncClient, auth: dict[str, str], **overrides: Any) -> dict:
    return await publish(client, auth, (await create_meeting(client, auth, **overrides))["id"])


# ---------------------------------------------------------------- `conseils worker`


def worker_env(sink: SmtpSink | None, **extra: str) -> dict[str, str]:
    """The environment of a subprocess on the suite's own database, sending to the sink."""
    mail: dict[str, str] = {"OUTBOX_RETRY_BASE_SECONDS": "0.05", "SMTP_TIMEOUT_SECONDS": "5"}
    if sink is not None:
        mail.update(SMTP_HOST=sink.host, SMTP_PORT=str(sink.port))
    mail.update(extra)
    return server_env(os.environ["DATABASE_URL"], 8000, **mail)


def start_worker(env: dict[str, str], log: Path, poll: float = 0.05) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(CONSEILS), "worker", "--poll", str(poll)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# ---------------------------------------------------------------- what was sent


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def text_of(part: EmailMessage) -> str:
    """A text part's content with plain newlines (the wire's are CRLF)."""
    return part.get_content().replace("\r\n", "\n")


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return text_of(body)


def calendar_part(message: EmailMessage) -> EmailMessage:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part  # type: ignore[return-value]


async def send_all(sink: SmtpSink) -> dict[str, EmailMessage]:
    """Deliver every queued message to the sink; what it holds, by Message-ID."""
    await deliver_all(make_relay(mail_settings(sink)))
    return {item.message_id: parse(item.data) for item in sink.received}
