"""Moderation and follow-up: decisions through the services, the emails they cause (through
a real SMTP sink), the refusals (reason required, invalid moves 409, another council 403)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from conseils.errors import Conflict, Forbidden, InvalidInput
from conseils.tables import AuditEntry
from notifications.tables import OutboxMessage
from proposals.services import common, editing, moderation
from proposals.tables import ProposalHistory
from tests.proposals.office_support import proposal, row, support, viewer_of
from tests.support.mail_support import deliver_all, mail_settings, make_relay, plain_text

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.usefixtures("demo")


async def _sent(sink: SmtpSink) -> dict[str, list]:
    await deliver_all(make_relay(mail_settings(sink)))
    found: dict[str, list] = {}
    for item in sink.received:
        for to in item.rcpt_tos:
            found.setdefault(to, []).append(item.message)
    return found


async def test_publish_and_reject_email_the_author(smtp_sink: SmtpSink) -> None:
    viewer = await viewer_of("ales-tamaris")
    good = await proposal(email="awa@example.org")
    bad = await proposal(title="Hors sujet", email="bob@example.org")
    published = await moderation.publish(viewer, good)
    assert published.status == "published" and published.published_at is not None
    with pytest.raises(InvalidInput) as missing:
        await moderation.reject(viewer, bad, "  ")
    assert "reason" in missing.value.errors
    await moderation.reject(viewer, bad, "Cette demande relève de la mairie <b>directement</b>.")
    assert (await row(bad))["rejection_reason"].startswith("Cette demande")
    sent = await _sent(smtp_sink)
    [to_awa] = sent["awa@example.org"]
    [to_bob] = sent["bob@example.org"]
    assert "publiée" in to_awa["Subject"]
    assert f"/propositions/{good}" in plain_text(to_awa)
    assert to_awa["Auto-Submitted"] == "auto-generated"
    assert "relève de la mairie <b>directement</b>" in plain_text(to_bob)
    html = to_bob.get_body(("html",)).get_content()
    assert "&lt;b&gt;directement" in html
    # the audit log has a line per decision
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action)}
    assert {"proposal.published", "proposal.rejected"} <= actions
    # history: the rejection's note is private, kept for the facilitators
    lines = await common.history(bad, public_only=False, private_notes=True)
    assert lines[-1].action == "rejected" and "mairie" in lines[-1].note
    assert (await common.history(bad, public_only=True)) == []


async def test_invalid_moves_are_conflicts_and_a_double_click_sends_once() -> None:
    viewer = await viewer_of("ales-tamaris")
    pid = await proposal()
    with pytest.raises(Conflict) as wrong:
        await moderation.change_status(viewer, pid, "done")
    assert wrong.value.code == "invalid_transition"
    await moderation.publish(viewer, pid)
    await moderation.publish(viewer, pid)  # the same decision again: nothing new
    assert await OutboxMessage.count().where(OutboxMessage.kind == "proposal_published") == 1
    with pytest.raises(Conflict):
        await moderation.change_status(viewer, pid, "pending")
    with pytest.raises(InvalidInput):
        await moderation.change_status(viewer, pid, "rejected")  # needs `reject`, a reason


async def test_another_councils_facilitator_is_refused() -> None:
    other = await viewer_of("ales-rive-droite")
    pid = await proposal()
    for attempt in (
        moderation.get_for(other, pid),
        moderation.publish(other, pid),
        moderation.reject(other, pid, "Non."),
        editing.edit(other, pid, title="Autre"),
    ):
        with pytest.raises(Forbidden):
            await attempt
    assert (await row(pid))["status"] == "pending"
    assert await moderation.queue(other) == []
    admin = await viewer_of(admin=True, id_=9_002)
    assert [p.id for p in await moderation.queue(admin)] == [pid]
    assert await moderation.pending_count(await viewer_of("ales-tamaris")) == 1


async def test_followers_hear_of_status_and_answer_once(smtp_sink: SmtpSink) -> None:
    viewer = await viewer_of("ales-tamaris")
    pid = await proposal(status="published", email="autrice@example.org")
    await support(pid, "suit@example.org", wants_news=True)
    await support(pid, "muet@example.org", wants_news=False)
    await support(pid, "pas-confirme@example.org", confirmed=False, wants_news=True)
    await moderation.change_status(viewer, pid, "under_study")
    with pytest.raises(InvalidInput):
        await moderation.write_answer(viewer, pid, text="", role="Le conseil", publish=True)
    draft = await moderation.write_answer(
        viewer, pid, text="Un **premier** jet", role="Service voirie", publish=False
    )
    assert not draft.answer_published
    answered = await moderation.write_answer(
        viewer, pid, text="Les bancs seront posés en **mars**.", role="Service voirie",
        publish=True,
    )  # fmt: skip
    assert answered.answer_published
    await moderation.write_answer(  # a second click: no second email
        viewer, pid, text="Les bancs seront posés en **mars**.", role="Service voirie",
        publish=True,
    )  # fmt: skip
    sent = await _sent(smtp_sink)
    assert set(sent) == {"autrice@example.org", "suit@example.org"}
    for address in sent:
        kinds = sorted(m["Subject"].split(" ")[0] for m in sent[address])
        assert len(sent[address]) == 2, kinds
        answer = next(m for m in sent[address] if m["Subject"].startswith("Réponse"))
        assert "Les bancs seront posés en **mars**." in plain_text(answer)
        assert "<strong>mars</strong>" in answer.get_body(("html",)).get_content()
        assert f"/propositions/{pid}" in plain_text(answer)
    with pytest.raises(Conflict) as early:
        await moderation.write_answer(
            viewer, await proposal(), text="Oui", role="Le conseil", publish=True
        )
    assert early.value.code == "not_answerable"


async def test_an_edit_keeps_the_original_in_the_history() -> None:
    viewer = await viewer_of("ales-tamaris")
    pid = await proposal(status="published", title="Des bans au sqare")
    with pytest.raises(InvalidInput):
        await editing.edit(viewer, pid, title="", theme="inconnu")
    edited = await editing.edit(viewer, pid, title="Des bancs au square", theme="proprete")
    assert edited.title == "Des bancs au square" and edited.theme == "proprete"
    await editing.edit(viewer, pid, title="Des bancs au square")  # unchanged: no line
    lines = await ProposalHistory.select().where(ProposalHistory.action == "edited")
    assert len(lines) == 1
    assert lines[0]["public"] is False
    assert json.loads(lines[0]["note"]) == {"title": "Des bans au sqare", "theme": "cadre_de_vie"}
