"""Minutes, the facilitators' side: the services' rules, and the emails publishing sends
(through the outbox's fan-out job, to a real SMTP server)."""

from __future__ import annotations

import icalendar
import pytest
from httpx import AsyncClient

from conseils import search
from conseils.errors import Conflict, Forbidden, InvalidInput
from minutes.files import Incoming
from minutes.services import common, editing, publishing
from minutes.tables import Minutes, MinutesMeeting
from notifications.tables import FanoutJob, OutboxMessage
from proposals.tables import ProposalHistory
from tests.minutes.documents_support import BAD, good_pdf, temporary_files
from tests.minutes.minutes_office_support import (
    minutes_mail,
    past_meeting,
    recipients,
    registrant,
    subscriber,
)
from tests.proposals.office_support import proposal, row, support, viewer_of
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.usefixtures("demo")


async def meeting_minutes(**fields: str) -> tuple[int, common.MinutesView]:
    viewer = await viewer_of("ales-tamaris")
    meeting = await past_meeting()
    made, created = await editing.create(viewer, {"meeting": str(meeting), **fields})
    assert created
    return meeting, made


def incoming(content: bytes, filename: str = "cr.pdf") -> Incoming:
    upload = Incoming()
    upload.filename = filename
    upload.write(content)
    return upload


async def test_minutes_of_a_meeting_only_once_it_started_and_only_its_facilitators() -> None:
    tamaris = await viewer_of("ales-tamaris")
    coming = await past_meeting(days_ago=-3)
    with pytest.raises(InvalidInput) as refused:
        await editing.create(tamaris, {"meeting": str(coming)})
    assert "pas encore commencé" in refused.value.errors["meeting"]
    other = await past_meeting("ales-rive-droite")
    with pytest.raises(Forbidden):
        await editing.create(tamaris, {"meeting": str(other)})
    draft = await past_meeting(status="draft")
    with pytest.raises(InvalidInput):
        await editing.create(tamaris, {"meeting": str(draft)})

    meeting = await past_meeting()
    await registrant(meeting, "venue@example.org", attended=True)
    await registrant(meeting, "absente@example.org", attended=False)
    first, created = await editing.create(tamaris, {"meeting": str(meeting)}, form_key="k1")
    again, created_again = await editing.create(tamaris, {"meeting": str(meeting)}, form_key="k1")
    assert created and not created_again and again.id == first.id  # a double submit: one
    assert first.attendance == 1  # prefilled from the attendance recorded
    assert first.title == "Compte rendu — Réunion plénière" and first.status == "draft"
    with pytest.raises(Conflict):
        await editing.create(tamaris, {"meeting": str(meeting)}, form_key="k2")
    assert await Minutes.count() == 1

    rive = await viewer_of("ales-rive-droite", id_=9_002)
    with pytest.raises(Forbidden):
        await editing.update(rive, first.id, {"title": "Pris"})
    with pytest.raises(Forbidden):
        await publishing.publish(rive, first.id)


async def test_fields_are_checked_and_html_kept_as_text() -> None:
    _, made = await meeting_minutes()
    viewer = await viewer_of("ales-tamaris")
    with pytest.raises(InvalidInput) as refused:
        await editing.update(
            viewer,
            made.id,
            {"title": "x" * 201, "summary": "y" * 1_001, "attendance": "-3", "body": "ok"},
        )
    assert set(refused.value.errors) == {"title", "summary", "attendance"}
    script = "<script>alert('cr')</script>"
    saved = await editing.update(
        viewer,
        made.id,
        {"title": script, "summary": "Résumé", "decisions": " Un \n\n Deux ", "attendance": "12"},
    )
    assert saved.title == script  # stored as typed; every page escapes it
    assert saved.decision_lines == ["Un", "Deux"] and saved.attendance == 12


async def test_a_monthly_bundle_covers_the_months_meetings_and_all_councils_is_admins() -> None:
    tamaris = await viewer_of("ales-tamaris")
    meeting = await past_meeting(days_ago=0)
    month = (await common.meeting_row(meeting))["starts_at"]
    month_text = f"{month.year:04d}-{month.month:02d}"
    with pytest.raises(Forbidden):
        await editing.create(tamaris, {"month": month_text, "council": ""})
    with pytest.raises(InvalidInput):
        await editing.create(tamaris, {"month": "2020-13", "council": "ales-tamaris"})
    bundle, _ = await editing.create(tamaris, {"month": month_text, "council": "ales-tamaris"})
    assert meeting in bundle.covered_meeting_ids
    admin = await viewer_of(admin=True, id_=9_003)
    everyone, _ = await editing.create(admin, {"month": month_text, "council": ""})
    assert everyone.council_id is None and meeting in everyone.covered_meeting_ids
    assert await MinutesMeeting.count() == len(bundle.covered_meeting_ids) + len(
        everyone.covered_meeting_ids
    )


