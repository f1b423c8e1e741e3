"""The public HTML pages (French), served in-process on the demo data."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from httpx import AsyncClient, Response

from conseils.timefmt import PARIS, french_range, now_utc
from conseils.urls import map_url
from conseils.web import page_cache
from meetings.controllers import pages
from meetings.demo import CANCELLED, COUNCILS, upcoming
from meetings.services import meetings as meeting_services
from meetings.tables import Council, Meeting

CARD = re.compile(r'<article class="meeting[^"]*".*?</article>', re.S)
CARD_TITLE = re.compile(r'<h3 id="m(\d+)"><a href="/reunions/(\d+)">(.*?)</a></h3>', re.S)
CARD_TIME = re.compile(r'<time datetime="([^"]+)">')


def cards(page: str) -> list[str]:
    return CARD.findall(page)


def titles(page: str) -> list[str]:
    """Titles of the meeting cards on a page, in order, unescaped."""
    return [html.unescape(m.group(3)) for m in CARD_TITLE.finditer(page)]


def card_for(page: str, title: str) -> str:
    found = [c for c in cards(page) if html.escape(title) in c]
    assert len(found) == 1, f"{title!r} should be on the page exactly once"
    return found[0]


def upcoming_titles(council: str | None = None, kind: str | None = None) -> list[str]:
    return [
        planned.title
        for planned in upcoming(now_utc().astimezone(PARIS).date())
        if (council is None or planned.slug == council) and (kind is None or planned.kind == kind)
    ]


def past_title(slug: str) -> str:
    council = next(c for c in COUNCILS if c.slug == slug)
    return f"Réunion du conseil — {council.name}"


def assert_html(response: Response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    return response.text


async def council_id(slug: str) -> int:
    row = await Council.select(Council.id).where(Council.slug == slug).first()
    assert row is not None
    return row["id"]


async def meeting_id(title: str) -> int:
    row = await Meeting.select(Meeting.id).where(Meeting.title == title).first()
    assert row is not None
    return row["id"]


async def insert_meeting(
    slug: str,
    title: str,
    *,
    status: str = "published",
    starts_in: timedelta = timedelta(days=3),
    minutes: int = 90,
    kind: str = "cafe",
    venue: str = "Salle des fêtes",
    address: str = "1 place de la Mairie, 30100 Alès",
    description: str = "",
    capacity: int | None = 30,
) -> int:
    starts = now_utc() + starts_in
    now = now_utc()
    row = await Meeting.insert(
        Meeting(
            council=await council_id(slug),
            kind=kind,
            title=title,
            description=description,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            venue=venue,
            address=address,
            capacity=capacity,
            status=status,
            created_at=now,
            updated_at=now,
        )
    ).returning(Meeting.id)
    return row[0]["id"]


# ---------------------------------------------------------------- home page


async def test_home_lists_upcoming_published_meetings_soonest_first(
    client: AsyncClient, demo: None
) -> None:
    page = assert_html(await client.get("/"))
    assert "Prochaines réunions des conseils citoyens" in page
    assert titles(page) == upcoming_titles()
    moments = [datetime.fromisoformat(t) for t in CARD_TIME.findall(page)]
    assert moments == sorted(moments)
    assert all(moment > now_utc() - timedelta(hours=3) for moment in moments)
    # Past meetings are not "upcoming".
    for council in COUNCILS:
        assert html.escape(past_title(council.slug)) not in page


async def test_home_lists_every_council_with_its_quartiers(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/"))
    for council in COUNCILS:
        assert f'href="/conseils/{council.slug}"' in page
        assert f'<option value="{council.slug}">' in page
    assert "toute l'agglomération" in page
    assert "Cévennes, Moulinet, Pierre-Curie" in page


async def test_home_without_meetings_says_so(client: AsyncClient) -> None:
    page = assert_html(await client.get("/"))
    assert "Aucune réunion à venir pour ces critères." in page
    assert cards(page) == []


async def test_home_meeting_card_shows_kind_council_date_and_place(
    client: AsyncClient, demo: None
) -> None:
    page = assert_html(await client.get("/"))
    title = "Café citoyen : les jeux pour enfants"
    card = card_for(page, title)
    row = await Meeting.select().where(Meeting.title == title).first()
    assert "Café citoyen · Conseil citoyen Alès Tamaris" in card
    assert french_range(row["starts_at"], row["ends_at"]) in card
    assert "Maison de quartier de Tamaris, Rue de la Lozère, 30100 Alès" in card
    assert f'href="/reunions/{row["id"]}"' in card


async def test_filter_by_council(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/", params={"conseil": "ales-tamaris"}))
    assert titles(page) == upcoming_titles(council="ales-tamaris")
    assert len(titles(page)) == 2
    assert '<option value="ales-tamaris" selected>' in page
    for card in cards(page):
        assert "Conseil citoyen Alès Tamaris" in card


@pytest.mark.parametrize("kind", ["cafe", "council"])
async def test_filter_by_type(client: AsyncClient, demo: None, kind: str) -> None:
    page = assert_html(await client.get("/", params={"type": kind}))
    expected = upcoming_titles(kind=kind)
    assert expected
    assert titles(page) == expected
    assert f'<option value="{kind}" selected>' in page
    for card in cards(page):
        assert f'class="kind kind-{kind}"' in card


async def test_filter_by_council_and_type(client: AsyncClient, demo: None) -> None:
    page = assert_html(
        await client.get("/", params={"conseil": "anduze-centre-ville", "type": "council"})
    )
    assert titles(page) == ["Réunion du conseil d'Anduze"]


async def test_empty_filters_mean_everything(client: AsyncClient, demo: None) -> None:
    # What the form sends when "Tous les conseils" and "Tous les types" are chosen.
    page = assert_html(await client.get("/?conseil=&type="))
    assert titles(page) == upcoming_titles()


async def test_filter_with_no_match_says_so(client: AsyncClient, demo: None) -> None:
    await Meeting.delete().where(Meeting.kind == "cafe")
    page = assert_html(await client.get("/", params={"type": "cafe"}))
    assert titles(page) == []
    assert "Aucune réunion à venir pour ces critères." in page


async def test_unknown_council_is_a_french_400_naming_the_field(
    client: AsyncClient, demo: None
) -> None:
    page = assert_html(await client.get("/", params={"conseil": "nulle-part"}), 400)
    assert "Requête invalide" in page
    assert "Certaines informations sont invalides." in page
    errors = re.search(r'<ul class="errors">(.*?)</ul>', page, re.S)
    assert errors is not None
    assert "<strong>conseil</strong> : conseil inconnu" in errors.group(1)


async def test_unknown_type_is_a_french_400_naming_the_field(
    client: AsyncClient, demo: None
) -> None:
    page = assert_html(await client.get("/", params={"type": "apero"}), 400)
    assert "Requête invalide" in page
    assert "<strong>type</strong> : type de réunion inconnu" in page


async def test_overlong_council_filter_is_a_400_not_a_500(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/", params={"conseil": "x" * 200}), 400)
    assert "Requête invalide" in page
    assert "conseil" in page.split('<ul class="errors">', 1)[1]


async def test_hostile_filter_value_is_escaped(client: AsyncClient, demo: None) -> None:
    response = await client.get("/", params={"conseil": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert "<script>" not in response.text


# ---------------------------------------------------------------- drafts and cancellations


async def test_drafts_never_appear(client: AsyncClient, demo: None) -> None:
    upcoming_draft = await insert_meeting(
        "ales-tamaris", "Brouillon à venir", status="draft", starts_in=timedelta(days=1)
    )
    past_draft = await insert_meeting(
        "ales-tamaris", "Brouillon passé", status="draft", starts_in=-timedelta(days=5)
    )
    pages = [
        await client.get("/"),
        await client.get("/", params={"conseil": "ales-tamaris"}),
        await client.get("/", params={"type": "cafe"}),
        await client.get("/conseils/ales-tamaris"),
    ]
    for response in pages:
        page = assert_html(response)
        assert "Brouillon" not in page
        assert f"/reunions/{upcoming_draft}" not in page
        assert f"/reunions/{past_draft}" not in page
    for draft in (upcoming_draft, past_draft):
        page = assert_html(await client.get(f"/reunions/{draft}"), 404)
        assert "Page introuvable" in page
        assert "Brouillon" not in page


async def test_published_meeting_inserted_after_the_demo_appears_in_order(
    client: AsyncClient, demo: None
) -> None:
    await insert_meeting("ales-tamaris", "Café du lendemain", starts_in=timedelta(days=1))
    page = assert_html(await client.get("/"))
    assert titles(page)[0] == "Café du lendemain"


async def test_meeting_under_way_is_still_upcoming(client: AsyncClient, demo: None) -> None:
    await insert_meeting(
        "ales-tamaris", "Café déjà commencé", starts_in=-timedelta(minutes=30), minutes=120
    )
    page = assert_html(await client.get("/"))
    assert titles(page)[0] == "Café déjà commencé"


async def test_cancelled_meetings_appear_marked_annulee(client: AsyncClient, demo: None) -> None:
    (title,) = CANCELLED
    page = assert_html(await client.get("/"))
    card = card_for(page, title)
    assert "Annulée" in card
    assert 'class="meeting cancelled"' in card
    # Only the cancelled one carries the mark.
    marked = [c for c in cards(page) if "Annulée" in c]
    assert marked == [card]

    detail = assert_html(await client.get(f"/reunions/{await meeting_id(title)}"))
    assert "Cette réunion est annulée." in detail

    council = assert_html(await client.get("/conseils/ales-couronne-nord"))
    assert "Annulée" in card_for(council, title)


# ---------------------------------------------------------------- council page


async def test_council_page_shows_quartiers_upcoming_and_past(
    client: AsyncClient, demo: None
) -> None:
    page = assert_html(await client.get("/conseils/ales-couronne-nord"))
    assert "<h1>Conseil citoyen Alès « Couronne Nord »</h1>" in page
    assert "Quartiers : Cévennes (Alès), Moulinet (Alès), Pierre-Curie (Alès)." in page
    assert "conseil.ales-couronne-nord@ville-ales.fr" in page
    upcoming, past = page.split('id="passees"', 1)
    assert titles(upcoming) == upcoming_titles(council="ales-couronne-nord")
    assert titles(past) == [past_title("ales-couronne-nord")]
    assert "Cette réunion a eu lieu." not in page  # that is for the meeting page


async def test_council_page_of_a_single_quartier(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/conseils/anduze-centre-ville"))
    assert "Quartier : Centre-Ville (Anduze)." in page
    upcoming, past = page.split('id="passees"', 1)
    assert titles(upcoming) == upcoming_titles(council="anduze-centre-ville")
    assert titles(past) == [past_title("anduze-centre-ville")]


async def test_agglomeration_wide_council_page(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/conseils/ales-agglo"))
    assert "Conseil de toute l'agglomération." in page
    # The description's paragraphs are kept.
    assert page.count("<p>Le conseil citoyen de l&#39;agglomération") == 1
    assert "<p>Il porte les sujets communs" in page


async def test_council_page_without_meetings(client: AsyncClient, demo: None) -> None:
    await Meeting.delete().where(Meeting.council == await council_id("ales-tamaris"))
    page = assert_html(await client.get("/conseils/ales-tamaris"))
    assert "Aucune réunion programmée pour le moment." in page
    assert "Pas encore de réunion passée." in page


async def test_unknown_council_page_is_a_french_404(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/conseils/nulle-part"), 404)
    assert "Page introuvable" in page


# ---------------------------------------------------------------- meeting page


async def test_meeting_page_shows_date_place_map_and_capacity(
    client: AsyncClient, demo: None
) -> None:
    title = "Café citoyen : les jeux pour enfants"
    row = await Meeting.select().where(Meeting.title == title).first()
    page = assert_html(await client.get(f"/reunions/{row['id']}"))
    assert f"<h1>{html.escape(title)}</h1>" in page
    assert french_range(row["starts_at"], row["ends_at"]) in page
    assert "Maison de quartier de Tamaris" in page
    assert "Rue de la Lozère, 30100 Alès" in page
    osm = map_url("Rue de la Lozère, 30100 Alès")
    assert osm.startswith("https://www.openstreetmap.org/")
    assert f'href="{html.escape(osm)}"' in page
    assert "20 places" in page
    assert 'href="/conseils/ales-tamaris"' in page
    assert "Au programme" in page
    assert "Cette réunion a eu lieu." not in page
    assert "Cette réunion est annulée." not in page


async def test_meeting_page_french_date_matches_the_paris_time(
    client: AsyncClient, demo: None
) -> None:
    # The demo's Rive Droite council meeting starts at 18 h 30, Paris time, whatever the season.
    row = await Meeting.select().where(Meeting.title == "Réunion du conseil Rive Droite").first()
    page = assert_html(await client.get(f"/reunions/{row['id']}"))
    expected = french_range(row["starts_at"], row["ends_at"])
    assert expected.endswith(", de 18 h 30 à 20 h 30")
    assert expected in page


async def test_meeting_without_capacity_is_open_to_all(client: AsyncClient, demo: None) -> None:
    (title,) = CANCELLED  # the demo's only meeting without a capacity
    page = assert_html(await client.get(f"/reunions/{await meeting_id(title)}"))
    assert "Entrée libre, sans limite de places" in page


async def test_past_meeting_page_says_it_took_place(client: AsyncClient, demo: None) -> None:
    page = assert_html(
        await client.get(f"/reunions/{await meeting_id(past_title('ales-tamaris'))}")
    )
    assert "Cette réunion a eu lieu." in page


async def test_meeting_spanning_days_shows_both_days(client: AsyncClient, demo: None) -> None:
    mid = await insert_meeting(
        "ales-tamaris", "Week-end citoyen", starts_in=timedelta(days=10), minutes=26 * 60
    )
    row = await Meeting.select().where(Meeting.id == mid).first()
    page = assert_html(await client.get(f"/reunions/{mid}"))
    expected = french_range(row["starts_at"], row["ends_at"])
    assert expected.startswith("du ")
    assert expected in page


async def test_unknown_meeting_is_a_french_404(client: AsyncClient, demo: None) -> None:
    page = assert_html(await client.get("/reunions/424242"), 404)
    assert "Page introuvable" in page


@pytest.mark.parametrize("path", ["/reunions/99999999999999999999", "/reunions/2147483648"])
async def test_huge_meeting_id_is_404_not_500(client: AsyncClient, path: str) -> None:
    page = assert_html(await client.get(path), 404)
    assert "Page introuvable" in page


async def test_non_numeric_meeting_id_is_not_a_500(client: AsyncClient) -> None:
    response = await client.get("/reunions/abc")
    assert response.status_code in (400, 404)
    assert '<html lang="fr">' in response.text


# ---------------------------------------------------------------- errors, escaping, headers


async def test_unknown_page_is_a_french_404(client: AsyncClient) -> None:
    page = assert_html(await client.get("/nulle-part/ici"), 404)
    assert "<title>Page introuvable" in page
    assert "<h1>Page introuvable</h1>" in page
    assert "La page demandée n&#39;existe pas" in page
    assert 'href="/"' in page


async def test_html_is_escaped(client: AsyncClient, demo: None) -> None:
    hostile = "<script>alert(1)</script>"
    mid = await insert_meeting(
        "ales-tamaris",
        hostile,
        venue='<img src=x onerror="alert(2)">',
        address="<b>rue</b> & place",
        description="<iframe src=//evil></iframe>\n\n<em>deux</em>",
    )
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/", "/conseils/ales-tamaris", f"/reunions/{mid}"):
        page = assert_html(await client.get(path))
        # The one script element is the meeting page's JSON-LD data block.
        assert "<script" not in page.replace('<script type="application/ld+json">', "", 1), path
        assert escaped in page, path
    page = (await client.get(f"/reunions/{mid}")).text
    assert f"<title>{escaped} — " in page
    assert "<img" not in page
    assert "<iframe" not in page
    assert "<em>" not in page
    assert "&lt;b&gt;rue&lt;/b&gt; &amp; place" in page
    # The map link's query is URL-encoded, then HTML-escaped.
    assert "query=%3Cb%3Erue%3C%2Fb%3E+%26+place" in page


def assert_security_headers(response: Response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "Referrer-Policy" in response.headers


@pytest.mark.parametrize(
    "path", ["/", "/?conseil=ales-tamaris&type=cafe", "/conseils/ales-tamaris"]
)
async def test_security_headers(client: AsyncClient, demo: None, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/nulle-part", "/?type=x", "/reunions/424242"])
async def test_error_pages_carry_security_headers(
    client: AsyncClient, demo: None, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code in (400, 404)
    assert_security_headers(response)


async def test_meeting_page_security_headers(client: AsyncClient, demo: None) -> None:
    response = await client.get(f"/reunions/{await meeting_id(past_title('ales-agglo'))}")
    assert response.status_code == 200
    assert_security_headers(response)


async def test_stylesheet_is_served(client: AsyncClient) -> None:
    response = await client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


async def test_meeting_page_notices_when_the_meeting_is_over(
    client: AsyncClient, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page says "a eu lieu" once the meeting ends, even if it was shown (cached) before.
    The clock the page, its cache and the meeting read is moved forward, rather than waited
    for: a loaded machine takes any time between two requests."""
    mid = await insert_meeting(
        "ales-tamaris", "Café presque fini", starts_in=-timedelta(minutes=30), minutes=60
    )
    row = await Meeting.select(Meeting.ends_at).where(Meeting.id == mid).first()
    first = assert_html(await client.get(f"/reunions/{mid}"))
    assert "Cette réunion a eu lieu." not in first

    later = row["ends_at"] + timedelta(seconds=1) - now_utc()
    for module in (page_cache, pages, meeting_services):
        monkeypatch.setattr(module, "now_utc", lambda: now_utc() + later)
    second = assert_html(await client.get(f"/reunions/{mid}"))
    assert "Cette réunion a eu lieu." in second


