"""The embeddable agenda (`/integration/agenda`, `.rss`, `.json`) in-process, on the demo data:
what it lists for each filter, what it refuses and how, its headers, the RSS and JSON
documents (parsed back with the standard library), and that it never shows stale data."""

from __future__ import annotations

import asyncio
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient

from conseils.app import create_app
from conseils.settings import get_settings
from conseils.timefmt import PARIS, now_utc
from conseils.web.headers import embed_headers
from meetings.demo import CANCELLED, upcoming
from meetings.tables import Council, Meeting
from tests.support.registration_support import person, published_meeting, sign_up

BASE = "http://testserver.local"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PAGE, RSS, JSON = "/integration/agenda", "/integration/agenda.rss", "/integration/agenda.json"
MOULINET_COUNCILS = {"ales-couronne-nord", "ales-agglo"}  # its council and the agglomeration's
TITLE = re.compile(r'<span class="title">(.*?)</span>')
ITEM = re.compile(r'<li class="meeting[^"]*">.*?</li>', re.S)


def planned(councils: set[str] | None = None, kind: str | None = None) -> list[str]:
    """The demo's upcoming titles, soonest first, of these councils and kind."""
    return [
        p.title
        for p in upcoming(now_utc().astimezone(PARIS).date())
        if (councils is None or p.slug in councils) and (kind is None or p.kind == kind)
    ]


def titles(page: str) -> list[str]:
    return [html.unescape(t) for t in TITLE.findall(page)]


def item_for(page: str, title: str) -> str:
    found = [item for item in ITEM.findall(page) if html.escape(title) in item]
    assert len(found) == 1, title
    return found[0]


async def listed(client: AsyncClient, query: str = "") -> str:
    response = await client.get(f"{PAGE}?{query}" if query else PAGE)
    assert response.status_code == 200, response.text[:800]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


# ---------------------------------------------------------------- the page


async def test_the_next_five_public_meetings_by_default(client: AsyncClient, demo: None) -> None:
    page = await listed(client)
    assert titles(page) == planned()[:5]
    assert '<html lang="fr">' in page
    assert "<title>Prochaines réunions — Conseils citoyens</title>" in page
    # Every link is absolute, to our site, and opens in the whole window.
    links = re.findall(r'<a href="([^"]+)"([^>]*)>', page)
    assert len(links) == 6  # five meetings and "Toutes les réunions"
    for href, rest in links:
        assert href.startswith(f"{BASE}/"), href
        assert rest == ' target="_top"'
    ids = re.findall(rf'href="{BASE}/reunions/(\d+)"', page)
    rows = await Meeting.select(Meeting.id, Meeting.title).where(
        Meeting.id.is_in([int(i) for i in ids])
    )
    by_id = {str(r["id"]): r["title"] for r in rows}
    assert [by_id[i] for i in ids] == planned()[:5]
    # Its own stylesheet and the accent colour; nothing of the site's frame, no script.
    assert '<link rel="stylesheet" href="/static/embed.css">' in page
    assert '<link rel="stylesheet" href="/theme.css?00558c">' in page
    assert "site.css" not in page
    for absent in ("<script", "<header", "<footer", "<form", "<nav"):
        assert absent not in page
    stylesheet = await client.get("/static/embed.css")
    assert stylesheet.status_code == 200 and "var(--accent)" in stylesheet.text


async def test_dates_places_and_seats_in_french(client: AsyncClient, demo: None) -> None:
    page = await listed(client, "conseil=ales-tamaris&type=cafe")
    cafe = "Café citoyen : les jeux pour enfants"
    assert titles(page) == [cafe]
    item = item_for(page, cafe)
    row = await Meeting.select().where(Meeting.title == cafe).first()
    start = row["starts_at"].astimezone(PARIS)
    assert f'<time datetime="{row["starts_at"].isoformat()}">' in item
    assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d", item)
    assert f"de {start.hour} h" in item  # Paris time, French style
    assert "Maison de quartier de Tamaris, Rue de la Lozère, 30100 Alès" in item
    assert '<p class="seats">20 places libres</p>' in item
    assert "Café citoyen · Conseil citoyen Alès Tamaris" in item