async def test_a_pdf_is_checked_stored_and_searched_once_published() -> None:
    _, made = await meeting_minutes(summary="Les jardins")
    viewer = await viewer_of("ales-tamaris")
    for content, reason in (BAD["html"], BAD["encrypted"], BAD["empty"]):
        with incoming(content) as upload, pytest.raises(InvalidInput) as refused:
            await editing.attach(viewer, made.id, upload)
        assert reason in refused.value.errors["file"]
    oversized = Incoming(limit=1_000)
    with pytest.raises(InvalidInput):
        oversized.write(b"%PDF-" + b"0" * 2_000)
    oversized.discard()
    assert temporary_files() == []
    with incoming(good_pdf("Composteurs collectifs"), "../../etc/cr.pdf") as upload:
        saved = await editing.attach(viewer, made.id, upload)
    assert saved.filename == "cr.pdf" and saved.pages == 1
    assert await search.search("composteurs", kinds=["minutes"]) == []  # a draft
    await publishing.publish(viewer, made.id)
    [hit] = await search.search("composteurs", kinds=["minutes"])
    assert hit.object_id == made.id
    await publishing.unpublish(viewer, made.id)
    assert await search.search("composteurs", kinds=["minutes"]) == []


async def test_proposals_discussed_get_their_status_through_the_proposals_rules(
    smtp_sink: SmtpSink,
) -> None:
    _, made = await meeting_minutes(summary="On a parlé des bancs")
    viewer = await viewer_of("ales-tamaris")
    mine = await proposal(status="published")
    await support(mine, "soutien@example.org", wants_news=True)
    same = await proposal(status="under_study", title="Un composteur")
    theirs = await proposal(slug="ales-rive-droite", status="published")
    hidden = await proposal(status="pending", title="Pas encore publiée")
    with pytest.raises(InvalidInput) as refused:
        await editing.set_proposals(
            viewer, made.id, [(theirs, "accepted", ""), (hidden, "accepted", "")]
        )
    assert set(refused.value.errors) == {f"proposals.{theirs}", f"proposals.{hidden}"}
    with pytest.raises(InvalidInput):
        await editing.set_proposals(viewer, made.id, [(mine, "merged", "")])
    await editing.set_proposals(
        viewer, made.id, [(mine, "accepted", "Votée"), (same, "under_study", "")]
    )
    assert (await row(mine))["status"] == "published"  # applied at publication only
    await publishing.publish(viewer, made.id)
    assert (await row(mine))["status"] == "accepted"
    assert (await row(same))["status"] == "under_study"
    moves = await ProposalHistory.count().where(ProposalHistory.proposal == mine)
    assert moves == 1
    assert await ProposalHistory.count().where(ProposalHistory.proposal == same) == 0
    assert all(p.applied for p in (await common.get_minutes(made.id)).proposals if p.status)
    told = await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.kind != "minutes_published"
    )
    assert "soutien@example.org" in {r["recipient"] for r in told}  # the proposals' own email


