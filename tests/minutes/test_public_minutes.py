"""What residents see of the minutes: published ones only (a draft is nowhere), on the
meeting's page, in the lists by year and month with format and size, in the search with the
matching passage highlighted, in the calendar events, the Atom feeds (read by feedparser)
and the API; hostile input answered 200 or a French 400, never 500."""

from __future__ import annotations

from datetime import date

import feedparser
import icalendar
import pytest
from httpx import AsyncClient

from minutes import files, public
from minutes.tables import StoredFile
from tests.minutes.minutes_support import insert_minutes, past_meeting, set_status
from tests.support.proposal_support import published

pytestmark = pytest.mark.usefixtures("demo")


def _uid_event(body: bytes, meeting_id: int) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(body)
    found = [
        e for e in calendar.walk("VEVENT") if str(e["URL"]).endswith(f"/reunions/{meeting_id}")
    ]
    assert len(found) == 1
    return found[0]


async def test_drafts_are_nowhere(client: AsyncClient) -> None:
    meeting = await past_meeting()
    draft = await insert_minutes(
        meeting_id=meeting,
        status="draft",
        title="Brouillon clandestin",
        summary="Zythum secret du brouillon",
        pdf_text="Zythum dans le PDF",
    )
    bundle = await insert_minutes(
        month=date(2026, 1, 1), status="draft", title="Brouillon du mois", summary="zythum"
    )
    for path in (
        "/comptes-rendus",
        "/conseils/ales-tamaris/comptes-rendus",
        "/conseils/ales-tamaris",
        f"/reunions/{meeting}",
        "/comptes-rendus.atom",
        "/conseils/ales-tamaris/comptes-rendus.atom",
        "/api/v1/minutes",
        "/comptes-rendus/recherche?q=zythum",
        "/conseils/ales-tamaris/calendrier.ics",
    ):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        shown = answer.text.replace('value="zythum"', "")  # the search form says the query
        assert "rouillon" not in shown and "ythum" not in shown
    for minutes_id in (draft, bundle):
        assert (await client.get(f"/comptes-rendus/{minutes_id}")).status_code == 404
        assert (
            await client.get(f"/comptes-rendus/{minutes_id}/compte-rendu.pdf")
        ).status_code == 404
        answer = await client.get(f"/api/v1/minutes/{minutes_id}")
        assert answer.status_code == 404 and answer.json()["code"] == "minutes_not_found"
    assert (await public.search_minutes("zythum"))[0] == []
    # Published afterwards: everywhere at once (the cached lists and feeds are dropped).
    await set_status(draft, "published")
    assert "Brouillon clandestin" in (await client.get("/comptes-rendus")).text
    assert "Brouillon clandestin" in (await client.get("/comptes-rendus.atom")).text
    assert "Zythum secret" in (await client.get(f"/reunions/{meeting}")).text
    assert [r.minutes.id for r in (await public.search_minutes("zythum"))[0]] == [draft]
    # And a draft again (unpublished): gone again.
    await set_status(draft, "draft")
    assert "Brouillon clandestin" not in (await client.get("/comptes-rendus")).text
    assert "Zythum" not in (await client.get(f"/reunions/{meeting}")).text