async def test_lists_change_by_themselves_when_sign_ups_close_and_a_meeting_ends(
    client: AsyncClient, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home page and the council's page are kept until their first meeting's next
    moment: once its sign-ups close its seats are no longer offered, once it ends it leaves
    the upcoming meetings (for the council's past ones), with no change announced."""
    mid = await insert_meeting(
        "ales-tamaris", "Café bientôt", starts_in=timedelta(minutes=30), minutes=60
    )
    row = await Meeting.select(Meeting.starts_at, Meeting.ends_at).where(Meeting.id == mid).first()

    def card(text: str) -> str:
        start = text.index(f'id="m{mid}"')
        return text[start : text.index("</article>", start)]

    paths = ["/", "/?conseil=ales-tamaris", "/conseils/ales-tamaris"]
    for path in paths:
        assert "30 places restantes" in card(assert_html(await client.get(path))), path

    def clock_at(moment: datetime) -> None:
        shift = moment + timedelta(seconds=1) - now_utc()
        for module in (page_cache, pages, meeting_services):
            monkeypatch.setattr(module, "now_utc", lambda: now_utc() + shift)

    clock_at(row["starts_at"])
    for path in paths:
        assert "places restantes" not in card(assert_html(await client.get(path))), path

    clock_at(row["ends_at"])
    for path in paths[:2]:
        assert f'id="m{mid}"' not in assert_html(await client.get(path)), path
    council_page = assert_html(await client.get(paths[2]))
    assert council_page.index(f'id="m{mid}"') > council_page.index('id="passees"')