async def test_publishing_emails_each_person_once_and_never_the_cancelled(
    smtp_sink: SmtpSink,
) -> None:
    meeting, made = await meeting_minutes(summary="Trois décisions & <b>un</b> vote")
    viewer = await viewer_of("ales-tamaris")
    await registrant(meeting, "inscrite@example.org")
    await registrant(meeting, "venue@example.org", status="waitlisted", attended=True)
    await registrant(meeting, "annulee@example.org", status="cancelled", attended=True)
    await registrant(meeting, "attente@example.org", status="waitlisted")
    await registrant(meeting, "les-deux@example.org")
    await subscriber("les-deux@example.org")
    await subscriber("abonne@example.org")
    await subscriber("parti@example.org", status="unsubscribed")
    await subscriber("ailleurs@example.org", "ales-rive-droite")

    await publishing.publish(viewer, made.id)
    await publishing.publish(viewer, made.id)  # a double click
    assert await FanoutJob.count().where(FanoutJob.kind == "minutes_published") == 1
    sent = await minutes_mail(smtp_sink)
    expected = [
        "abonne@example.org",
        "inscrite@example.org",
        "les-deux@example.org",
        "venue@example.org",
    ]
    assert recipients(sent) == expected
    by_address = {str(m["To"]): m for m in sent}
    subscribed = by_address["abonne@example.org"]
    assert subscribed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe" not in by_address["inscrite@example.org"]
    text = subscribed.get_body(("plain",)).get_content()
    html = subscribed.get_body(("html",)).get_content()
    assert "Trois décisions & <b>un</b> vote" in text
    assert "&lt;b&gt;un&lt;/b&gt;" in html and "<b>un</b>" not in html
    assert f"/reunions/{meeting}#compte-rendu" in text

    # Editing afterwards, publishing again: nothing more.
    await editing.update(viewer, made.id, {"title": "Corrigé", "summary": "Autre résumé"})
    await publishing.unpublish(viewer, made.id)
    await publishing.publish(viewer, made.id)
    assert len(await minutes_mail(smtp_sink)) == 4

    # A "mise à jour" asked for: one more each; the same form sent twice: still one.
    _, sent_now = await publishing.send_update(viewer, made.id, expected=1)
    _, sent_again = await publishing.send_update(viewer, made.id, expected=1)
    assert sent_now and not sent_again
    everything = await minutes_mail(smtp_sink)
    updates = [m for m in everything if str(m["Subject"]).startswith("Compte rendu mis à jour")]
    assert recipients(updates) == expected
    assert "Autre résumé" in updates[0].get_body(("plain",)).get_content()


async def test_a_bundle_of_all_councils_writes_to_every_councils_subscribers_once(
    smtp_sink: SmtpSink,
) -> None:
    admin = await viewer_of(admin=True, id_=9_003)
    await subscriber("deux-conseils@example.org", "ales-tamaris")
    await subscriber("deux-conseils@example.org", "ales-rive-droite")
    await subscriber("anduze@example.org", "anduze-centre-ville")
    bundle, _ = await editing.create(
        admin, {"month": "2026-01", "council": "", "summary": "Le mois de janvier"}
    )
    await publishing.publish(admin, bundle.id)
    sent = await minutes_mail(smtp_sink)
    assert recipients(sent) == ["anduze@example.org", "deux-conseils@example.org"]
    assert f"/comptes-rendus/{bundle.id}" in sent[0].get_body(("plain",)).get_content()


async def test_publishing_needs_something_and_deleting_only_drafts() -> None:
    _, made = await meeting_minutes()
    viewer = await viewer_of("ales-tamaris")
    with pytest.raises(InvalidInput):
        await publishing.publish(viewer, made.id)
    with pytest.raises(Conflict):
        await publishing.send_update(viewer, made.id)
    await editing.update(viewer, made.id, {"title": made.title, "body": "Texte"})
    await publishing.publish(viewer, made.id)
    with pytest.raises(Conflict):
        await editing.delete(viewer, made.id)
    await publishing.unpublish(viewer, made.id)
    await editing.delete(viewer, made.id)
    assert await Minutes.count() == 0


async def test_publishing_through_the_services_shows_on_every_cached_page(
    client: AsyncClient,
) -> None:
    """The write side's notices reach what the read side caches: the meeting's page, its
    calendar event (DESCRIPTION, LAST-MODIFIED, the feed's ETag; not SEQUENCE), the lists."""
    meeting, made = await meeting_minutes(summary="Les composteurs du square")
    feed = "/conseils/ales-tamaris/calendrier.ics"
    pages = (f"/reunions/{meeting}", "/comptes-rendus", "/conseils/ales-tamaris/comptes-rendus")
    before = await client.get(feed)
    seen = {path: (await client.get(path)).text for path in pages}  # cached now
    assert all("Les composteurs du square" not in text for text in seen.values())
    event = _event_of(before.content, meeting)
    await publishing.publish(await viewer_of("ales-tamaris"), made.id)
    after = await client.get(feed)
    moved = _event_of(after.content, meeting)
    assert f"/reunions/{meeting}#compte-rendu" in str(moved["DESCRIPTION"])
    assert int(moved["SEQUENCE"]) == int(event["SEQUENCE"])
    assert moved.decoded("LAST-MODIFIED") > event.decoded("LAST-MODIFIED")
    assert after.headers["etag"] != before.headers["etag"]
    assert "Les composteurs du square" in (await client.get(pages[0])).text
    for path in pages[1:]:  # the lists link to the meeting's page
        assert f"/reunions/{meeting}#compte-rendu" in (await client.get(path)).text, path


def _event_of(body: bytes, meeting_id: int) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(body)
    [event] = [
        e for e in calendar.walk("VEVENT") if str(e["URL"]).endswith(f"/reunions/{meeting_id}")
    ]
    return event
