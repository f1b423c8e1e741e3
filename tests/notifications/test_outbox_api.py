"""The facilitators' view of the outbox: GET /api/v1/outbox and POST /api/v1/outbox/{id}/retry.

A facilitator sees the messages of their councils only (an admin sees all), with each one's
status and last error, and can queue a failed message again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from httpx import AsyncClient

from notifications import subscriptions
from notifications.fanout import expand_all
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import (
    active_subscriber,
    council_id,
    create_meeting,
    deliver_all,
    mail_settings,
    make_relay,
    publish,
    rows,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink


REFUSED = "refuse@example.org"


async def listing(client: AsyncClient, auth: dict[str, str], **params: object) -> dict:
    response = await client.get("/api/v1/outbox", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_unauthenticated_is_401(client: AsyncClient, demo: None) -> None:
    for response in (
        await client.get("/api/v1/outbox"),
        await client.post("/api/v1/outbox/1/retry"),
        await client.get("/api/v1/outbox", headers={"Authorization": "Bearer pas-un-jeton"}),
        await client.post("/api/v1/outbox/1/retry", headers={"Authorization": "Basic eDp5"}),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["status_code"] == 401


async def test_each_facilitator_sees_their_councils_messages(
    client: AsyncClient, tamaris_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    await active_subscriber("habitante@example.org")  # Tamaris: one confirmation
    await subscriptions.subscribe("ales-rive-droite", "voisin@example.org")  # Rive Droite
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])  # Tamaris: one announcement
    await expand_all()  # as the relay does
    tamaris = await council_id("ales-tamaris")
    rive_droite_auth = await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    nobody_auth = await make_facilitator("sans.conseil@ales.fr")

    mine = await listing(client, tamaris_auth)
    assert mine["total"] == 2
    assert [m["kind"] for m in mine["items"]] == ["meeting_published", "subscription_confirm"]
    assert {m["council_id"] for m in mine["items"]} == {tamaris}
    first = mine["items"][0]
    # A subscriber's address: its domain only, to a facilitator (admins see it whole).
    assert first["recipient"] == "…@example.org"
    assert first["status"] == "queued"
    assert first["attempts"] == 0
    assert first["last_error"] == ""
    assert first["meeting_id"] == meeting["id"]
    assert first["sent_at"] is None
    assert first["subject"].startswith("Nouvelle réunion : ")
    stored = {r["id"]: r for r in await rows()}
    assert first["message_id"] == stored[first["id"]]["message_id"]

    theirs = await listing(client, rive_droite_auth)
    assert [(m["kind"], m["recipient"]) for m in theirs["items"]] == [
        ("subscription_confirm", "…@example.org")
    ]
    assert (await listing(client, nobody_auth)) == {
        "items": [], "total": 0, "limit": 50, "offset": 0,
    }  # fmt: skip
    everything = await listing(client, admin_auth)
    assert everything["total"] == 3
    assert {m["recipient"] for m in everything["items"]} == {
        "habitante@example.org", "voisin@example.org",
    }  # fmt: skip
    assert [m["id"] for m in everything["items"]] == sorted(stored, reverse=True)  # newest first

    assert (await listing(client, admin_auth, status="queued"))["total"] == 3
    assert (await listing(client, admin_auth, status="failed"))["total"] == 0
    paged = await listing(client, admin_auth, limit=1, offset=1)
    assert [m["id"] for m in paged["items"]] == [everything["items"][1]["id"]]
    bad = await client.get("/api/v1/outbox", headers=admin_auth, params={"status": "perdu"})
    assert bad.status_code == 400


async def test_retry_a_failed_message_then_it_is_delivered(
    client: AsyncClient,
    tamaris_auth: dict[str, str],
    admin_auth: dict[str, str],
    smtp_sink: SmtpSink,
) -> None:
    await active_subscriber(REFUSED)
    await active_subscriber("habitante@example.org")
    smtp_sink.reject[REFUSED] = "550 5.1.1 <refuse@example.org>: Mailbox unavailable"
    relay = make_relay(mail_settings(smtp_sink))
    await deliver_all(relay)

    failed = (await listing(client, tamaris_auth, status="failed"))["items"]
    assert len(failed) == 1
    message = failed[0]
    assert message["recipient"] == "…@example.org"  # a subscriber's, to a facilitator
    assert message["attempts"] == 1
    assert message["last_error"] == "550 5.1.1 <…@example.org>: Mailbox unavailable"
    assert message["failed_at"] is not None
    whole = (await listing(client, admin_auth, status="failed"))["items"][0]
    assert whole["recipient"] == REFUSED
    assert whole["last_error"] == "550 5.1.1 <refuse@example.org>: Mailbox unavailable"
    sent = (await listing(client, tamaris_auth, status="sent"))["items"]
    assert [m["recipient"] for m in sent] == ["…@example.org"]
    assert sent[0]["sent_at"] is not None

    # Someone else's, or someone without a council: not theirs to retry.
    rive_droite_auth = await make_facilitator("anim.rd@ales.fr", "ales-rive-droite")
    nobody_auth = await make_facilitator("sans.conseil@ales.fr")
    url = f"/api/v1/outbox/{message['id']}/retry"
    assert (await client.post(url, headers=rive_droite_auth)).status_code == 404
    assert (await client.post(url, headers=nobody_auth)).status_code == 403
    assert (await client.post("/api/v1/outbox/999999/retry", headers=admin_auth)).status_code == 404

    # The mailbox works again; the facilitator retries.
    del smtp_sink.reject[REFUSED]
    retried = await client.post(url, headers=tamaris_auth)
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["id"], body["status"], body["attempts"], body["last_error"]) == (
        message["id"], "queued", 0, "",
    )  # fmt: skip
    assert body["message_id"] == message["message_id"]
    again = await client.post(url, headers=tamaris_auth)
    assert again.status_code == 409  # queued, not failed
    assert again.json()["code"] == "message_not_failed"

    await deliver_all(relay)
    after = await listing(client, tamaris_auth)
    assert {m["status"] for m in after["items"]} == {"sent"}
    delivered = [r for r in smtp_sink.received if r.rcpt_tos == (REFUSED,)]
    assert [r.message_id for r in delivered] == [message["message_id"]]

    # A sent message is not sent again.
    sent_again = await client.post(url, headers=admin_auth)
    assert sent_again.status_code == 409
    assert sent_again.json()["code"] == "message_not_failed"
    assert "échec" in sent_again.json()["detail"]
