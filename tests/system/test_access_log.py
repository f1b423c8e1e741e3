"""Capability tokens never reach the access log of `conseils serve`: a real server at
LOG_LEVEL=DEBUG (access log on), its log read back."""

from __future__ import annotations

import secrets

import httpx
import pytest

from conseils import urls
from conseils.web.access_log import redact
from tests.support.live_server import LiveServer, free_port, start_server, stop, wait_until_healthy


def test_redact_rewrites_capability_segments_only() -> None:
    assert redact("/inscriptions/abc_DEF-1/annuler") == "/inscriptions/<jeton>/annuler"
    assert redact("/agenda/xyz/calendrier.ics") == "/agenda/<jeton>/calendrier.ics"
    assert redact("/abonnements/t0k/desabonner?x=1") == "/abonnements/<jeton>/desabonner?x=1"
    assert redact("/mes-donnees/t0k") == "/mes-donnees/<jeton>"
    assert redact("/mes-donnees") == "/mes-donnees"
    assert (
        redact("/conseils/ales-tamaris/calendrier.ics") == "/conseils/ales-tamaris/calendrier.ics"
    )


@pytest.mark.parametrize(
    "link",
    [urls.manage_url, urls.registration_feed_url, urls.address_feed_url,
     urls.personal_data_url, urls.unsubscribe_url, urls.confirm_subscription_url,
     urls.password_link_url],
)  # fmt: skip
def test_every_capability_link_the_site_writes_is_redacted(link) -> None:
    """Each link that acts for a person (conseils/urls.py) loses its token in the logs:
    /agenda/adresse/<token> included, whose first segment is not the token."""
    token = secrets.token_urlsafe(32)
    path = link(token).split("://", 1)[1].partition("/")[2]
    assert token not in redact("/" + path)
    assert "<jeton>" in redact("/" + path)


@pytest.mark.engine_independent
def test_tokens_in_urls_never_reach_the_access_log(live_server: LiveServer) -> None:
    port = free_port()
    env = {**live_server.env, "LOG_LEVEL": "DEBUG", "OUTBOX_IN_PROCESS": "0"}
    log = live_server.directory / f"access-{port}.log"
    process = start_server(env, log, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    tokens = [secrets.token_urlsafe(32) for _ in range(5)]
    try:
        wait_until_healthy(url, process, log)
        for path in (
            f"/inscriptions/{tokens[0]}",
            f"/inscriptions/{tokens[1]}/annuler",
            f"/agenda/{tokens[2]}/calendrier.ics",
            f"/abonnements/{tokens[3]}/desabonner",
            f"/mes-donnees/{tokens[4]}",
        ):
            httpx.get(url + path)
        httpx.get(f"{url}/conseils/ales-tamaris")
    finally:
        stop(process)
    text = log.read_text(errors="replace")
    assert '"GET /conseils/ales-tamaris HTTP/1.1" 200' in text  # the access log is on
    for token in tokens:
        assert token not in text
    assert '"GET /inscriptions/<jeton>/annuler HTTP/1.1"' in text
    assert '"GET /agenda/<jeton>/calendrier.ics HTTP/1.1"' in text
    assert '"GET /abonnements/<jeton>/desabonner HTTP/1.1"' in text
    assert '"GET /mes-donnees/<jeton> HTTP/1.1"' in text
