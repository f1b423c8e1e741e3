"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, behaving as the test says.

Loaded as a pytest plugin by tests/conftest.py (`pytest_plugins`), it gives the `smtp_sink`
fixture: a started `SmtpSink` on a free port, stopped after the test. The server runs in its
own thread and event loop (aiosmtpd's Controller), so it answers while the test's loop waits.

What a test can ask of it (set at any moment, read at each command):

- `sink.fail_data = N`: reply 451 to the next N DATA commands, then accept (another reply
  with `sink.handler.fail_reply = "554 ..."`);
- `sink.reject["a@b.fr"] = "550 5.1.1 ..."`: refuse that recipient at RCPT;
- `sink.data_delay = 0.1`: wait that long before answering each DATA (the message is
  recorded when the answer is 250, so a client killed meanwhile still leaves it recorded, as a
  real server that had accepted it would);
- `sink.hang()` / `sink.release()`: DATA waits without answering until released, then
  replies 451 (a client that gave up on it must not have it counted as delivered);
- `sink.hang_at = 2`: the same from the second DATA command on (the first is accepted);
- `sink.wait_for_sessions = 2`: DATA waits until that many connections have sent RCPT, so
  that two relays are known to overlap;
- `sink.stop()` / `sink.start()`: the server goes away and comes back on the same port.

Like a production relay, it can require TLS and a login: `SmtpSink(security="starttls" or
"tls", certificate=ca.issue_cert("127.0.0.1"), users={"relay": "secret"})` offers STARTTLS
(and refuses MAIL before it) or speaks TLS from the first byte (SMTPS), and refuses MAIL
before a successful AUTH; `trustme` makes the test authority (fixture `smtp_ca`) and the
certificate. Each `Received` says whether it came over TLS and under which login.

`sink.received` lists what was accepted, in order; `sink.message_ids()` counts by Message-ID.
"""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any, Literal

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.support.live_server import free_port

SESSION_WAIT_S = 15.0


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    session: int
    tls: bool = False  # the connection was encrypted when DATA came
    login: str | None = None  # the user name of a successful AUTH

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class _Handler:
    """aiosmtpd hooks; every attribute is set from the test's thread and read in the server's."""

    received: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)
    fail_data: int = 0
    fail_reply: str = "451 4.7.1 Greylisted, please try again later"
    data_delay: float = 0.0
    wait_for_sessions: int = 0
    hang_at: int = 0  # DATA commands from this one on hang (0: none)
    hanging: threading.Event = field(default_factory=threading.Event)
    sessions: set[int] = field(default_factory=set)
    data_commands: int = 0
    busy: int = 0  # DATA commands being answered right now
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: dict[str, str] = field(default_factory=dict)
    auth_failures: int = 0

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator: a known user with the right password (LOGIN, PLAIN)."""
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode()
            if self.users.get(user) == auth_data.password.decode():
                return AuthResult(success=True, auth_data=user)
        with self.lock:
            self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        with self.lock:
            self.sessions.add(id(session))
        refusal = self.reject.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _too_few_sessions(self, deadline: float) -> bool:
        with self.lock:
            waiting = len(self.sessions) < self.wait_for_sessions
        return waiting and time.monotonic() < deadline

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_commands += 1
            self.busy += 1
            if self.hang_at and self.data_commands >= self.hang_at:
                self.hanging.set()
        try:
            deadline = time.monotonic() + SESSION_WAIT_S
            while self._too_few_sessions(deadline):  # noqa: ASYNC110 - counted in other tasks
                await asyncio.sleep(0.01)
            if self.hanging.is_set():
                while self.hanging.is_set():  # noqa: ASYNC110 - a threading.Event
                    await asyncio.sleep(0.01)
                return "451 4.3.0 Timed out, try again later"
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            with self.lock:
                if self.fail_data > 0:
                    self.fail_data -= 1
                    return self.fail_reply
                self.received.append(
                    Received(
                        mail_from=envelope.mail_from,
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        data=bytes(envelope.content),
                        session=id(session),
                        tls=server.transport.get_extra_info("ssl_object") is not None,
                        login=session.auth_data if session.authenticated else None,
                    )
                )
            return "250 2.0.0 Message accepted for delivery"
        finally:
            with self.lock:
                self.busy -= 1


Security = Literal["starttls", "tls"]


class _Controller(Controller):
    """aiosmtpd counts only STARTTLS as TLS when AUTH requires it: on an SMTPS connection,
    encrypted from the first byte, AUTH is allowed as it is (no warning at each connection)."""

    def __init__(self, *args: Any, implicit_tls: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.implicit_tls = implicit_tls

    def factory(self) -> SMTP:
        server = super().factory()
        if self.implicit_tls:
            server._auth_require_tls = False
        return server


class SmtpSink:
    def __init__(
        self,
        port: int | None = None,
        *,
        security: Security | None = None,
        certificate: trustme.LeafCert | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        assert (security is None) == (certificate is None), "TLS needs a certificate"
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = _Handler(users=dict(users or {}))
        self.security = security
        self.certificate = certificate
        self._controller: Controller | None = None

    def _server_options(self) -> dict[str, Any]:
        """The Controller's arguments for the TLS mode and the login asked for."""
        options: dict[str, Any] = {}
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.certificate.configure_cert(context)
            if self.security == "tls":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)
        if self.handler.users:
            options.update(
                authenticator=self.handler.authenticate,
                auth_required=True,
            )
        return options

    # ------------------------------------------------------------ behaviour

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def reject(self) -> dict[str, str]:
        return self.handler.reject

    @property
    def fail_data(self) -> int:
        return self.handler.fail_data

    @fail_data.setter
    def fail_data(self, value: int) -> None:
        self.handler.fail_data = value

    @property
    def data_delay(self) -> float:
        return self.handler.data_delay

    @data_delay.setter
    def data_delay(self, value: float) -> None:
        self.handler.data_delay = value

    @property
    def wait_for_sessions(self) -> int:
        return self.handler.wait_for_sessions

    @wait_for_sessions.setter
    def wait_for_sessions(self, value: int) -> None:
        self.handler.wait_for_sessions = value

    @property
    def data_commands(self) -> int:
        return self.handler.data_commands

    @property
    def auth_failures(self) -> int:
        return self.handler.auth_failures

    @property
    def sessions(self) -> int:
        return len(self.handler.sessions)

    @property
    def hang_at(self) -> int:
        return self.handler.hang_at

    @hang_at.setter
    def hang_at(self, value: int) -> None:
        self.handler.hang_at = value

    def hang(self) -> None:
        self.handler.hanging.set()

    def release(self) -> None:
        self.handler.hang_at = 0
        self.handler.hanging.clear()

    def message_ids(self) -> Counter[str]:
        return Counter(item.message_id for item in self.received)

    def wait_idle(self, seconds: float = 5.0) -> None:
        """Wait until no DATA is being answered (a message in flight is recorded or not)."""
        deadline = time.monotonic() + seconds
        while self.handler.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self.handler.busy, "the SMTP sink is still answering a DATA command"

    # ------------------------------------------------------------ life

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None
        controller = _Controller(
            self.handler,
            implicit_tls=self.security == "tls",
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            **self._server_options(),
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        self.release()  # a hanging DATA must not keep the server's thread alive
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    """The test's certificate authority: what SMTP_CA_FILE names in the TLS tests."""
    return trustme.CA(organization_name="Conseils test CA")
