"""The relay against an SMTP server set up as production ones are: STARTTLS on 587 or TLS from
the first byte on 465, a certificate signed by an authority (the test's own, made by trustme
and trusted through SMTP_CA_FILE), and AUTH required before MAIL.

Swapping the two TLS modes, dropping the credentials or the trusted authority, or turning
off certificate checks each fails one of these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import trustme

from conseils.timefmt import now_utc
from notifications.tables import OutboxMessage
from tests.support.mail_support import mail_settings, make_relay, queue_plain, rows
from tests.support.smtp_sink import Security, SmtpSink

USERS = {"relais@conseils.example.fr": "mot de passe du relais"}


@pytest.fixture
def ca_file(smtp_ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    smtp_ca.cert_pem.write_to_path(str(path))
    return path


async def due_now() -> None:
    """Messages waiting for a retry are due at once."""
    await OutboxMessage.update({OutboxMessage.next_attempt_at: now_utc()}).where(
        OutboxMessage.status == "queued"
    )


def secured_sink(security: Security, ca: trustme.CA) -> Iterator[SmtpSink]:
    sink = SmtpSink(security=security, certificate=ca.issue_cert("127.0.0.1"), users=USERS)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(params=["starttls", "tls"])
def secured(request: pytest.FixtureRequest, smtp_ca: trustme.CA) -> Iterator[SmtpSink]:
    """A server requiring TLS (each mode in turn) and a login, its certificate from the CA."""
    yield from secured_sink(request.param, smtp_ca)


async def test_the_relay_delivers_over_tls_with_its_login(secured: SmtpSink, ca_file: Path) -> None:
    ids = await queue_plain(3)
    relay = make_relay(mail_settings(secured, ca_file=ca_file))
    assert await relay.deliver_once() == 3

    received = secured.received
    assert [m.message_id for m in received] == ids
    assert {(m.tls, m.login) for m in received} == {(True, next(iter(USERS)))}
    assert len({m.session for m in received}) == 1
    assert {r["status"] for r in await rows()} == {"sent"}
    assert secured.auth_failures == 0


async def test_the_other_tls_mode_does_not_connect(secured: SmtpSink, ca_file: Path) -> None:
    """The modes are not interchangeable: SMTPS to a STARTTLS port (or the reverse) fails, and
    the message waits for a retry."""
    await queue_plain(1)
    right = mail_settings(secured, ca_file=ca_file)
    swapped = replace(
        right, smtp_tls=not right.smtp_tls, smtp_starttls=not right.smtp_starttls, smtp_timeout=1
    )
    assert await make_relay(swapped).deliver_once() == 1
    [stored] = await rows()
    assert stored["status"] == "queued"
    assert stored["last_error"]
    assert secured.received == []


async def test_a_certificate_from_an_untrusted_authority_fails_the_connection(
    secured: SmtpSink, tmp_path: Path
) -> None:
    """Verification is on: trusting another authority (or only the system's) refuses the
    server, and the message stays queued with the reason."""
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    await queue_plain(2)
    for ca_file in (stranger, None):
        await due_now()
        assert await make_relay(mail_settings(secured, ca_file=ca_file)).deliver_once() == 2
    for stored in await rows():
        assert stored["status"] == "queued"
        assert stored["attempts"] == 2
        assert "CERTIFICATE_VERIFY_FAILED" in stored["last_error"]
    assert secured.received == []


async def test_a_certificate_for_another_host_fails_the_connection(
    smtp_ca: trustme.CA, ca_file: Path
) -> None:
    """The host name is checked too: a certificate the CA made for another name is refused."""
    sink = SmtpSink(
        security="tls", certificate=smtp_ca.issue_cert("smtp.ailleurs.example"), users=USERS
    )
    sink.start()
    try:
        await queue_plain(1)
        assert await make_relay(mail_settings(sink, ca_file=ca_file)).deliver_once() == 1
        [stored] = await rows()
        assert stored["status"] == "queued"
        assert "CERTIFICATE_VERIFY_FAILED" in stored["last_error"]
        assert sink.received == []
    finally:
        sink.stop()


async def test_a_wrong_password_leaves_the_message_queued_naming_authentication(
    secured: SmtpSink, ca_file: Path
) -> None:
    await queue_plain(1)
    user = next(iter(USERS))
    settings = mail_settings(secured, ca_file=ca_file, login=(user, "pas le bon"))
    assert await make_relay(settings).deliver_once() == 1
    [stored] = await rows()
    assert stored["status"] == "queued"
    assert "authentification SMTP refusée" in stored["last_error"]
    assert "535" in stored["last_error"]
    assert "pas le bon" not in stored["last_error"]
    assert secured.auth_failures >= 1  # aiosmtplib tries each mechanism offered
    assert secured.received == []

    # Once the password is right, the same message goes, once.
    await due_now()
    assert await make_relay(mail_settings(secured, ca_file=ca_file)).deliver_once() == 1
    assert [m.message_id for m in secured.received] == [stored["message_id"]]


async def test_without_credentials_nothing_is_sent(secured: SmtpSink, ca_file: Path) -> None:
    """The server refuses MAIL before AUTH (530): a relay that lost its login sends nothing."""
    settings = mail_settings(secured, ca_file=ca_file)
    anonymous = replace(settings, smtp_username=None, smtp_password=None)
    await queue_plain(1)
    assert await make_relay(anonymous).deliver_once() == 1
    [stored] = await rows()
    assert stored["status"] != "sent"
    assert "530" in stored["last_error"]
    assert secured.received == []
