"""The transactional outbox: an announcement is queued if and only if its change commits.

Meetings are written through the API (as facilitators do); the outbox rows are read from the
database, and what a row holds is checked in the message a real SMTP server (aiosmtpd)
receives from the relay. The relay's own behaviour is in test_relay_smtp.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

import pytest
from httpx import AsyncClient

from conseils import events
from conseils.db import write_transaction
from conseils.errors import Conflict
from meetings.events import MeetingPublished
from meetings.tables import Meeting
from notifications import outbox, subscriptions
from notifications.fanout import expand_all
from notifications.tables import FanoutJob
from tests.support.dates import LIKE_2031
from tests.support.mail_support import (
    active_subscriber,
    calendar_part,
    council_id,
    create_meeting,
    deliver_all,
    forget_confirmations,
    mail_settings,
    make_relay,
    plain_text,
    publish,
    published_meeting,
    rows,
    send_all,
    text_of,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink


SUBSCRIBER = "habitante@example.org"


@pytest.fixture
async def subscriber(tamaris_auth: dict[str, str]) -> str:
    """An active subscriber of the Tamaris council; its confirmation email is dropped."""
    token = await active_subscriber(SUBSCRIBER)
    await forget_confirmations()
    return token


async def announcements() -> list[dict]:
    return [r for r in await rows() if r["kind"].startswith("meeting_")]


async def test_publishing_queues_one_announcement_per_active_subscriber(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    # A second active subscriber, a pending one, an unsubscribed one, one of another council.
    await active_subscriber("voisin@example.org")
    await subscriptions.subscribe("ales-tamaris", "en-attente@example.org")
    gone = await active_subscriber("parti@example.org")
    await subscriptions.unsubscribe(gone)
    await active_subscriber("ailleurs@example.org", "ales-rive-droite")
    await forget_confirmations()

    tamaris = await council_id("ales-tamaris")
    meeting = await create_meeting(client, tamaris_auth)
    assert await announcements() == []  # a draft is announced to no one
    published = await publish(client, tamaris_auth, meeting["id"])

    queued = await announcements()
    assert sorted(r["recipient"] for r in queued) == [SUBSCRIBER, "voisin@example.org"]
    for message in queued:
        assert message["kind"] == "meeting_published"
        assert message["status"] == "queued"
        assert message["attempts"] == 0
        assert message["meeting_id"] == meeting["id"]
        assert message["council_id"] == tamaris
        assert message["subject"].startswith("Nouvelle réunion : Café citoyen : le jardin partagé")
        assert message["message_id"].startswith("<") and message["message_id"].endswith(">")
    assert len({r["message_id"] for r in queued}) == 2
    sent = await send_all(smtp_sink)
    assert sorted(sent) == sorted(r["message_id"] for r in queued)
    for message in sent.values():
        part = calendar_part(message)
        assert part.get_param("method") == "REQUEST"
        assert f"\r\nSEQUENCE:{published['sequence']}\r\n" in part.get_content()


async def test_editing_a_draft_queues_nothing(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str
) -> None:
    meeting = await create_meeting(client, tamaris_auth)
    for change in (
        {"title": "Café citoyen : le jardin, suite"},
        {"starts_at": f"{LIKE_2031}-03-12T17:00:00+01:00"},
        {"venue": "Salle polyvalente"},
    ):
        response = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json=change, headers=tamaris_auth
        )
        assert response.status_code == 200, response.text
    deleted = await client.delete(f"/api/v1/meetings/{meeting['id']}", headers=tamaris_auth)
    assert deleted.status_code == 204
    assert await rows() == []


async def test_refused_changes_queue_nothing(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    assert len(await announcements()) == 1
    url = f"/api/v1/meetings/{meeting['id']}"
    # Invalid (400): the end before the start, a title with a line break.
    bad_time = await client.patch(
        url, json={"ends_at": f"{LIKE_2031}-03-12T17:00:00+01:00"}, headers=tamaris_auth
    )
    assert bad_time.status_code == 400
    assert bad_time.json()["extra"][0]["key"] == "ends_at"
    bad_title = await client.patch(
        url, json={"title": "x\r\nBcc: evil@example.org"}, headers=tamaris_auth
    )
    assert bad_title.status_code == 400
    # Cancelled, then changed (409): the cancellation is announced, the refused change is not.
    assert (await client.post(f"{url}/cancel", headers=tamaris_auth)).status_code == 200
    refused = await client.patch(
        url, json={"starts_at": f"{LIKE_2031}-03-13T18:00:00+01:00"}, headers=tamaris_auth
    )
    assert refused.status_code == 409
    republish = await client.post(f"{url}/publish", headers=tamaris_auth)
    assert republish.status_code == 409
    assert [r["kind"] for r in await announcements()] == ["meeting_published", "meeting_cancelled"]


async def test_a_change_rolled_back_after_queueing_leaves_no_email(
    client: AsyncClient,
    tamaris_auth: dict[str, str],
    subscriber: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The announcement is written inside the change's transaction: when the transaction is
    rolled back after the row was written, the row goes with it."""
    seen_inside: list[int] = []

    async def refuse_after_queueing(event: MeetingPublished) -> None:
        # The announcement's handler ran first: its fan-out job is visible in the transaction.
        seen_inside.append(await FanoutJob.count())
        raise Conflict("Refusé après coup.", code="refused_for_test")

    events.handles(MeetingPublished)(refuse_after_queueing)
    try:
        meeting = await create_meeting(client, tamaris_auth)
        response = await client.post(
            f"/api/v1/meetings/{meeting['id']}/publish", headers=tamaris_auth
        )
    finally:
        events.forget(refuse_after_queueing)
    assert response.status_code == 409
    assert seen_inside == [1]
    assert await FanoutJob.count() == 0
    assert await rows() == []
    stored = await Meeting.select(Meeting.status, Meeting.sequence).where(
        Meeting.id == meeting["id"]
    )
    assert stored == [{"status": "draft", "sequence": 0}]

    await publish(client, tamaris_auth, meeting["id"])
    assert [r["kind"] for r in await announcements()] == ["meeting_published"]


