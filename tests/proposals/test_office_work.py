"""Quick entry, merge, agenda (meeting page and calendar feed) and CSV export."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from httpx import AsyncClient

from conseils.errors import Conflict, Forbidden, InvalidInput
from meetings.tables import Meeting
from notifications.tables import OutboxMessage
from proposals.services import agenda, editing, entry, export
from proposals.tables import Proposal, ProposalHistory, Support
from tests.proposals.office_support import council_id, proposal, row, support, viewer_of
from tests.support.backoffice_support import post_form, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.feed_support import fetch
from tests.support.mail_support import published_meeting

pytestmark = pytest.mark.usefixtures("demo")


async def _uid(meeting_id: int) -> str:
    return (await Meeting.select(Meeting.uid).where(Meeting.id == meeting_id).first())["uid"]


def _rows(*titles: str) -> list[entry.EntryRow]:
    return [entry.EntryRow(title=t, theme="jeunesse") for t in titles]


async def test_quick_entry_publishes_once_however_often_sent(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, title="Café citoyen du marché")
    viewer = await viewer_of("ales-tamaris")
    typed = [
        *_rows("Un terrain de basket", "Plus de poubelles"),
        entry.EntryRow(),  # a blank row is skipped
        entry.EntryRow(title="Navette", theme="mobilite", author_name="Karim", show_name=True,
                       email="Karim@Example.org"),
    ]  # fmt: skip
    first, second = await asyncio.gather(
        entry.collect(viewer, meeting["id"], typed, form_key="cle-1"),
        entry.collect(viewer, meeting["id"], typed, form_key="cle-1"),
    )
    assert sorted([first[1], second[1]]) == [False, True]
    assert first[0] == second[0] and len(first[0]) == 3
    rows = await Proposal.select().order_by(Proposal.id)
    assert len(rows) == 3
    assert {r["status"] for r in rows} == {"published"}
    assert {r["origin"] for r in rows} == {"collected_at_meeting"}
    assert {r["meeting"] for r in rows} == {meeting["id"]}
    assert rows[2]["email"] == "karim@example.org" and rows[2]["show_name"]
    assert await OutboxMessage.count() == await OutboxMessage.count().where(
        OutboxMessage.meeting_id == meeting["id"]
    )  # no proposal email
    with pytest.raises(InvalidInput) as bad:
        await entry.collect(
            viewer, meeting["id"],
            [entry.EntryRow(title="x" * 151, theme="jeunesse"),
             entry.EntryRow(title="Ok", theme="?", email="pas une adresse")],
            form_key="cle-2",
        )  # fmt: skip
    assert set(bad.value.errors) == {"title-1", "theme-2", "email-2"}
    with pytest.raises(Forbidden):
        await entry.collect(
            await viewer_of("ales-rive-droite"), meeting["id"], _rows("X"), form_key="cle-3"
        )
    assert await Proposal.count() == 3


async def test_quick_entry_page_sent_twice(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, title="Café citoyen")
    await signed_in(client, "anim.tamaris@ales.fr")
    page = await client.get(f"/animation/propositions/saisie?reunion={meeting['id']}")
    assert page.status_code == 200
    assert 'for="title-1"' in page.text
    form = {"form_key": "cle-page", "rows": "2", "meeting": str(meeting["id"]),
            "title-1": "<script>alert(1)</script>", "theme-1": "autre",
            "title-2": "", "theme-2": "autre"}  # fmt: skip
    refused = await post_form(client, "/animation/propositions/saisie", form)
    assert refused.status_code == 400
    assert 'aria-describedby="title-2-erreur"' in refused.text
    form["title-2"] = "Un jardin"
    one = await post_form(client, "/animation/propositions/saisie", form)
    two = await post_form(client, "/animation/propositions/saisie", form)
    assert one.status_code == two.status_code == 303
    assert "fait=saisies" in one.headers["location"] and "fait=deja" in two.headers["location"]
    assert await Proposal.count() == 2
    listing = await client.get(one.headers["location"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
    assert "<script>alert(1)" not in listing.text


async def test_merge_counts_each_address_once() -> None:
    viewer = await viewer_of("ales-tamaris")
    survivor = await proposal(status="published", title="Des bancs")
    loser = await proposal(status="published", title="Des bancs au square")
    await support(survivor, "a@example.org")
    await support(survivor, "b@example.org", confirmed=False)
    await support(loser, "a@example.org", wants_news=True)  # both: counted once
    await support(loser, "b@example.org")  # pending there, confirmed here: confirmed once
    await support(loser, "c@example.org")
    await support(loser, "d@example.org", confirmed=False)
    merged, kept = await editing.merge(viewer, loser, survivor)
    assert merged.status == "merged" and merged.merged_into == survivor
    assert kept.supports == 3 == (await row(survivor))["supports"]
    supports = await Support.select().where(Support.proposal == survivor)
    assert sorted(s["email"] for s in supports) == [
        "a@example.org", "b@example.org", "c@example.org", "d@example.org",
    ]  # fmt: skip
    by_email = {s["email"]: s for s in supports}
    assert by_email["a@example.org"]["wants_news"] is True
    assert by_email["b@example.org"]["status"] == "confirmed"
    assert await Support.count().where(Support.proposal == loser) == 0
    assert (await row(loser))["supports"] == 0
    notes = {
        r["proposal"]: r["note"]
        for r in await ProposalHistory.select().where(ProposalHistory.action == "merged")
    }
    assert str(survivor) in notes[loser] and str(loser) in notes[survivor]
    for again in ((loser, survivor), (survivor, loser), (survivor, survivor)):
        with pytest.raises((Conflict, InvalidInput)):
            await editing.merge(viewer, *again)
    elsewhere = await proposal(slug="ales-rive-droite", status="published")
    with pytest.raises((Conflict, Forbidden)):
        await editing.merge(await viewer_of(admin=True, id_=9_003), elsewhere, survivor)


async def test_agenda_on_the_page_and_in_the_feed(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, title="Conseil de quartier")
    viewer = await viewer_of("ales-tamaris")
    first = await proposal(status="published", title="Des bancs; au square, svp")
    second = await proposal(status="under_study", title="<b>Un jardin</b>")
    pending = await proposal(title="En attente")
    feed_path = "/conseils/ales-tamaris/calendrier.ics"
    before = await fetch(client, feed_path)
    uid = await _uid(meeting["id"])
    event_before = before.event(uid)
    mails_before = await OutboxMessage.count()
    await asyncio.sleep(1.1)  # HTTP dates count whole seconds

    await agenda.put_on(viewer, meeting["id"], first)
    items = await agenda.put_on(viewer, meeting["id"], second, position=1)
    assert [i.proposal_id for i in items] == [second, first]
    with pytest.raises(Conflict):
        await agenda.put_on(viewer, meeting["id"], pending)
    with pytest.raises(Forbidden):
        await agenda.put_on(await viewer_of("ales-rive-droite"), meeting["id"], first)

    page = (await client.get(f"/reunions/{meeting['id']}")).text
    assert "Ordre du jour" in page
    assert f'href="/propositions/{second}">&lt;b&gt;Un jardin&lt;/b&gt;</a>' in page
    assert page.index(f"/propositions/{second}") < page.index(f"/propositions/{first}")
    assert "En attente" not in page

    after = await fetch(client, feed_path)
    event = after.event(uid)
    description = str(after.vevent(uid)["DESCRIPTION"])
    assert "Ordre du jour :\n1. <b>Un jardin</b>" in description
    assert "2. Des bancs; au square, svp" in description
    assert f"/propositions/{first}" in description
    assert after.vevent(uid)["SEQUENCE"] == before.vevent(uid)["SEQUENCE"]
    assert event["last_modified"] > event_before["last_modified"]
    assert after.etag != before.etag
    assert after.last_modified != before.last_modified
    assert await OutboxMessage.count() == mails_before  # no email for an agenda

    await asyncio.sleep(1.1)
    assert await agenda.take_off(viewer, meeting["id"], second)
    assert not await agenda.take_off(viewer, meeting["id"], second)
    await agenda.take_off(viewer, meeting["id"], first)
    emptied = await fetch(client, feed_path)
    assert "Ordre du jour" not in str(emptied.vevent(uid)["DESCRIPTION"])
    assert emptied.event(uid)["last_modified"] > event["last_modified"]
    assert emptied.vevent(uid)["SEQUENCE"] == before.vevent(uid)["SEQUENCE"]
    assert "Ordre du jour" not in (await client.get(f"/reunions/{meeting['id']}")).text


async def test_a_title_edit_changes_the_agenda_everywhere(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth, title="Conseil")
    viewer = await viewer_of("ales-tamaris")
    pid = await proposal(status="published", title="Un jardn")
    await agenda.put_on(viewer, meeting["id"], pid)
    feed = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    assert "Un jardn" in (await client.get(f"/reunions/{meeting['id']}")).text
    await editing.edit(viewer, pid, title="Un jardin")
    assert "Un jardin</a>" in (await client.get(f"/reunions/{meeting['id']}")).text
    again = await fetch(client, "/conseils/ales-tamaris/calendrier.ics")
    assert "1. Un jardin" in str(again.vevent(await _uid(meeting["id"]))["DESCRIPTION"])
    assert again.etag != feed.etag


async def test_the_csv_neutralises_formulas(client: AsyncClient) -> None:
    viewer = await viewer_of("ales-tamaris")
    await proposal(status="published", title='=HYPERLINK("http://x")', author_name="+33 6")
    body = await export.council_csv(viewer, await council_id())
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][1] == "Titre"
    assert rows[1][1] == '\'=HYPERLINK("http://x")' and rows[1][8] == "'+33 6"
    with pytest.raises(Forbidden):
        await export.council_csv(await viewer_of("ales-rive-droite"), await council_id())
    await make_facilitator("anim.csv@ales.fr", "ales-tamaris")
    await signed_in(client, "anim.csv@ales.fr")
    answer = await client.get(f"/animation/propositions/conseils/{await council_id()}/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK" in answer.text


async def test_pages_of_another_council_are_forbidden(client: AsyncClient) -> None:
    pid = await proposal()
    await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    await signed_in(client, "anim.rd@ales.fr")
    assert (await client.get(f"/animation/propositions/{pid}")).status_code == 403
    assert (await post_form(client, f"/animation/propositions/{pid}/publier")).status_code == 403
    assert (await row(pid))["status"] == "pending"


async def test_moderation_through_the_pages(client: AsyncClient) -> None:
    pid = await proposal(title="Nettoyer <le> parc")
    await make_facilitator("anim.t@ales.fr", "ales-tamaris")
    await signed_in(client, "anim.t@ales.fr")
    dashboard = await client.get("/animation")
    assert "1 proposition en attente de modération" in dashboard.text
    assert 'href="/animation/propositions"' in dashboard.text
    queue = await client.get("/animation/propositions")
    assert f'href="/animation/propositions/{pid}"' in queue.text
    page = await client.get(f"/animation/propositions/{pid}")
    assert page.status_code == 200 and "Nettoyer &lt;le&gt; parc" in page.text
    refused = await post_form(client, f"/animation/propositions/{pid}/refuser", {"reason": ""})
    assert refused.status_code == 400
    assert 'id="reason-erreur"' in refused.text and 'aria-invalid="true"' in refused.text
    done = await post_form(client, f"/animation/propositions/{pid}/publier")
    assert done.status_code == 303
    again = await post_form(client, f"/animation/propositions/{pid}/statut", {"status": "pending"})
    assert again.status_code == 409
    moved = await post_form(client, f"/animation/propositions/{pid}/statut", {"status": "done"})
    assert moved.status_code == 303 and (await row(pid))["status"] == "done"