async def test_a_meetings_minutes_on_its_page(client: AsyncClient) -> None:
    meeting = await past_meeting()
    proposal = await published(title="Un composteur collectif")
    minutes_id = await insert_minutes(
        meeting_id=meeting,
        title="Compte rendu du conseil de mars",
        summary="Le conseil a parlé du jardin.",
        body="Le **jardin partagé** ouvrira en avril.\n\n<script>alert(1)</script>",
        decisions="Ouvrir le jardin\nAcheter des bancs <b>verts</b>",
        pdf_text="Texte du PDF",
        proposals=((proposal, "accepted"),),
        attendance=23,
    )
    page = (await client.get(f"/reunions/{meeting}")).text
    assert 'id="compte-rendu"' in page and "Le conseil a parlé du jardin." in page
    assert "<strong>jardin partagé</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "<li>Acheter des bancs &lt;b&gt;verts&lt;/b&gt;</li>" in page
    assert f'<a href="/propositions/{proposal}">Un composteur collectif</a>' in page
    assert "<strong>Retenue</strong>" in page and "Personnes présentes : 23" in page
    row = await StoredFile.select().first()
    label = f"PDF – {files.size_label(row['size'])}"
    assert label in page and f'href="/comptes-rendus/{minutes_id}/compte-rendu.pdf"' in page
    # Its own address leads to the meeting's page; its PDF is served.
    moved = await client.get(f"/comptes-rendus/{minutes_id}")
    assert moved.status_code == 302
    assert moved.headers["location"] == f"/reunions/{meeting}#compte-rendu"
    pdf = await client.get(f"/comptes-rendus/{minutes_id}/compte-rendu.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(pdf.content) == row["size"]
    # The API says the same.
    api = (await client.get(f"/api/v1/minutes/{minutes_id}")).json()
    assert api["decisions"] == ["Ouvrir le jardin", "Acheter des bancs <b>verts</b>"]
    assert api["proposals"][0]["status_label"] == "Retenue" and api["format"] == label
    council = (await client.get("/conseils/ales-tamaris")).text
    assert 'id="comptes-rendus"' in council and "Compte rendu du conseil de mars" in council


async def test_lists_by_year_and_month_per_council_and_for_all(client: AsyncClient) -> None:
    tamaris = await past_meeting("ales-tamaris")
    await insert_minutes(meeting_id=tamaris, title="CR Tamaris", pdf_text="a")
    jan = await insert_minutes(
        month=date(2020, 1, 1),
        title="Comptes-rendus de réunion des Conseils Citoyens – Janvier 2020",
        pdf_text="bundle",
    )
    await insert_minutes(month=date(2019, 12, 1), council_slug="ales-rive-droite", title="CR RD")
    every = (await client.get("/comptes-rendus")).text
    assert '<link rel="alternate" type="application/atom+xml"' in every
    assert every.index('id="annee-2020"') < every.index('id="annee-2019"')
    assert "<h3>Janvier 2020</h3>" in every and "<h3>Décembre 2019</h3>" in every
    assert "CR Tamaris" in every and "CR RD" in every
    size = files.size_label(
        (await StoredFile.select().order_by(StoredFile.id, ascending=False).first())["size"]
    )
    assert f"PDF – {size}</a>" in every
    tamaris_page = (await client.get("/conseils/ales-tamaris/comptes-rendus")).text
    assert "CR Tamaris" in tamaris_page and "Janvier 2020" in tamaris_page
    assert "CR RD" not in tamaris_page  # another council's own minutes stay on its list
    assert 'href="/conseils/ales-tamaris/comptes-rendus.atom"' in tamaris_page
    bundle = await client.get(f"/comptes-rendus/{jan}")
    assert bundle.status_code == 200 and "Tous les conseils citoyens · janvier 2020" in bundle.text
    years = (await client.get("/api/v1/minutes", params={"year": 2020})).json()
    assert [m["id"] for m in years] == [jan]
    assert (await client.get("/conseils/nulle-part/comptes-rendus")).status_code == 404


async def test_search_highlights_the_passage_and_survives_hostile_queries(
    client: AsyncClient,
) -> None:
    meeting = await past_meeting()
    minutes_id = await insert_minutes(
        meeting_id=meeting,
        title="Réunion <i>de</i> printemps",
        body="Nous avons discuté des jardins partagés du quartier.",
        pdf_text="Le budget des fêtes de quartier est voté",
    )
    found = await client.get("/comptes-rendus/recherche", params={"q": "jardin partagé"})
    assert found.status_code == 200
    assert "<mark>jardins</mark> <mark>partagés</mark>" in found.text
    assert "Réunion &lt;i&gt;de&lt;/i&gt; printemps" in found.text
    pdf = await client.get(
        "/comptes-rendus/recherche", params={"q": "fête", "conseil": "ales-tamaris"}
    )
    assert "<mark>fêtes</mark>" in pdf.text and f"/reunions/{meeting}#compte-rendu" in pdf.text
    other = await client.get(
        "/comptes-rendus/recherche", params={"q": "jardins", "conseil": "ales-rive-droite"}
    )
    assert other.status_code == 200 and "Aucun compte rendu" in other.text
    for hostile in (
        '<script>alert("x")</script>',
        "\"jardin' OR 1=1 --",
        "jardin*",
        "NEAR(a b)",
        "\x00",
    ):
        answer = await client.get("/comptes-rendus/recherche", params={"q": hostile})
        assert answer.status_code == 200, hostile
        assert "<script>alert" not in answer.text
    too_long = await client.get("/comptes-rendus/recherche", params={"q": "jardin " * 80})
    assert too_long.status_code == 400 and "500 caractères au plus" in too_long.text
    huge = await client.get("/comptes-rendus/recherche", params={"q": "x" * 10_000})
    assert huge.status_code == 400 and "trop longue" in huge.text
    unknown = await client.get("/comptes-rendus/recherche", params={"q": "a", "conseil": "<b>"})
    assert unknown.status_code == 400 and "conseil citoyen inconnu" in unknown.text
    for page in ("abc", "0", "999999"):
        answer = await client.get("/comptes-rendus/recherche", params={"q": "jardin", "page": page})
        assert answer.status_code == 400, page
    assert minutes_id


async def test_search_pages(client: AsyncClient) -> None:
    for n in range(public.PER_PAGE + 2):
        await insert_minutes(month=date(2021, 1 + n % 12, 1), title=f"Mois {n}", body="Lavoir")
    first = await client.get("/comptes-rendus/recherche", params={"q": "lavoirs"})
    assert first.text.count('<p class="passage">') == public.PER_PAGE
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = await client.get("/comptes-rendus/recherche", params={"q": "lavoirs", "page": 2})
    assert second.text.count('<p class="passage">') == 2 and 'rel="next"' not in second.text


async def test_the_calendar_event_gets_the_minutes_link(client: AsyncClient) -> None:
    meeting = await past_meeting()
    feed = "/conseils/ales-tamaris/calendrier.ics"
    before = await client.get(feed)
    event = _uid_event(before.content, meeting)
    assert "Compte rendu" not in str(event.get("DESCRIPTION", ""))
    minutes_id = await insert_minutes(
        meeting_id=meeting, title="CR de la réunion", summary="s", pdf_text="p"
    )
    after = await client.get(feed)
    moved = _uid_event(after.content, meeting)
    description = str(moved["DESCRIPTION"])
    assert f"/reunions/{meeting}#compte-rendu" in description
    assert f"/comptes-rendus/{minutes_id}/compte-rendu.pdf" in description
    assert "PDF – " in description
    assert int(moved["SEQUENCE"]) == int(event["SEQUENCE"])
    assert moved.decoded("LAST-MODIFIED") > event.decoded("LAST-MODIFIED")
    assert str(moved["URL"]) == str(event["URL"]) and str(moved["URL"]).endswith(
        f"/reunions/{meeting}"
    )
    assert after.headers["etag"] != before.headers["etag"]


async def test_calendar_notes_take_a_feeds_worth_of_meetings() -> None:
    """A feed of 100,000 meetings asks for all their notes at once: more ids than an IN list
    takes on PostgreSQL (32,767 parameters). A meeting's own minutes and a bundle covering
    another are found among them."""
    meeting = await past_meeting()
    other = await past_meeting("ales-pres-saint-jean")
    own = await insert_minutes(meeting_id=meeting, title="CR propre", summary="s")
    await insert_minutes(council_slug="ales-agglo", title="CR groupé", covers=(other,))
    wanted = [*range(10_000_000, 10_040_000), meeting, other]
    notes = await public.calendar_notes(wanted)
    assert sorted(notes) == sorted([meeting, other])
    assert notes[meeting].lines[0].startswith("CR propre : ")
    assert notes[other].lines[0].startswith("CR groupé : ")
    assert (await public.of_meetings(wanted))[meeting].id == own


async def test_atom_feeds_are_valid(client: AsyncClient) -> None:
    meeting = await past_meeting()
    await insert_minutes(
        meeting_id=meeting, title="CR <script>x</script>", summary="Résumé & suite"
    )
    await insert_minutes(month=date(2026, 2, 1), title="Bundle de février", pdf_text="f")
    for path, count in (
        ("/comptes-rendus.atom", 2),
        ("/conseils/ales-tamaris/comptes-rendus.atom", 2),
        ("/conseils/ales-rive-droite/comptes-rendus.atom", 1),
    ):
        answer = await client.get(path)
        assert answer.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(answer.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "atom10" and len(parsed.entries) == count
        assert parsed.feed.links[1].href.endswith(path)
        for entry in parsed.entries:
            assert entry.id.startswith("tag:") and entry.link.startswith("http")
    parsed = feedparser.parse((await client.get("/comptes-rendus.atom")).content)
    titles = {e.title for e in parsed.entries}
    assert "CR <script>x</script>" in titles  # as text: escaped in the XML
    assert b"<script>x" not in (await client.get("/comptes-rendus.atom")).content