@pytest.mark.parametrize(
    ("query", "councils", "kind", "count"),
    [
        ("conseil=ales-tamaris", {"ales-tamaris"}, None, 5),
        ("type=cafe&nombre=50", None, "cafe", 50),
        ("type=council&nombre=2", None, "council", 2),
        ("quartier=ales-moulinet&nombre=50", MOULINET_COUNCILS, None, 50),
        ("quartier=ales-moulinet&type=council", MOULINET_COUNCILS, "council", 5),
        ("conseil=ales-couronne-nord&quartier=ales-cevennes", {"ales-couronne-nord"}, None, 5),
        ("nombre=1", None, None, 1),
        ("nombre=50", None, None, 50),
        ("conseil=&type=&quartier=", None, None, 5),  # empty: no filter, as in the feeds
    ],
)
async def test_filters(
    client: AsyncClient,
    demo: None,
    query: str,
    councils: set[str] | None,
    kind: str | None,
    count: int,
) -> None:
    expected = planned(councils, kind)[:count]
    assert expected
    assert titles(await listed(client, query)) == expected
    # The same filters give the same list in every form.
    feed = ET.fromstring((await client.get(f"{RSS}?{query}")).content)
    assert [t.text for t in feed.iterfind("channel/item/title")] == [
        f"Annulé — {t}" if t in CANCELLED else t for t in expected
    ]
    document = (await client.get(f"{JSON}?{query}")).json()
    assert [m["title"] for m in document["meetings"]] == expected


async def test_a_quartier_served_by_another_council_lists_nothing_of_it(
    client: AsyncClient, demo: None
) -> None:
    page = await listed(client, "conseil=ales-tamaris&quartier=ales-moulinet")
    assert titles(page) == []
    assert "Aucune réunion à venir pour le moment." in page
    assert (await client.get(f"{JSON}?conseil=ales-tamaris&quartier=ales-moulinet")).json()[
        "meetings"
    ] == []


async def test_cancelled_meetings_are_marked(client: AsyncClient, demo: None) -> None:
    (cancelled,) = CANCELLED
    page = await listed(client, "nombre=50")
    item = item_for(page, cancelled)
    assert item.startswith('<li class="meeting cancelled">')
    assert '<span class="badge">Annulée :</span>' in item
    assert 'class="seats"' not in item  # no seats to offer
    assert page.count("Annulée") == 1


async def test_seats_follow_sign_ups_at_once(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, capacity=2)
    query = "conseil=ales-tamaris&nombre=50"
    assert '<p class="seats">2 places libres</p>' in item_for(
        await listed(client, query), meeting["title"]
    )
    await sign_up(client, meeting["id"], person(1))
    assert '<p class="seats">1 place libre</p>' in item_for(
        await listed(client, query), meeting["title"]
    )
    await sign_up(client, meeting["id"], person(2))
    assert '<p class="seats">Complet</p>' in item_for(await listed(client, query), meeting["title"])
    document = (await client.get(f"{JSON}?{query}")).json()
    assert next(m for m in document["meetings"] if m["id"] == meeting["id"])["seats_left"] == 0
    free = await published_meeting(
        client, tamaris_auth, title="Café citoyen : entrée libre", capacity=None
    )
    assert '<p class="seats">Entrée libre</p>' in item_for(
        await listed(client, query), free["title"]
    )


