"""Every back-office page passes axe-core with no serious or critical violation, signed in
as an admin (who sees every page), in Debian's chromium against the live server.

The pages are not listed by hand: every GET route under /animation is visited, its path
parameters filled from the live server's data (`PARAMETERS`); a new page is checked the
day it is added. Forms that answer with errors are checked in the journeys' module.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright import async_api as pw

from conseils.app import create_app
from tests.support.live_server import LiveServer, demo_server, run_cli
from tests.system.test_accessibility import (
    AXE,
    _query,
    blocking_violations,
)
from tests.system.test_browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_PRESENT

pytestmark = pytest.mark.engine_independent

ADMIN = "admin.accessibilite@ales.fr"
PASSWORD = "un mot de passe pour axe-core"
# Pages that answer something other than a page to look at
NOT_PAGES = {"/animation/deconnexion"}
FILES = (".csv", ".pdf")  # downloads, not pages
# Pages visited with made-up keys answer with their French refusal page, checked all the same
STATUS = {"/animation/mot-de-passe/{token:str}": 404}


def back_office_pages() -> list[str]:
    paths = set()
    for route in create_app().routes:
        if not route.path.startswith("/animation"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if (
                "GET" in handler.http_methods
                and route.path not in NOT_PAGES
                and not route.path.endswith(FILES)
            ):
                paths.add(route.path)
    return sorted(paths)


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """A server of this module's own: what it creates and signs up for would change what
    the other modules count on the shared live server's public pages."""
    with demo_server("axe_animation") as server:
        yield server


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[pw.Browser]:
    assert CHROMIUM_PRESENT, f"no {CHROMIUM}: run `make test` (it installs chromium)"
    assert AXE.exists(), "no axe-core: run `npm ci --prefix tests/js` (make test does)"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> str:
    created = run_cli(
        "facilitator", "create", "--email", ADMIN, "--name", "Admin Accessibilité", "--admin",
        env=live_server.env, input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0 or "existe déjà" in created.stderr, created.stderr
    return ADMIN


@pytest.fixture(scope="module")
async def parameters(live_server: LiveServer, admin: str) -> dict[str, str]:
    """Values for the back-office's path parameters, from the live server's demo data."""
    meetings = await _query(
        live_server.database_url,
        "SELECT m.id FROM meeting m JOIN council c ON c.id = m.council "
        "WHERE c.slug = 'ales-tamaris' AND m.status = 'published' ORDER BY m.starts_at DESC",
    )
    registration = meeting = None
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        for (candidate,) in meetings:  # the latest that takes sign-ups
            await client.post(
                f"/api/v1/meetings/{candidate}/registrations",
                json={"name": "Awa Axe", "email": "awa.axe@example.org",
                      "attending_as": "resident", "consent": True},
            )  # fmt: skip
            found = await _query(
                live_server.database_url,
                f"SELECT id FROM registration WHERE meeting = {candidate} "
                "AND email = 'awa.axe@example.org'",
            )
            if found:
                meeting, registration = candidate, found[0][0]
                break
    assert registration is not None, "no Tamaris meeting of the demo takes sign-ups"
    [(council,)] = await _query(
        live_server.database_url, "SELECT id FROM council WHERE slug = 'ales-tamaris'"
    )
    [(quartier,)] = await _query(
        live_server.database_url, "SELECT id FROM quartier WHERE slug = 'ales-tamaris'"
    )
    [(facilitator,)] = await _query(
        live_server.database_url, f"SELECT id FROM facilitator WHERE email = '{ADMIN}'"
    )
    # A published proposal: its page then shows every form (status, answer, edit, merge,
    # agenda). Written directly, as the residents' submission is another part of the app.
    moment = "'2026-01-05T10:00:00+00:00'"
    [(proposal,)] = await _query(
        live_server.database_url,
        "INSERT INTO proposal (council, title, body, theme, author_name, show_name, origin, "
        "status, rejection_reason, answer, answer_role, supports, created_at, updated_at, "
        f"published_at) VALUES ({council}, 'Des bancs au square', 'Pour s''asseoir.', "
        f"'cadre_de_vie', 'Awa', false, 'online', 'published', '', '', '', 0, {moment}, "
        f"{moment}, {moment}) RETURNING id",
    )
    [(minutes,)] = await _query(
        live_server.database_url,
        "INSERT INTO minutes (council, month, title, summary, body, decisions, filename, "
        "status, created_at, updated_at, updates_sent) VALUES "
        f"({council}, '2026-01-01', 'Compte rendu de janvier', 'Résumé', '**Texte**', "
        f"'Une décision', '', 'published', {moment}, {moment}, 0) RETURNING id",
    )
    # A document of the demo's library (`conseils demo` loads them with the meetings).
    [(document,)] = await _query(
        live_server.database_url, "SELECT id FROM document ORDER BY id LIMIT 1"
    )
    return {
        "document_id": str(document),
        "minutes_id": str(minutes),
        "proposal_id": str(proposal),
        "facilitator_id": str(facilitator),
        "token": "x" * 43,  # a password link nobody was sent: the page that says so
        "meeting_id": str(meeting),
        "registration_id": str(registration),
        "council_id": str(council),
        "quartier_id": str(quartier),
        "slug": "ales-tamaris",
    }


@pytest.fixture
async def page(browser: pw.Browser, live_server: LiveServer, admin: str) -> AsyncIterator[pw.Page]:
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    page = await context.new_page()
    await page.goto("/animation/connexion")
    await page.get_by_label("Adresse électronique").fill(admin)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/animation/")
    yield page
    await context.close()


def _filled(path: str, parameters: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in parameters, f"{path}: add a value for {{{name}}} to `parameters`"
        return parameters[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


@pytest.mark.parametrize("path", back_office_pages())
async def test_back_office_page_has_no_serious_violation(
    page: pw.Page, parameters: dict[str, str], path: str
) -> None:
    url = _filled(path, parameters)
    response = await page.goto(url)
    expected = STATUS.get(path, 200)
    assert response is not None and response.status == expected, (url, response and response.status)
    assert await blocking_violations(page) == [], url


async def test_sign_in_page_has_no_serious_violation(
    browser: pw.Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    page = await context.new_page()
    await page.goto("/animation/connexion")
    await page.get_by_label("Adresse électronique").fill("personne@example.org")
    await page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    await page.get_by_role("button", name="Se connecter").click()
    await pw.expect(page.locator(".alert[role=alert]")).to_contain_text("incorrect")
    assert await blocking_violations(page) == []
    await context.close()
