"""The proposals lists, feed, pages and list API are kept per process: a hit reads no
proposal, an uncached render runs as many statements for 40 proposals as for 4, the
twelve-month figures expire at midnight, and each write path drops what shows it."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from conseils import changes, db
from conseils.personal_data import erase
from conseils.timefmt import next_paris_midnight, now_utc
from meetings.services.councils import get_council
from proposals.controllers import pages as proposal_pages
from proposals.services import common, editing, moderation, submissions
from proposals.tables import Proposal
from tests.support.backoffice_registrants_support import counted_queries
from tests.support.proposal_support import (
    ADMIN,
    proposal_fields,
    published,
    sent_and_confirmed,
    supporter,
)

LIST = "/conseils/ales-tamaris/propositions"
API = "/api/v1/councils/ales-tamaris/proposals"


def _paths(proposal_id: int) -> list[str]:
    return [
        LIST,
        f"{LIST}?theme=mobilite&tri=recentes",
        f"{LIST}?statut=published&page=2",
        f"{LIST}.atom",
        f"/propositions/{proposal_id}",
        API,
        f"{API}?sort=answered&limit=5",
    ]


async def _insert(count: int) -> list[int]:
    """`count` published proposals of Tamaris, some answered, shown with their author."""
    council = await get_council("ales-tamaris")
    now = now_utc()
    rows = [
        Proposal(
            council=council.id, title=f"Proposition {n}", body="Du **texte**.",
            theme="mobilite" if n % 2 else "sante", author_name=f"Habitante {n}",
            show_name=True, status="published", supports=n % 7, origin="online",
            created_at=now - timedelta(days=n + 1), published_at=now - timedelta(days=n),
            updated_at=now, answered_at=now if n % 3 == 0 else None,
            answer="Réponse." if n % 3 == 0 else "",
        )
        for n in range(count)
    ]  # fmt: skip
    inserted = await Proposal.insert(*rows).returning(Proposal.id)
    return [row["id"] for row in inserted]


async def _statements(client: AsyncClient, path: str) -> list[str]:
    changes.reset()
    with counted_queries() as seen:
        response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    assert any("proposal" in statement.lower() for statement in seen), (path, seen)
    return seen


async def test_an_uncached_render_runs_as_many_queries_for_40_proposals_as_for_4(
    client: AsyncClient, demo: None
) -> None:
    ids = await _insert(4)
    few = {path: await _statements(client, path) for path in _paths(ids[0])}
    more = await _insert(36)
    many = {path: await _statements(client, path) for path in _paths(ids[0])}
    for path, seen in many.items():
        extra = [statement[:200] for statement in seen if statement not in few[path]]
        assert len(seen) == len(few[path]), (path, len(few[path]), len(seen), extra)
        assert len(seen) <= 10, (path, seen)
    shown = (await client.get(f"{API}?limit=100")).json()["items"]
    assert len(shown) == 40 and {p["id"] for p in shown} >= set(more)


async def test_a_cached_answer_reads_no_proposal(client: AsyncClient, demo: None) -> None:
    """Once rendered, each is answered from this process's cache: at most the change log is
    read (PostgreSQL without its LISTEN connection), never a proposal nor a council."""
    ids = await _insert(25)
    for path in _paths(ids[0]):
        first = await client.get(path)
        assert first.status_code == 200, (path, first.text)
        with counted_queries() as seen:
            again = await client.get(path)
        assert again.status_code == 200 and again.content == first.content, path
        assert [s for s in seen if "meeting_change" not in s] == [], (path, seen)


async def test_deep_pages_are_rendered_each_time_and_never_kept(
    client: AsyncClient, demo: None
) -> None:
    await _insert(3)
    deep = f"{LIST}?page={proposal_pages.CACHED_PAGES + 1}"
    kept = len(proposal_pages._lists)
    assert (await client.get(deep)).status_code == 200
    with counted_queries() as seen:
        assert (await client.get(deep)).status_code == 200
    assert any("proposal" in s.lower() for s in seen)
    assert len(proposal_pages._lists) == kept


async def test_the_list_expires_at_the_next_midnight_in_paris(
    client: AsyncClient, demo: None
) -> None:
    """Its twelve-month figures count days: the kept page is good until midnight only."""
    await _insert(2)
    assert (await client.get(LIST)).status_code == 200
    council_pages = [
        page
        for key, page in proposal_pages._lists._entries.items()
        if key[:2] == ("list", "ales-tamaris")
    ]
    assert len(council_pages) == 1
    expires = council_pages[0].expires_at
    assert expires is not None and expires == next_paris_midnight(now_utc() - timedelta(seconds=5))


async def _shows(client: AsyncClient, path: str, text: str) -> bool:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    return text in response.text


async def test_every_write_path_drops_what_shows_it(client: AsyncClient, demo: None) -> None:
    """Each write is seen at once on the kept list, feed, page and API answer (no waiting:
    this process drops its copies when the write commits)."""
    [first] = await _insert(1)
    for path in _paths(first):
        await client.get(path)  # kept

    # Confirmed by its author: pending is shown nowhere, but the figures count it.
    received = "<dt>Propositions reçues</dt><dd>2</dd>"
    assert not await _shows(client, LIST, received)
    pending = await sent_and_confirmed(n="attente", theme="mobilite")
    assert await _shows(client, LIST, received)
    assert not await _shows(client, API, "marché attente")

    await common.set_status(ADMIN, pending, "published")  # publication
    title = (await Proposal.select(Proposal.title).where(Proposal.id == pending).first())["title"]
    for path in [LIST, f"{LIST}?theme=mobilite&tri=recentes", f"{LIST}.atom", API]:
        assert await _shows(client, path, title), path

    await client.get(f"/propositions/{pending}")  # kept
    token = await supporter(pending, "soutien@example.org")
    await submissions.confirm_support(token)  # a support confirmed
    assert await _shows(client, f"/propositions/{pending}", "1 soutien<")
    assert '"supports":1' in (await client.get(API)).text.replace(" ", "")

    await moderation.write_answer(  # an answer
        ADMIN, pending, text="Les bancs arrivent.", role="Le bureau", publish=True
    )
    assert await _shows(client, f"/propositions/{pending}", "Les bancs arrivent.")
    assert await _shows(client, f"{LIST}.atom", "Réponse : ")
    assert await _shows(client, f"{API}?sort=answered&limit=5", title)

    await common.set_status(ADMIN, pending, "accepted")  # a status
    assert await _shows(client, f"/propositions/{pending}", "Retenue")

    await editing.edit(ADMIN, pending, title="Des bancs, corrigé")  # an edit
    for path in [LIST, f"{LIST}.atom", API, f"/propositions/{pending}"]:
        assert await _shows(client, path, "Des bancs, corrigé"), path

    await editing.merge(ADMIN, first, pending)  # a merge: the survivor counts both
    assert await _shows(client, f"/propositions/{first}", "regroupée")
    assert not await _shows(client, API, "Proposition 0")

    # Erasure: the author's shown name leaves the lists and pages.
    shown = await published(n="nommee", author_name="Camille Nommée", show_name=True)
    assert await _shows(client, LIST, "Camille Nommée")
    assert await _shows(client, f"/propositions/{shown}", "Camille Nommée")
    address = proposal_fields(n="nommee")["email"]
    async with db.write_transaction():
        await erase(address)
    assert not await _shows(client, LIST, "Camille Nommée")
    assert not await _shows(client, f"/propositions/{shown}", "Camille Nommée")
