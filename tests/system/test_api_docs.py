"""/schema in a real browser: Swagger UI, served from this site, lists the API's operations
under the site's strict Content-Security-Policy, with no violation and nothing from
elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright import async_api as pw

from tests.support.live_server import LiveServer
from tests.system.test_browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_PRESENT

pytestmark = pytest.mark.engine_independent


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[pw.Browser]:
    assert CHROMIUM_PRESENT, f"no {CHROMIUM}: run `make test` (it installs chromium)"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


async def test_schema_lists_the_operations_with_no_csp_violation(
    browser: pw.Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = await context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_server.url, "data:")) else elsewhere.append(r.url),
    )
    # Every violation of the page's CSP, as the DOM reports it (besides the console).
    await page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = await page.goto("/schema")
    assert response is not None and response.status == 200
    operations = page.locator(".opblock-summary-path")
    await pw.expect(operations.first).to_be_visible(timeout=15_000)
    paths = await operations.all_inner_texts()
    assert any("/api/v1/meetings" in path for path in paths), paths
    assert len(paths) >= 10
    # Open an operation and its models: what Swagger UI draws on demand runs too.
    await operations.first.click()
    await pw.expect(page.locator(".opblock-body").first).to_be_visible()
    await page.locator(".models-control").first.click()
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.cspViolations") == []
    assert errors == [], errors  # a CSP violation is also a console error
    # The check does see a violation: an inline style the CSP refuses.
    await page.evaluate("document.body.setAttribute('style', 'color: red')")
    await page.wait_for_timeout(200)
    assert await page.evaluate("window.cspViolations") != []
    assert elsewhere == [], elsewhere
    await context.close()


async def test_the_docs_and_the_site_share_the_strict_csp(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        for path in ("/", "/confidentialite", "/theme.css", "/schema", "/schema/openapi.json"):
            csp = (await client.get(path)).headers["content-security-policy"]
            assert "style-src 'self';" in csp and "unsafe" not in csp, path
