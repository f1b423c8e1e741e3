"""The public pages in a real browser (Debian's chromium, headless) against a live server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright import async_api as pw

from tests.support.live_server import LiveServer

# What a browser shows does not depend on the database engine: `make test` runs this once.
pytestmark = pytest.mark.engine_independent

expect = pw.expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_PRESENT = CHROMIUM.exists()
TAMARIS = "Conseil citoyen Alès Tamaris"
TAMARIS_MEETINGS = ["Café citoyen : les jeux pour enfants", "Réunion du conseil Tamaris"]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[pw.Browser]:
    # Never a skip: a missing browser would hide every page test. `make test` installs it.
    assert CHROMIUM_PRESENT, "no /usr/bin/chromium: run `make test` (it installs chromium)"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: pw.Browser, live_server: LiveServer) -> AsyncIterator[pw.Page]:
    context = await browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = await context.new_page()
    yield page
    await context.close()


async def listed_titles(page: pw.Page) -> list[str]:
    texts = await page.locator("ol.meetings article h3").all_inner_texts()
    return [text.strip() for text in texts]


async def council_lines(page: pw.Page) -> list[str]:
    # The text as written (the stylesheet shows it in capitals).
    return await page.locator("ol.meetings article p.kind").all_text_contents()


async def test_home_page(page: pw.Page, tmp_path: Path) -> None:
    await page.goto("/")
    assert await page.title() == "Prochaines réunions — Alès Agglomération"
    await expect(page.locator("h1")).to_have_text("Prochaines réunions des conseils citoyens")
    titles = await listed_titles(page)
    assert len(titles) == 13
    assert titles[0] == "Café citoyen : la propreté du quartier"  # the soonest, in 4 days
    await expect(page.locator("article.cancelled .badge-cancelled")).to_have_text("Annulée")
    # The stylesheet loaded (and was allowed by the Content-Security-Policy).
    button_colour = await page.locator("form.filters button").evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    assert button_colour == "rgb(0, 85, 140)"
    await page.set_viewport_size({"width": 1280, "height": 900})
    png = await page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert png.startswith(b"\x89PNG")
    assert len(png) > 10_000


async def test_filter_form_by_council(page: pw.Page) -> None:
    await page.goto("/")
    await page.get_by_label("Conseil", exact=True).select_option(label=TAMARIS)
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(re.compile(r"conseil=ales-tamaris"))
    assert "conseil=ales-tamaris" in page.url
    assert await listed_titles(page) == TAMARIS_MEETINGS
    assert all(TAMARIS in line for line in await council_lines(page))
    # The form remembers the choice.
    await expect(page.locator("#conseil")).to_have_value("ales-tamaris")


async def test_filter_form_by_council_and_type(page: pw.Page) -> None:
    await page.goto("/")
    await page.locator("#conseil").select_option("ales-tamaris")
    await page.locator("#type").select_option(label="Café citoyen")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(re.compile(r"type=cafe"))
    assert "conseil=ales-tamaris" in page.url
    assert await listed_titles(page) == TAMARIS_MEETINGS[:1]
    await expect(page.locator("#type")).to_have_value("cafe")


async def test_click_through_to_a_meeting_then_its_council(page: pw.Page) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Café citoyen : les jeux pour enfants").click()
    await page.wait_for_url(re.compile(r"/reunions/\d+$"))
    await expect(page.locator("h1")).to_have_text("Café citoyen : les jeux pour enfants")
    facts = await page.locator("dl.facts").inner_text()
    assert "Maison de quartier de Tamaris" in facts
    assert "20 places" in facts
    assert re.search(r"\b\d{1,2} h( \d{2})? à \d{1,2} h", facts)
    map_link = page.get_by_role("link", name=re.compile("Voir sur la carte"))
    href = await map_link.get_attribute("href")
    assert href is not None
    assert href.startswith("https://www.openstreetmap.org/search?")

    await page.locator("nav.crumbs").get_by_role("link", name=TAMARIS).click()
    await page.wait_for_url(re.compile(r"/conseils/ales-tamaris$"))
    await expect(page.locator("h1")).to_have_text(TAMARIS)
    assert "Quartier : Tamaris (Alès)." in await page.locator(".quartiers-line").inner_text()
    upcoming = await page.locator("section[aria-labelledby=a-venir] h3").all_inner_texts()
    past = await page.locator("section[aria-labelledby=passees] h3").all_inner_texts()
    assert upcoming == TAMARIS_MEETINGS
    assert past == [f"Réunion du conseil — {TAMARIS}"]


async def test_council_list_links_to_council_pages(page: pw.Page) -> None:
    await page.goto("/")
    await page.locator("#conseils").get_by_role("link", name=re.compile("Couronne Nord")).click()
    await page.wait_for_url(re.compile(r"/conseils/ales-couronne-nord$"))
    assert "Cévennes (Alès), Moulinet (Alès), Pierre-Curie (Alès)" in await page.inner_text("main")


async def test_unknown_page_is_french(page: pw.Page) -> None:
    response = await page.goto("/nulle-part")
    assert response is not None
    assert response.status == 404
    await expect(page.locator("h1")).to_have_text("Page introuvable")
    await page.get_by_role("link", name="Retour aux prochaines réunions").click()
    await page.wait_for_url(re.compile(r"/$"))


@pytest.mark.parametrize("path", ["/", "/conseils/ales-couronne-nord", "meeting"])
async def test_phone_viewport_has_no_horizontal_scroll(
    browser: pw.Browser, live_server: LiveServer, path: str
) -> None:
    context = await browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = await context.new_page()
        if path == "meeting":
            await page.goto("/")
            await page.get_by_role("link", name="Réunion du conseil « Couronne Nord »").click()
            await page.wait_for_url(re.compile(r"/reunions/\d+$"))
        else:
            await page.goto(path)
        width = await page.evaluate("window.innerWidth")
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert width == 390
        assert scroll_width <= width, f"{path}: {scroll_width}px wide on a {width}px screen"
    finally:
        await context.close()


async def test_works_without_javascript(browser: pw.Browser, live_server: LiveServer) -> None:
    context = await browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto("/")
        assert len(await listed_titles(page)) == 13
        await page.locator("#conseil").select_option("ales-tamaris")
        await page.locator("#type").select_option("council")
        await page.get_by_role("button", name="Filtrer").click()
        await page.wait_for_url(re.compile(r"conseil=ales-tamaris"))
        assert "type=council" in page.url
        assert await listed_titles(page) == ["Réunion du conseil Tamaris"]
        await page.get_by_role("link", name="Réunion du conseil Tamaris").click()
        await page.wait_for_url(re.compile(r"/reunions/\d+$"))
        await expect(page.locator("h1")).to_have_text("Réunion du conseil Tamaris")
    finally:
        await context.close()


async def test_council_page_offers_the_calendar_subscription(
    page: pw.Page, live_server: LiveServer
) -> None:
    await page.goto("/conseils/ales-tamaris")
    box = page.locator("section[aria-labelledby=agenda]")
    await expect(box.get_by_role("heading")).to_have_text("S'abonner à l'agenda")
    feed = f"{live_server.url}/conseils/ales-tamaris/calendrier.ics"
    await expect(box.get_by_label("Adresse de l'agenda, à copier")).to_have_value(feed)
    webcal = await box.get_by_role("link", name="S'abonner dans mon agenda").get_attribute("href")
    assert webcal == "webcal://" + feed.split("://", 1)[1]
    google = await box.get_by_role("link", name="Ajouter à Google Agenda").get_attribute("href")
    assert google is not None
    assert google.startswith("https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F")
    await box.get_by_text("Comment faire, selon votre agenda").click()
    await expect(box.get_by_text("Thunderbird", exact=True)).to_be_visible()
    response = await page.request.get(feed)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert (await response.text()).count("BEGIN:VEVENT") == 3  # two upcoming, one past


async def test_meeting_page_adds_the_meeting_to_a_calendar(page: pw.Page) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Café citoyen : les jeux pour enfants").click()
    await page.wait_for_url(re.compile(r"/reunions/\d+$"))
    box = page.locator("section[aria-labelledby=ajouter]")
    await expect(box.get_by_role("heading")).to_have_text("Ajouter à mon agenda")
    async with page.expect_download() as download_info:
        await box.get_by_role("link", name="Télécharger l'événement (.ics)").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".ics")
    content = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")
    assert content.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:Café citoyen : les jeux pour enfants" in content
    google = await box.get_by_role("link", name="Ajouter à Google Agenda").get_attribute("href")
    assert google is not None
    assert "action=TEMPLATE" in google
    assert "ctz=Europe/Paris" in google
