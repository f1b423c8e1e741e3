"""A facilitator's whole meeting, in Debian's chromium against the live server, with the
resident on the other side of it.

The facilitator signs in with the keyboard alone, creates a café for next week, previews it
and publishes it; a resident signs up on the public page; the facilitator finds them among
the registrants, prints the attendance sheet (and downloads its PDF), marks them present
(with the keyboard alone again), downloads the CSV, then cancels with a reason; the
cancellation the resident receives (in the live server's maildir: no SMTP server is set)
carries that reason.
"""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import async_api as pw

from conseils.timefmt import now_utc, to_paris
from tests.support.live_server import LiveServer, demo_server, run_cli
from tests.system.test_browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_PRESENT

pytestmark = pytest.mark.engine_independent

expect = pw.expect
FACILITATOR = "anim.parcours@ales.fr"
PASSWORD = "un mot de passe pour le parcours"
RESIDENT = "awa.parcours@example.org"
TITLE = "Café citoyen du parcours"
REASON = "La salle est inondée : nous reportons le café."


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """A server of this module's own: what it creates and signs up for would change what
    the other modules count on the shared live server's public pages."""
    with demo_server("journey") as server:
        yield server


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[pw.Browser]:
    assert CHROMIUM_PRESENT, f"no {CHROMIUM}: run `make test` (it installs chromium)"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="module")
def facilitator(live_server: LiveServer) -> str:
    created = run_cli(
        "facilitator", "create", "--email", FACILITATOR, "--name", "Anim Parcours",
        "--council", "ales-tamaris", env=live_server.env, input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return FACILITATOR


async def _focus_by_tab(page: pw.Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element `selector` finds has the focus: reachable with the
    keyboard alone, in the page's order."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(
            "(selector) => document.activeElement?.matches(selector) ?? false", selector
        ):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


def _maildir(live_server: LiveServer) -> Path:
    return Path(live_server.env["DATA_DIR"]) / "maildir" / "new"


async def _mail_to(
    live_server: LiveServer, address: str, subject_part: str
) -> email.message.EmailMessage:
    for _ in range(100):
        folder = _maildir(live_server)
        for path in sorted(folder.iterdir()) if folder.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if address in str(message["To"]) and subject_part in str(message["Subject"]):
                return message  # type: ignore[return-value]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no email to {address} about {subject_part!r}")


async def test_a_facilitator_runs_a_meeting_from_the_browser(
    browser: pw.Browser, live_server: LiveServer, facilitator: str, tmp_path: Path
) -> None:
    office = await browser.new_context(
        base_url=live_server.url, locale="fr-FR", accept_downloads=True
    )
    page = await office.new_page()

    # Sign in with the keyboard alone.
    await page.goto("/animation/")
    await expect(page).to_have_url(f"{live_server.url}/animation/connexion?suite=%2Fanimation")
    await _focus_by_tab(page, "#email")
    await page.keyboard.type(facilitator)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")

    # A café next week, typed in Paris time.
    day = to_paris(now_utc() + timedelta(days=7)).date()
    await page.get_by_role("link", name="Réunions", exact=True).click()
    await page.get_by_role("link", name="Nouvelle réunion").click()
    await page.get_by_label("Conseil citoyen").select_option(label="Conseil citoyen Alès Tamaris")
    await page.get_by_label("Type de réunion").select_option("cafe")
    await page.get_by_label("Titre").fill(TITLE)
    await page.locator("#starts_at").fill(day.isoformat())
    await page.locator("#starts_at_time").fill("18:00")
    await page.locator("#ends_at_time").fill("20:00")
    await page.get_by_label("Lieu").fill("Maison de quartier de Tamaris")
    await page.get_by_label("Adresse", exact=True).fill("Rue de la Lozère, 30100 Alès")
    await page.get_by_label("Nombre de places").fill("12")
    await page.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    meeting = urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[-1]
    assert meeting.isdigit(), page.url

    # Preview, then publish.
    await page.get_by_role("link", name="Aperçu de la page publique").click()
    await expect(page.locator("body")).to_contain_text("Aperçu")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    await page.go_back()
    await page.get_by_role("button", name="Publier").click()
    await expect(page.locator("main")).to_contain_text("Publiée")

    # A resident signs up on the public page.
    residents = await browser.new_context(base_url=live_server.url, locale="fr-FR")
    resident = await residents.new_page()
    await resident.goto(f"/reunions/{meeting}")
    await resident.get_by_label("Nom et prénom").fill("Awa Diallo")
    await resident.get_by_label("Adresse électronique").fill(RESIDENT)
    await resident.locator("#attending_as-resident").check()
    await resident.locator("#consent").check()
    await resident.get_by_role("button", name="M'inscrire").click()
    await resident.wait_for_url(f"**/reunions/{meeting}/inscription/enregistree")
    await residents.close()

    # The facilitator sees her, prints the sheet, marks her present, downloads the CSV.
    await page.goto(f"/animation/reunions/{meeting}")
    await page.get_by_role("link", name="Inscriptions et présences").click()
    await expect(page.get_by_role("rowheader", name="Awa Diallo")).to_be_visible()
    await page.get_by_role("link", name="Feuille d'émargement").click()
    await expect(page.locator("main")).to_contain_text("Awa Diallo")
    async with page.expect_download() as pdf:
        await page.get_by_role("link", name="Télécharger en PDF").click()
    pdf_path = tmp_path / "emargement.pdf"
    await (await pdf.value).save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    await page.get_by_role("link", name="Inscriptions et présences").click()
    # Attendance with the keyboard alone: Tab to her box, Space, Tab to the button, Enter.
    await _focus_by_tab(page, "input[type=checkbox][name=present]")
    await page.keyboard.press("Space")
    await _focus_by_tab(page, "button[type=submit]")
    assert await page.evaluate("() => document.activeElement.textContent") == (
        "Enregistrer les présences"
    )
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("checkbox", name="Awa Diallo")).to_be_checked()
    async with page.expect_download() as csv:
        await page.get_by_role("link", name="Télécharger le tableau (CSV)").click()
    csv_path = tmp_path / "inscriptions.csv"
    await (await csv.value).save_as(csv_path)
    assert "Awa Diallo" in csv_path.read_text(encoding="utf-8-sig")

    # Cancel with a reason; the resident's cancellation carries it.
    await page.goto(f"/animation/reunions/{meeting}")
    await page.get_by_role("link", name="Annuler la réunion").click()
    await page.get_by_label("Motif de l'annulation").fill(REASON)
    await page.get_by_role("button", name="Annuler la réunion").click()
    await expect(page.locator("main")).to_contain_text(REASON)
    await office.close()

    message = await _mail_to(live_server, RESIDENT, "nnul")
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and REASON in text.get_content()
