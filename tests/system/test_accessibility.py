"""Every public page passes axe-core (in Debian's chromium, headless) with no `serious` or
`critical` violation.

axe-core checks only part of RGAA 4.1 (README, "Accessibility"); what it finds, it finds in
the page a resident gets. To check a new page, add it to `PAGES` (a path, with `{meeting}`,
`{registration}` or `{subscription}` filled in from the live server's data) or, for a page
reached by submitting a form, to `FORMS`. /schema (Swagger UI's own markup) is left out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from playwright import async_api as pw

from tests.support.live_server import LiveServer
from tests.system.test_browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_PRESENT

pytestmark = pytest.mark.engine_independent

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RESIDENT = "accessibilite@example.org"

PAGES = {
    "accueil": "/",
    "accueil filtré": "/?conseil=ales-tamaris&type=cafe",
    "page d'un conseil": "/conseils/ales-tamaris",
    "documents": "/documents",
    "comptes rendus": "/comptes-rendus",
    "comptes rendus d'un conseil": "/conseils/ales-tamaris/comptes-rendus",
    "recherche dans les comptes rendus": "/comptes-rendus/recherche?q=jardin",
    "page d'une réunion": "/reunions/{meeting}",
    "inscription enregistrée": "/reunions/{meeting}/inscription/enregistree",
    "gérer son inscription": "/inscriptions/{registration}",
    "confirmer l'annulation": "/inscriptions/{registration}/annuler",
    "supprimer mes données (confirmation)": "/inscriptions/{registration}/supprimer",
    "mes données : demander le lien": "/mes-donnees",
    "mes données : lien envoyé": "/mes-donnees/demande-envoyee",
    "mes données : effacées": "/mes-donnees/effacees",
    "mes données : lien périmé": "/mes-donnees/" + "x" * 43,
    "confirmer l'abonnement": "/abonnements/{subscription}/confirmer",
    "se désabonner": "/abonnements/{subscription}/desabonner",
    "page introuvable": "/nulle-part",
    "données personnelles": "/confidentialite",
    "mentions légales": "/mentions-legales",
    "déclaration d'accessibilité": "/declaration-accessibilite",
    "agenda à intégrer": "/integration/agenda?nombre=50",
    "agenda à intégrer, vide": "/integration/agenda?conseil=ales-tamaris&quartier=ales-moulinet",
}


async def registration_form_with_errors(page: pw.Page, ids: dict[str, str]) -> None:
    await page.goto(f"/reunions/{ids['meeting']}")
    await page.get_by_role("button", name="M'inscrire").click()
    await pw.expect(page.locator(".alert[role=alert]")).to_be_visible()


async def subscription_requested(page: pw.Page, ids: dict[str, str]) -> None:
    await page.goto("/conseils/ales-tamaris")
    await page.get_by_label("Votre adresse électronique").fill("autre@example.org")
    await page.get_by_role("button", name="Recevoir les annonces").click()
    await page.wait_for_load_state()


async def subscription_form_with_error(page: pw.Page, ids: dict[str, str]) -> None:
    await page.goto("/conseils/ales-tamaris")
    await page.get_by_label("Votre adresse électronique").fill("pas une adresse")
    await page.get_by_role("button", name="Recevoir les annonces").click()
    await pw.expect(page.locator("#email-erreur")).to_be_visible()


FORMS: dict[str, Callable[[pw.Page, dict[str, str]], Awaitable[None]]] = {
    "formulaire d'inscription avec erreurs": registration_form_with_errors,
    "abonnement demandé": subscription_requested,
    "formulaire d'abonnement avec erreur": subscription_form_with_error,
}


async def _query(database_url: str, sql: str) -> list[tuple]:
    """Read the live server's database (tokens go only to inboxes: the test reads them
    where the server keeps them)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            return connection.execute(sql).fetchall()
    connection = await asyncpg.connect(database_url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


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


@pytest.fixture
async def page(browser: pw.Browser, live_server: LiveServer) -> AsyncIterator[pw.Page]:
    # bypass_csp: axe is injected as an inline script, which the site's CSP rightly refuses.
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture(scope="module")
async def ids(browser: pw.Browser, live_server: LiveServer) -> dict[str, str]:
    """A meeting open for sign-ups, a registration and a subscription to it, made through
    the pages as a resident would."""
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = await context.new_page()
    await page.goto("/")
    meeting = ""
    for link in await page.locator("ol.meetings h3 a").all():
        meeting = (await link.get_attribute("href") or "").rsplit("/", 1)[-1]
        await page.goto(f"/reunions/{meeting}")
        if await page.locator("form.registration").count():
            break
        await page.goto("/")
    else:
        raise AssertionError("no meeting of the demo data takes sign-ups")
    await page.goto(f"/reunions/{meeting}")
    await page.get_by_label("Nom et prénom").fill("Awa Diallo")
    await page.get_by_label("Adresse électronique").fill(RESIDENT)
    await page.locator("#attending_as-resident").check()
    await page.locator("#consent").check()
    await page.get_by_role("button", name="M'inscrire").click()
    await page.wait_for_url(f"**/reunions/{meeting}/inscription/enregistree")
    await page.goto("/conseils/ales-tamaris")
    await page.get_by_label("Votre adresse électronique").fill(RESIDENT)
    await page.get_by_role("button", name="Recevoir les annonces").click()
    await page.wait_for_load_state()
    await context.close()
    [(registration,)] = await _query(
        live_server.database_url, f"SELECT token FROM registration WHERE email = '{RESIDENT}'"
    )
    [(subscription,)] = await _query(
        live_server.database_url, f"SELECT token FROM subscription WHERE email = '{RESIDENT}'"
    )
    return {"meeting": str(meeting), "registration": registration, "subscription": subscription}


async def blocking_violations(page: pw.Page) -> list[str]:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}})"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("name", list(PAGES))
async def test_page_has_no_serious_violation(page: pw.Page, ids: dict[str, str], name: str) -> None:
    path = PAGES[name].format(**ids)
    response = await page.goto(path)
    assert response is not None and response.status in (200, 404), (path, response)
    assert await blocking_violations(page) == [], f"{name} ({path})"


@pytest.mark.parametrize("name", list(FORMS))
async def test_form_result_has_no_serious_violation(
    page: pw.Page, ids: dict[str, str], name: str
) -> None:
    await FORMS[name](page, ids)
    assert await blocking_violations(page) == [], f"{name} ({page.url})"


async def test_the_check_finds_what_it_should(page: pw.Page, live_server: LiveServer) -> None:
    """The harness itself: a field without a label, and grey on grey, fail the check."""
    await page.goto("/")
    await page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.insertAdjacentHTML("beforeend", '<input type="text" id="sans-etiquette">');
            const p = document.createElement("p");
            p.textContent = "Texte illisible";
            p.style.color = "#bbb";
            p.style.background = "#ccc";
            main.append(p);
        }"""
    )
    found = "\n".join(await blocking_violations(page))
    assert "label" in found and "color-contrast" in found
