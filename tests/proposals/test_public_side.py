"""What anyone sees: only public proposals, in the list, on their page, in the API, the
feed and the search; the list's filters, sorts and pages; the twelve-month record; the Atom
feed as a real feed reader parses it; similar proposals with and without JavaScript."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from httpx import AsyncClient

from conseils import search
from conseils.timefmt import now_utc
from meetings.services.councils import get_council
from proposals.services import common, public, submissions
from proposals.tables import Proposal
from tests.support.proposal_support import (
    ADMIN,
    proposal_fields,
    proposal_row,
    published,
    sent_and_confirmed,
)

pytestmark = pytest.mark.usefixtures("demo")
LIST = "/conseils/ales-tamaris/propositions"
ATOM_NS = "{http://www.w3.org/2005/Atom}"


async def _hidden_ones() -> dict[str, int]:
    """An unconfirmed, a pending and a rejected proposal, with words of their own."""
    await submissions.submit(
        "ales-tamaris", proposal_fields("u", title="Secret inconfirmé trampoline")
    )
    unconfirmed = (await proposal_row(email="habitantu@example.org"))["id"]
    pending = await sent_and_confirmed(n="p", title="Secret en attente trampoline")
    rejected = await sent_and_confirmed(n="r", title="Secret refusé trampoline")
    await common.set_status(ADMIN, rejected, "rejected", reason="Hors sujet")
    return {"unconfirmed": unconfirmed, "pending": pending, "rejected": rejected}


async def test_unpublished_proposals_are_never_visible(client: AsyncClient) -> None:
    hidden = await _hidden_ones()
    shown = await published(n="v", title="Un terrain de pétanque")
    listing = await client.get(LIST)
    assert "Un terrain de pétanque" in listing.text and "Secret" not in listing.text
    api = await client.get("/api/v1/councils/ales-tamaris/proposals")
    assert [item["id"] for item in api.json()["items"]] == [shown]
    feed = await client.get(LIST + ".atom")
    assert "Secret" not in feed.text and "pétanque" in feed.text
    for proposal_id in hidden.values():
        assert (await client.get(f"/propositions/{proposal_id}")).status_code == 404
        answer = await client.get(f"/api/v1/proposals/{proposal_id}")
        assert answer.status_code == 404 and answer.json()["code"] == "proposal_not_found"
    assert await search.search("trampoline secret", kinds=["proposal"], match="any") == []
    council = await get_council("ales-tamaris")
    assert await public.similar(council.id, "secret trampoline") == []
    # Published, then rejected by a change of mind: out of the search again.
    await common.set_status(ADMIN, hidden["rejected"], "published")
    assert [h.object_id for h in await search.search("trampoline", kinds=["proposal"])] == [
        hidden["rejected"]
    ]


async def test_the_api_shows_no_personal_data(client: AsyncClient) -> None:
    anonymous = await published(n=1)
    named = await published(n=2, author_name="Samia Benali", show_name=True)
    body = (await client.get("/api/v1/councils/ales-tamaris/proposals")).text
    one = (await client.get(f"/api/v1/proposals/{anonymous}")).json()
    assert "example.org" not in body and "example.org" not in str(one)
    assert one["author"] == "Une habitante ou un habitant" and "Camille" not in str(one)
    assert (await client.get(f"/api/v1/proposals/{named}")).json()["author"] == "Samia Benali"
    assert [s["status_to"] for s in one["timeline"] if s["status_to"]][-1] == "published"


async def test_the_list_filters_sorts_and_pages(client: AsyncClient) -> None:
    ids = [await published(n=n, theme="mobilite" if n % 2 else "sante") for n in range(23)]
    await Proposal.update({Proposal.supports: 50}).where(Proposal.id == ids[5])
    await common.set_status(ADMIN, ids[7], "accepted")
    council = await get_council("ales-tamaris")
    first, total = await public.list_proposals(council)
    assert total == 23 and len(first) == public.PER_PAGE and first[0].id == ids[5]
    second, _ = await public.list_proposals(council, offset=public.PER_PAGE)
    assert len(second) == 3 and not {p.id for p in first} & {p.id for p in second}
    newest, _ = await public.list_proposals(council, sort="recentes")
    assert newest[0].id == ids[-1]
    mobility, count = await public.list_proposals(council, theme="mobilite")
    assert count == 11 and {p.theme for p in mobility} == {"mobilite"}
    accepted, count = await public.list_proposals(council, status="accepted")
    assert count == 1 and accepted[0].id == ids[7]

    page = await client.get(LIST, params={"page": "2", "tri": "recentes"})
    assert page.status_code == 200 and "23 propositions" in page.text
    assert 'rel="prev"' in page.text and "Page 2 sur 2" in page.text
    assert f'href="/propositions/{ids[0]}"' in page.text
    health = await client.get(LIST, params={"theme": "sante"})
    assert "12 propositions" in health.text and 'rel="next"' not in health.text
    assert (await client.get(LIST, params={"statut": "pending"})).status_code == 400
    assert (await client.get(LIST, params={"tri": "hasard"})).status_code == 400
    api = await client.get(
        "/api/v1/councils/ales-tamaris/proposals", params={"limit": "5", "offset": "20"}
    )
    assert api.json()["total"] == 23 and len(api.json()["items"]) == 3
    bad = await client.get("/api/v1/councils/ales-tamaris/proposals", params={"status": "pending"})
    assert bad.status_code == 400


async def test_the_twelve_month_record(client: AsyncClient) -> None:
    now = now_utc()
    answered = [await published(n=n) for n in range(3)]
    for proposal_id, days, status in zip(
        answered, (10, 20, 60), ("accepted", "done", "declined"), strict=True
    ):
        await common.set_status(ADMIN, proposal_id, status)
        await Proposal.update(
            {
                Proposal.created_at: now - timedelta(days=days + 5),
                Proposal.answered_at: now - timedelta(days=5),
                Proposal.answer: "Réponse",
            }
        ).where(Proposal.id == proposal_id)
    await sent_and_confirmed(n="attente")  # received, not answered yet
    old = await published(n="ancienne")
    await Proposal.update(
        {Proposal.created_at: now - timedelta(days=400), Proposal.answered_at: now}
    ).where(Proposal.id == old)
    await submissions.submit("ales-tamaris", proposal_fields("jamais"))  # never confirmed

    council = await get_council("ales-tamaris")
    record = await public.accountability(council.id)
    assert record == public.Accountability(
        received=4, answered=3, accepted=2, done=1, median_days=20.0
    )
    page = await client.get(LIST)
    assert "<dd>4</dd>" in page.text and "20 jours" in page.text


async def test_the_atom_feed_is_valid(client: AsyncClient) -> None:
    first = await published(n=1, title="Des bancs & des <arbres>")
    second = await published(n=2, body="Voir [le plan](https://example.org/plan)")
    await common.set_status(ADMIN, first, "accepted")
    await Proposal.update(
        {Proposal.answer: "Oui, **au printemps**.", Proposal.answered_at: now_utc()}
    ).where(Proposal.id == first)
    listing = await client.get(LIST)
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Propositions — ' in listing.text
    )
    answer = await client.get(LIST + ".atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")

    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.feed.id and parsed.feed.title and parsed.feed.updated_parsed
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"].endswith("/conseils/ales-tamaris/propositions.atom")
    assert links["alternate"].endswith("/conseils/ales-tamaris/propositions")
    assert len(parsed.entries) == 3  # two publications, one answer
    for entry in parsed.entries:
        assert entry.id and entry.title and entry.updated_parsed and entry.link
        assert entry.link.startswith("http://testserver.local/propositions/")
    assert len({entry.id for entry in parsed.entries}) == 3
    titles = [entry.title for entry in parsed.entries]
    assert titles[0] == "Réponse : Des bancs & des <arbres>"
    assert f"/propositions/{second}" in {
        e.link.rsplit("testserver.local", 1)[1] for e in parsed.entries
    }
    # The Atom rules feedparser forgives: one id, title, updated and alternate link per
    # entry, and the feed's own author (entries inherit it) and updated.
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{ATOM_NS}feed"
    for name in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{ATOM_NS}{name}")) == 1, name
    for entry in root.findall(f"{ATOM_NS}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM_NS}{name}")) == 1, name
        alternates = [
            link for link in entry.findall(f"{ATOM_NS}link") if link.get("rel") == "alternate"
        ]
        assert len(alternates) == 1
    assert 'rel="nofollow ugc"' in parsed.entries[-1].content[0].value or any(
        "nofollow ugc" in e.content[0].value for e in parsed.entries
    )
    empty = feedparser.parse(
        (await client.get("/conseils/ales-rive-droite/propositions.atom")).content
    )
    assert not empty.bozo and empty.entries == []
    assert (await client.get("/conseils/inconnu/propositions.atom")).status_code == 404


async def test_similar_proposals_with_and_without_javascript(client: AsyncClient) -> None:
    benches = await published(n=1, title="Installer des bancs sur la place du marché")
    await published(n=2, title="Réparer l'éclairage de la rue des écoles")
    await sent_and_confirmed(n=3, title="Un banc devant la pharmacie")  # pending: not shown
    council = await get_council("ales-tamaris")
    found = await public.similar(council.id, "Un banc au marché")
    assert [s.id for s in found] == [benches]
    assert "<mark>" in str(found[0].snippet)

    live = await client.get(LIST + "/similaires", params={"titre": "des Bancs"})
    assert live.status_code == 200
    assert [item["id"] for item in live.json()["items"]] == [benches]
    assert (await client.get(LIST + "/similaires", params={"titre": "ba"})).json() == {"items": []}
    form = await client.get(LIST + "/nouvelle")
    assert '<script src="/static/proposals.js" defer></script>' in form.text
    assert (await client.get("/static/proposals.js")).status_code == 200

    # Without a script: the first sending shows the similar ones, and sends nothing.
    sent = {
        k: v for k, v in proposal_fields(9, title="Des bancs au marché").items() if k != "show_name"
    }
    step = await client.post(LIST + "/nouvelle", data=sent)
    assert step.status_code == 200
    assert "Des propositions semblables existent déjà" in step.text
    assert f'href="/propositions/{benches}"' in step.text
    assert 'name="etape" value="confirmer"' in step.text
    assert 'value="Des bancs au marché"' in step.text  # what was typed is kept
    assert await Proposal.count().where(Proposal.email == "habitant9@example.org") == 0
    final = await client.post(LIST + "/nouvelle", data={**sent, "etape": "confirmer"})
    assert final.status_code == 303
    assert await Proposal.count().where(Proposal.email == "habitant9@example.org") == 1
    # Nothing similar: sent at once.
    other = {**sent, "title": "Un composteur partagé", "email": "autre@example.org"}
    assert (await client.post(LIST + "/nouvelle", data=other)).status_code == 303