async def test_a_change_shows_at_once_despite_the_cache(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    first = planned({"ales-tamaris"})[0]
    before = await listed(client, "conseil=ales-tamaris")
    assert (await client.get(f"{PAGE}?conseil=ales-tamaris")).text == before  # from the cache
    meeting_id = await Meeting.select(Meeting.id).where(Meeting.title == first).first()
    changed = await client.patch(
        f"/api/v1/meetings/{meeting_id['id']}",
        json={"title": "Nouveau titre"},
        headers=tamaris_auth,
    )
    assert changed.status_code == 200, changed.text
    assert titles(await listed(client, "conseil=ales-tamaris"))[0] == "Nouveau titre"
    cancelled = await client.post(
        f"/api/v1/meetings/{meeting_id['id']}/cancel",
        json={"reason": "Salle indisponible"},
        headers=tamaris_auth,
    )
    assert cancelled.status_code == 200, cancelled.text
    item = item_for(await listed(client, "conseil=ales-tamaris"), "Nouveau titre")
    assert "Annulée" in item


async def test_a_meeting_leaves_the_list_when_it_ends(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    """No change notice when a meeting ends: the cached list expires by itself then."""
    ends = now_utc() + timedelta(seconds=2)
    council = await Council.select(Council.id).where(Council.slug == "ales-tamaris").first()
    await Meeting.insert(
        Meeting(
            council=council["id"],
            kind="cafe",
            title="Café citoyen : bientôt fini",
            starts_at=ends - timedelta(hours=1),
            ends_at=ends,
            venue="Salle",
            status="published",
        )
    )
    assert titles(await listed(client, "conseil=ales-tamaris"))[0] == "Café citoyen : bientôt fini"
    await asyncio.sleep(max((ends - now_utc()).total_seconds(), 0) + 0.1)
    assert "Café citoyen : bientôt fini" not in titles(await listed(client, "conseil=ales-tamaris"))


# ---------------------------------------------------------------- bad input


BAD = [
    ("foo=1", "foo"),
    ("Conseil=ales-tamaris", "Conseil"),
    ("conseil=ales-tamaris&utm_source=x", "utm_source"),
    ("conseil=inconnu", "conseil"),
    ("quartier=inconnu", "quartier"),
    ("conseil=a%00b", "conseil"),
    ("conseil=" + "a" * 81, "conseil"),
    ("type=atelier", "type"),
    ("nombre=0", "nombre"),
    ("nombre=51", "nombre"),
    ("nombre=-1", "nombre"),
    ("nombre=1.5", "nombre"),
    ("nombre=dix", "nombre"),
    ("nombre=%D9%A3", "nombre"),  # an Arabic-Indic three: a digit to Python, not to us
    ("nombre=99999999999999999999999", "nombre"),
    ("nombre=5&nombre=6", "nombre"),
]


@pytest.mark.parametrize(("query", "named"), BAD)
async def test_bad_input_is_400_naming_the_parameter(
    client: AsyncClient, demo: None, query: str, named: str
) -> None:
    page = await client.get(f"{PAGE}?{query}")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Requête invalide</h1>" in page.text
    assert f"<strong>{html.escape(named)}</strong>" in page.text
    feed = await client.get(f"{RSS}?{query}")
    assert feed.status_code == 400
    assert f"<strong>{html.escape(named)}</strong>" in feed.text
    document = await client.get(f"{JSON}?{query}")
    assert document.status_code == 400
    assert document.headers["content-type"] == "application/json"
    body = document.json()
    assert body["code"] == "invalid"
    assert [e["key"] for e in body["extra"]] == [named]


async def test_every_mistake_is_named_at_once(client: AsyncClient, demo: None) -> None:
    body = (await client.get(f"{JSON}?x=1&type=y&nombre=0")).json()
    assert sorted(e["key"] for e in body["extra"]) == ["nombre", "type", "x"]
    messages = {e["key"]: e["message"] for e in body["extra"]}
    assert messages["nombre"] == "doit être un nombre entier de 1 à 50"
    assert messages["x"].startswith("paramètre inconnu")


# ---------------------------------------------------------------- headers


async def test_headers_by_default_nobody_may_frame_it(client: AsyncClient, demo: None) -> None:
    response = await client.get(PAGE)
    csp = response.headers["content-security-policy"]
    assert csp.endswith("frame-ancestors 'none'")
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    # The rest of the site keeps its own.
    home = await client.get("/")
    assert home.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]


@pytest.fixture
def allowed_origins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EMBED_ALLOWED_ORIGINS", "https://www.ales.fr, HTTP://LOCALHOST:8080/")
    get_settings.cache_clear()
    embed_headers.cache_clear()
    yield
    monkeypatch.delenv("EMBED_ALLOWED_ORIGINS")
    get_settings.cache_clear()
    embed_headers.cache_clear()


async def test_headers_name_the_allowed_origins(allowed_origins: None, demo: None) -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        for query in ("", "?nombre=0", "?conseil=inconnu"):  # its error pages too
            response = await client.get(f"{PAGE}{query}")
            assert response.headers["content-security-policy"].endswith(
                "frame-ancestors https://www.ales.fr http://localhost:8080"
            ), query
            assert "x-frame-options" not in response.headers
        # Only the page is for frames: the documents and the site are not.
        for path in (RSS, JSON, "/", "/reunions/1"):
            response = await client.get(path)
            assert response.headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_documents_are_public_data(client: AsyncClient, demo: None) -> None:
    for path in (RSS, JSON):
        response = await client.get(path)
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "public, max-age=300"


# ---------------------------------------------------------------- RSS


async def test_rss_is_valid_rss_2(client: AsyncClient, demo: None) -> None:
    response = await client.get(f"{RSS}?quartier=ales-moulinet&nombre=50")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    assert channel.findtext("title") == "Prochaines réunions — Conseils citoyens — Moulinet (Alès)"
    assert channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("description")
    assert channel.findtext("language") == "fr"
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert self_link is not None and self_link.get("rel") == "self"
    assert self_link.get("href") == f"{BASE}{RSS}?quartier=ales-moulinet&nombre=50"
    items = channel.findall("item")
    expected = planned(MOULINET_COUNCILS)
    assert len(items) == len(expected)
    for item, title in zip(items, expected, strict=True):
        (cancelled,) = CANCELLED
        assert item.findtext("title") == (f"Annulé — {title}" if title == cancelled else title)
        link = item.findtext("link")
        assert re.fullmatch(rf"{BASE}/reunions/\d+", link)
        guid = item.find("guid")
        assert guid is not None and guid.text == link and guid.get("isPermaLink") == "true"
        published = parsedate_to_datetime(item.findtext("pubDate"))  # RFC 822
        assert published.tzinfo is not None and published <= now_utc()
        assert item.findtext("category") in {"Café citoyen", "Réunion du conseil"}
        description = item.findtext("description")
        assert "(heure de Paris)" in description and "Lieu : " in description
        if title == cancelled:
            assert description.startswith("Cette réunion est annulée.")


async def test_rss_escapes_what_facilitators_type(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    hostile = 'Café <b>&amp;</b> "marché" ]]> </title><item>'
    await published_meeting(
        client, tamaris_auth, title=hostile, venue="Salle <A & B>", address="1 rue <x>"
    )
    content = (await client.get(f"{RSS}?conseil=ales-tamaris&nombre=50")).content
    assert b"<b>" not in content and b"</title><item>" not in content
    items = ET.fromstring(content).findall("channel/item")
    (mine,) = [i for i in items if i.findtext("title") == hostile]
    assert "Lieu : Salle <A & B>, 1 rue <x>." in mine.findtext("description")


# ---------------------------------------------------------------- JSON


async def test_json_shape_version_1(client: AsyncClient, demo: None) -> None:
    response = await client.get(f"{JSON}?quartier=ales-moulinet&nombre=50")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = json.loads(response.content)
    assert document["version"] == 1
    assert document["title"] == "Conseils citoyens — Moulinet (Alès)"
    assert document["url"] == f"{BASE}/"
    assert document["filters"] == {
        "conseil": None,
        "quartier": "ales-moulinet",
        "type": None,
        "nombre": 50,
    }
    meetings = document["meetings"]
    assert [m["title"] for m in meetings] == planned(MOULINET_COUNCILS)
    rows = {r["id"]: r for r in await Meeting.select()}
    for m in meetings:
        assert set(m) == {
            "id", "title", "kind", "kind_label", "status", "starts_at", "ends_at", "place",
            "council", "url", "capacity", "seats_left", "updated_at",
        }  # fmt: skip
        row = rows[m["id"]]
        starts, ends = datetime.fromisoformat(m["starts_at"]), datetime.fromisoformat(m["ends_at"])
        assert starts == row["starts_at"] and ends == row["ends_at"]
        assert starts.utcoffset() == row["starts_at"].astimezone(PARIS).utcoffset()  # Paris
        assert m["url"] == f"{BASE}/reunions/{m['id']}"
        assert m["council"]["slug"] in MOULINET_COUNCILS
        assert m["council"]["url"] == f"{BASE}/conseils/{m['council']['slug']}"
        assert m["place"] == {
            "venue": row["venue"],
            "address": row["address"],
            "online_url": None,
        }
        assert m["kind"] == row["kind"] and m["status"] == row["status"]
        if m["status"] == "cancelled":
            assert m["seats_left"] is None
        else:
            assert m["seats_left"] == row["capacity"] - row["seats_taken"]
    assert {m["status"] for m in meetings} == {"published", "cancelled"}


async def test_the_readme_shows_the_json_shape(client: AsyncClient, demo: None) -> None:
    readme = README
    section = readme.split("**JSON, version 1.**", 1)[1]
    sample = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    real = (await client.get(f"{JSON}?quartier=ales-moulinet")).json()
    assert set(sample) == set(real)
    assert set(sample["filters"]) == set(real["filters"])
    (documented,) = sample["meetings"]
    shown = real["meetings"][0]
    assert set(documented) == set(shown)
    for part in ("place", "council"):
        assert set(documented[part]) == set(shown[part])
    assert 'title="' in readme.split("## Embeddable agenda", 1)[1].split("```html", 1)[1]


async def test_head_answers_the_headers_of_get(client: AsyncClient, demo: None) -> None:
    for path in (PAGE, RSS, JSON):
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == 200 and head.content == b""
        for name in ("content-type", "content-security-policy", "cache-control"):
            assert head.headers[name] == got.headers[name], (path, name)
    assert (await client.head(f"{PAGE}?nombre=0")).status_code == 400
