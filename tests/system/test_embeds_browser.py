"""The embeddable agenda in a real browser, framed by pages of other origins: a server started
with EMBED_ALLOWED_ORIGINS naming one of them; chromium shows the list in that one's frame and
refuses it in the other's (frame-ancestors). And the meeting page's JSON-LD under the site's
Content-Security-Policy: no violation, and the data reads back in the page."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright import async_api as pw

from tests.support.live_server import (
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    server_env,
    start_server,
    stop,
    suite_is_postgres,
    wait_until_healthy,
)
from tests.system.test_browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_PRESENT

pytestmark = pytest.mark.engine_independent
expect = pw.expect
TAMARIS = ["Café citoyen : les jeux pour enfants", "Réunion du conseil Tamaris"]


@dataclass(frozen=True)
class Sites:
    agenda: str  # our server
    allowed: str  # a site named in EMBED_ALLOWED_ORIGINS
    other: str  # a site that is not


def _host_page(embed_url: str) -> bytes:
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Site de la commune"
        "</title></head><body><h1>Agenda des quartiers</h1>"
        f"<iframe src='{embed_url}' title='Prochaines réunions des conseils citoyens' "
        "width='400' height='600'></iframe></body></html>"
    ).encode()


def _serve(body: list[bytes]) -> ThreadingHTTPServer:
    """Another origin: a page that frames the agenda (`body[0]`, set once the agenda's
    address is known), served from a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body[0])))
            self.end_headers()
            self.wfile.write(body[0])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _database_name() -> str:
    """Named after the suite's database: a run on another database never drops this one."""
    suite = os.environ.get("DATABASE_URL", "").split("?")[0].rpartition("/")[2]
    return f"{suite}_embeds" if suite_is_postgres() else "embeds"


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    body: list[bytes] = [b""]
    hosts = [_serve(body), _serve(body)]
    allowed, other = (f"http://127.0.0.1:{h.server_address[1]}" for h in hosts)
    directory = Path(tempfile.mkdtemp(prefix="conseils-embeds-"))
    database_url = fresh_database(_database_name(), directory)
    port = free_port()
    env = server_env(database_url, port, EMBED_ALLOWED_ORIGINS=f"https://www.ales.fr,{allowed}")
    assert run_cli("demo", env=env).returncode == 0
    log = directory / "server.log"
    process = start_server(env, log, "--port", str(port))
    agenda = f"http://127.0.0.1:{port}"
    body[0] = _host_page(f"{agenda}/integration/agenda?conseil=ales-tamaris")
    try:
        wait_until_healthy(agenda, process, log)
        yield Sites(agenda, allowed, other)
    finally:
        stop(process)
        drop_database(database_url)
        for host in hosts:
            host.shutdown()
            host.server_close()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[pw.Browser]:
    assert CHROMIUM_PRESENT, "no /usr/bin/chromium: run `make test` (it installs chromium)"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: pw.Browser) -> AsyncIterator[pw.Page]:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    yield page
    await context.close()


def _console(page: pw.Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    return messages


async def test_an_allowed_site_shows_the_list(page: pw.Page, sites: Sites) -> None:
    console = _console(page)
    await page.goto(sites.allowed)
    frame = page.frame_locator("iframe")
    await expect(frame.locator("li.meeting")).to_have_count(2)
    titles = await frame.locator("li.meeting h2 .title").all_inner_texts()
    assert titles == TAMARIS
    # Styled by its own stylesheet and the accent colour (both allowed by its CSP).
    border = await frame.locator("li.meeting").first.evaluate(
        "li => getComputedStyle(li).borderLeftColor"
    )
    assert border == "rgb(0, 85, 140)"
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m]
    # A link opens our page in the whole window: the host page is left, as with any link.
    await frame.locator("li.meeting h2 a").first.click()
    await page.wait_for_url(f"{sites.agenda}/reunions/*")
    await expect(page.locator("h1")).to_have_text(TAMARIS[0])


async def test_another_site_is_refused_by_the_browser(page: pw.Page, sites: Sites) -> None:
    console = _console(page)
    await page.goto(sites.other)
    await expect(page.locator("h1")).to_have_text("Agenda des quartiers")
    (child,) = page.main_frame.child_frames
    await child.wait_for_load_state()
    # Chromium put its error page in the frame instead of the agenda.
    assert await child.locator("li.meeting").count() == 0
    content = await child.content()
    assert all(title not in content for title in TAMARIS), child.url
    assert any("frame-ancestors" in m for m in console), console


async def test_the_agenda_alone_is_still_a_page(page: pw.Page, sites: Sites) -> None:
    response = await page.goto(f"{sites.agenda}/integration/agenda?conseil=ales-tamaris")
    assert response is not None and response.status == 200
    await expect(page.locator("li.meeting")).to_have_count(2)


async def test_json_ld_is_data_under_the_sites_policy(page: pw.Page, sites: Sites) -> None:
    """`script-src 'self'` forbids inline scripts; a JSON-LD data block is not one: no
    violation, nothing run, and its text reads back as the Event."""
    console = _console(page)
    violations: list[str] = []
    await page.expose_function("reportViolation", lambda text: violations.append(text))
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    )
    await page.goto(sites.agenda + "/")
    await page.locator("ol.meetings article h3 a").first.click()
    await page.wait_for_load_state("networkidle")
    text = await page.locator('script[type="application/ld+json"]').text_content()
    event = json.loads(text or "")
    assert event["@type"] == "Event"
    assert event["name"] == (await page.locator("h1").inner_text()).strip()
    assert violations == []
    assert not [m for m in console if "Content Security Policy" in m]
