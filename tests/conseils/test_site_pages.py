"""What every site has: the operator's identity from settings, the accent stylesheet, the
favicon, meta and Open Graph descriptions, and the three legal pages linked from every
footer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from httpx import AsyncClient

from conseils.app import create_app
from conseils.settings import get_settings
from conseils.web.headers import security_headers
from meetings.tables import Meeting

LEGAL = ("/confidentialite", "/mentions-legales", "/declaration-accessibilite")


def meta(page: str, attribute: str, name: str) -> str:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', page)
    assert found, f"no {name} meta"
    return found.group(1)


@pytest.mark.parametrize("path", ["/", "/conseils/ales-tamaris", *LEGAL])
async def test_every_footer_links_the_legal_pages(
    client: AsyncClient, demo: None, path: str
) -> None:
    page = (await client.get(path)).text
    footer = page[page.index('<footer class="site">') :]
    for link in LEGAL:
        assert f'href="{link}"' in footer
    assert "Un service de Alès Agglomération" in footer or "Alès Agglomération" in footer


@pytest.mark.parametrize("path", LEGAL)
async def test_legal_pages_are_french_and_cacheable(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "max-age=3600" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<html lang="fr">' in response.text


async def test_the_privacy_page_says_what_why_how_long_who_and_rights(
    client: AsyncClient,
) -> None:
    page = (await client.get("/confidentialite")).text
    for words in (
        "un an après la réunion",
        "30 jours",
        "7 jours",
        "consentement",
        'href="/mes-donnees"',
        "CNIL",
        "animatrices et animateurs",
        "Alès Agglomération",
    ):
        assert words in page, words


async def test_unset_operator_details_show_as_to_be_completed(client: AsyncClient) -> None:
    page = (await client.get("/mentions-legales")).text
    for variable in ("OPERATOR_ADDRESS", "PUBLICATION_DIRECTOR", "HOSTING_PROVIDER"):
        assert f"à compléter par l'exploitant (réglage {variable})" in page
    assert "loi n° 2004-575" in page


async def test_the_accessibility_statement(client: AsyncClient) -> None:
    page = (await client.get("/declaration-accessibilite")).text
    assert "RGAA" in page and "4.1" in page
    assert "non conforme" in page  # not audited yet: RGAA says so
    assert "Défenseur des droits" in page


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another operator's settings, read afresh (and forgotten afterwards)."""
    monkeypatch.setenv("OPERATOR_NAME", "Ville d'Anduze")
    monkeypatch.setenv("OPERATOR_ADDRESS", "Place de la mairie, 30140 Anduze")
    monkeypatch.setenv("OPERATOR_EMAIL", "contact@anduze.example")
    monkeypatch.setenv("PUBLICATION_DIRECTOR", "Madame la maire")
    monkeypatch.setenv("HOSTING_PROVIDER", "Hébergeur Exemple, 1 rue X, 75000 Paris")
    monkeypatch.setenv("SITE_LOGO_URL", "https://images.anduze.example/logo.svg")
    monkeypatch.setenv("ACCENT_COLOUR", "#6A1B9A")
    get_settings.cache_clear()
    security_headers.cache_clear()
    yield
    get_settings.cache_clear()
    security_headers.cache_clear()


async def test_the_operator_comes_from_settings(operator: None) -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        home = await c.get("/")
        notice = (await c.get("/mentions-legales")).text
        theme = await c.get("/theme.css")
    assert "<title>Prochaines réunions — Ville d&#39;Anduze</title>" in home.text
    assert '<img src="https://images.anduze.example/logo.svg" alt="" class="logo">' in home.text
    # The logo's host is the one image origin allowed besides our own.
    assert (
        "img-src 'self' data: https://images.anduze.example;"
        in (home.headers["content-security-policy"])
    )
    for words in ("Place de la mairie, 30140 Anduze", "Madame la maire", "Hébergeur Exemple"):
        assert words in notice
    assert "à compléter" not in notice
    assert theme.headers["content-type"].startswith("text/css")
    assert theme.text == ":root { --accent: #6a1b9a; }\n"
    assert "max-age=86400" in theme.headers["cache-control"]


async def test_the_default_theme_and_the_favicon(client: AsyncClient) -> None:
    theme = await client.get("/theme.css")
    assert theme.text == ":root { --accent: #00558c; }\n"
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.headers["location"] == "/static/favicon.svg"
    svg = await client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    page = (await client.get("/mentions-legales")).text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="stylesheet" href="/theme.css?00558c">' in page


async def test_pages_have_a_meta_description_and_open_graph(
    client: AsyncClient, demo: None
) -> None:
    home = (await client.get("/")).text
    assert "conseils citoyens" in meta(home, "name", "description")
    assert meta(home, "property", "og:title") == "Prochaines réunions"
    council = (await client.get("/conseils/ales-tamaris")).text
    assert "Tamaris" in meta(council, "name", "description")


async def test_a_meeting_page_describes_the_meeting(client: AsyncClient, demo: None) -> None:
    meeting = await Meeting.objects().where(Meeting.status == "published").first()
    await Meeting.update(
        {Meeting.description: "**Ordre du jour** : le [parc](https://x.fr)."}
    ).where(Meeting.id == meeting.id)
    page = (await client.get(f"/reunions/{meeting.id}")).text
    assert meta(page, "property", "og:title") == meeting.title.replace("'", "&#39;")
    description = meta(page, "name", "description")
    assert description == meta(page, "property", "og:description")
    assert description.endswith("Ordre du jour : le parc.")
    assert "**" not in description and "https://" not in description