async def test_change_of_time_queues_meeting_changed_with_the_new_sequence(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    assert meeting["sequence"] == 1
    url = f"/api/v1/meetings/{meeting['id']}"
    # Fields that calendar apps do not show queue nothing.
    quiet = await client.patch(url, json={"capacity": 12}, headers=tamaris_auth)
    assert quiet.status_code == 200
    assert quiet.json()["sequence"] == 1
    assert [r["kind"] for r in await announcements()] == ["meeting_published"]

    moved = await client.patch(
        url,
        json={
            "starts_at": f"{LIKE_2031}-03-12T19:00:00+01:00",
            "ends_at": f"{LIKE_2031}-03-12T21:00:00+01:00",
        },
        headers=tamaris_auth,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["sequence"] == 2
    changed = [r for r in await announcements() if r["kind"] == "meeting_changed"]
    assert len(changed) == 1
    message = changed[0]
    assert message["recipient"] == SUBSCRIBER
    assert message["subject"].startswith("Réunion modifiée : Café citoyen : le jardin partagé")
    sent = (await send_all(smtp_sink))[message["message_id"]]
    part = calendar_part(sent)
    assert part.get_param("method") == "REQUEST"
    calendar = part.get_content()
    assert "\r\nMETHOD:REQUEST\r\n" in calendar
    assert "\r\nSEQUENCE:2\r\n" in calendar
    assert "\r\nSTATUS:CONFIRMED\r\n" in calendar
    assert (
        f"- Nouvel horaire : mercredi 12 mars {LIKE_2031}, de 19 h à 21 h "
        f"(au lieu de : mercredi 12 mars {LIKE_2031}, de 18 h à 20 h)\n"
    ) in plain_text(sent)
    html = sent.get_body(("html",))
    assert f"Nouvel horaire : mercredi 12 mars {LIKE_2031}, de 19 h à 21 h" in text_of(html)

    # The same change again is no change: nothing more.
    again = await client.patch(
        url, json={"starts_at": f"{LIKE_2031}-03-12T19:00:00+01:00"}, headers=tamaris_auth
    )
    assert again.status_code == 200
    assert again.json()["sequence"] == 2
    assert len(await announcements()) == 2


async def test_cancel_queues_a_cancellation_once(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}/cancel"
    first = await client.post(url, headers=tamaris_auth)
    assert first.status_code == 200
    second = await client.post(url, headers=tamaris_auth)  # harmless when repeated
    assert second.status_code == 200
    cancelled = [r for r in await announcements() if r["kind"] == "meeting_cancelled"]
    assert len(cancelled) == 1
    message = cancelled[0]
    assert message["subject"].startswith("Réunion annulée : ")
    sent = (await send_all(smtp_sink))[message["message_id"]]
    part = calendar_part(sent)
    assert part.get_param("method") == "CANCEL"
    calendar = part.get_content()
    assert "\r\nMETHOD:CANCEL\r\n" in calendar
    assert "\r\nSTATUS:CANCELLED\r\n" in calendar
    assert f"\r\nSEQUENCE:{first.json()['sequence']}\r\n" in calendar
    assert "est annulée" in plain_text(sent)


async def test_cancelling_a_draft_announces_nothing(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str
) -> None:
    meeting = await create_meeting(client, tamaris_auth)
    response = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert response.status_code == 200
    assert await rows() == []


async def test_publishing_twice_queues_once(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str
) -> None:
    meeting = await create_meeting(client, tamaris_auth)
    url = f"/api/v1/meetings/{meeting['id']}/publish"
    # A double click: two requests at once, then a third one later.
    both = await asyncio.gather(
        client.post(url, headers=tamaris_auth), client.post(url, headers=tamaris_auth)
    )
    assert [r.status_code for r in both] == [200, 200]
    assert (await client.post(url, headers=tamaris_auth)).status_code == 200
    queued = await announcements()
    assert [(r["kind"], r["recipient"]) for r in queued] == [("meeting_published", SUBSCRIBER)]


async def test_the_idempotency_key_queues_a_draft_once() -> None:
    """The unique key is what keeps a repeated change (or a retried request) from queueing an
    email twice: the second insert of the same key does nothing and reports it."""
    draft = outbox.Draft(
        key="meeting_published:1:1:1",
        kind="meeting_published",
        recipient=SUBSCRIBER,
        subject="Nouvelle réunion",
        text_body="Bonjour",
    )
    async with write_transaction():
        assert await outbox.enqueue([draft]) == 1
    async with write_transaction():
        assert await outbox.enqueue([draft, draft]) == 0
    other = dataclasses.replace(draft, key="autre")
    async with write_transaction():
        assert await outbox.enqueue([draft, other]) == 1
    stored = await rows()
    assert [r["idempotency_key"] for r in stored] == ["meeting_published:1:1:1", "autre"]
    assert stored[0]["message_id"] != stored[1]["message_id"]


async def test_a_newer_announcement_replaces_a_queued_older_one(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    """Published, then moved before the relay sent it: the first message would describe a
    meeting that no longer is; only the newer one (higher SEQUENCE) goes out."""
    meeting = await published_meeting(client, tamaris_auth)
    await expand_all()  # the relay queued the message, and has not sent it yet
    url = f"/api/v1/meetings/{meeting['id']}"
    moved = await client.patch(
        url, json={"starts_at": f"{LIKE_2031}-03-12T18:30:00+01:00"}, headers=tamaris_auth
    )
    assert moved.status_code == 200
    assert [(r["kind"], r["status"]) for r in await announcements()] == [
        ("meeting_published", "cancelled"), ("meeting_changed", "queued"),
    ]  # fmt: skip
    sent = await send_all(smtp_sink)
    [message] = sent.values()
    assert "\r\nSEQUENCE:2\r\n" in calendar_part(message).get_content()
    assert message["Subject"].startswith("Réunion modifiée : ")

    # What was sent stays sent; the cancellation is queued and sent.
    assert (await client.post(f"{url}/cancel", headers=tamaris_auth)).status_code == 200
    assert [(r["kind"], r["status"]) for r in await announcements()] == [
        ("meeting_published", "cancelled"), ("meeting_changed", "sent"),
        ("meeting_cancelled", "queued"),
    ]  # fmt: skip
    sent = await send_all(smtp_sink)
    assert len(sent) == 2
    assert [r.rcpt_tos for r in smtp_sink.received] == [(SUBSCRIBER,), (SUBSCRIBER,)]


async def test_a_newer_announcement_replaces_an_older_one_not_yet_expanded(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    """Published, then moved before the relay expanded the announcement: the older job is
    cancelled, and only the newer message is ever queued and sent."""
    meeting = await published_meeting(client, tamaris_auth)
    moved = await client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        json={"starts_at": f"{LIKE_2031}-03-12T18:30:00+01:00"},
        headers=tamaris_auth,
    )
    assert moved.status_code == 200
    jobs = await FanoutJob.select(FanoutJob.kind, FanoutJob.status).order_by(FanoutJob.id)
    assert [(j["kind"], j["status"]) for j in jobs] == [
        ("meeting_published", "cancelled"), ("meeting_changed", "pending"),
    ]  # fmt: skip
    assert [(r["kind"], r["status"]) for r in await announcements()] == [
        ("meeting_changed", "queued")
    ]
    [message] = (await send_all(smtp_sink)).values()
    assert "\r\nSEQUENCE:2\r\n" in calendar_part(message).get_content()


async def test_a_superseded_message_waiting_for_a_retry_is_not_sent(
    client: AsyncClient, tamaris_auth: dict[str, str], subscriber: str, smtp_sink: SmtpSink
) -> None:
    """A message greylisted (451) waits for its retry; a change meanwhile replaces it."""
    smtp_sink.fail_data = 1
    meeting = await published_meeting(client, tamaris_auth)
    relay = make_relay(mail_settings(smtp_sink))
    await expand_all()
    assert await relay.deliver_once() == 1
    [waiting] = await announcements()
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    cancelled = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert cancelled.status_code == 200
    await deliver_all(relay)
    assert [(r["kind"], r["status"]) for r in await announcements()] == [
        ("meeting_published", "cancelled"), ("meeting_cancelled", "sent"),
    ]  # fmt: skip
    [received] = smtp_sink.received
    assert "\r\nMETHOD:CANCEL\r\n" in calendar_part(received.message).get_content()
