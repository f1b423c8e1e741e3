"""The outbox's failures in the back-office (/animation/courriels): what failed for real at
the SMTP server, with its reply; "Réessayer" and "Tout réessayer" put only failed messages
back in the queue and the relay sends them; other councils' messages stay out of reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from conseils.tables import AuditEntry
from notifications import outbox
from notifications.tables import OutboxMessage
from tests.support.backoffice_support import post_form, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import (
    active_subscriber,
    council_id,
    deliver_all,
    mail_settings,
    make_relay,
    queue_plain,
)
from tests.support.registration_support import person, published_meeting, sign_up

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink

SUBSCRIBER = "refuse@example.org"
REGISTRANT = "habitante.1@example.org"
REPLY = "550 5.1.1 <{}>: Mailbox unavailable"
TAMARIS = "anim.tamaris@ales.fr"
RIVE_DROITE = "anim.rd@ales.fr"
ADMIN = "admin@ales.fr"


async def failed_rows() -> list[dict]:
    return await OutboxMessage.select().where(OutboxMessage.status == "failed")


async def statuses() -> dict[int, str]:
    return {r["id"]: r["status"] for r in await OutboxMessage.select()}


@pytest.fixture
async def failures(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> dict[str, dict]:
    """Three Tamaris messages refused by the SMTP server (a subscriber's confirmation and
    announcement, a registrant's confirmation), by their kind."""
    smtp_sink.reject[SUBSCRIBER] = REPLY.format(SUBSCRIBER)
    smtp_sink.reject[REGISTRANT] = REPLY.format(REGISTRANT)
    await active_subscriber(SUBSCRIBER)
    meeting = await published_meeting(client, tamaris_auth)
    await sign_up(client, meeting["id"], person(1))
    await deliver_all(make_relay(mail_settings(smtp_sink)))
    rows = {r["kind"]: r for r in await failed_rows()}
    assert set(rows) == {"subscription_confirm", "meeting_published", "registration_confirmed"}
    return rows


async def test_failures_show_with_the_smtp_reply_to_their_council(
    client: httpx.AsyncClient, failures: dict[str, dict]
) -> None:
    await signed_in(client, TAMARIS)
    page = await client.get("/animation/courriels")
    assert page.status_code == 200
    html = page.text
    assert "Conseil citoyen Alès Tamaris : 3 en échec" in html
    # The registrant's address: the facilitator sees it in the registrants list anyway.
    assert REGISTRANT in html
    assert "550 5.1.1 &lt;habitante.1@example.org&gt;: Mailbox unavailable" in html
    # The subscriber's: its domain only, in the address and in the server's reply.
    assert SUBSCRIBER not in html
    assert "550 5.1.1 &lt;…@example.org&gt;: Mailbox unavailable" in html
    assert "Confirmation d&#39;abonnement" in html
    assert "Inscription confirmée" in html
    for row in failures.values():
        assert f'action="/animation/courriels/{row["id"]}/reessayer"' in html
        assert row["failed_at"] is not None
    tamaris = await council_id("ales-tamaris")
    assert f'action="/animation/courriels/conseils/{tamaris}/reessayer"' in html
    assert '<th scope="col">Réponse du serveur</th>' in html

    dashboard = await client.get("/animation/")
    assert "Conseil citoyen Alès Tamaris : 3 courriels en échec" in dashboard.text
    assert f'href="/animation/courriels#conseil-{tamaris}"' in dashboard.text
    assert 'href="/animation/courriels"' in dashboard.text  # the menu entry


async def test_retry_sends_the_message_once_and_never_a_sent_one_again(
    client: httpx.AsyncClient,
    failures: dict[str, dict],
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    woken: list[str] = []
    monkeypatch.setattr(outbox, "_wake_callbacks", [lambda: woken.append("relay")])
    await signed_in(client, TAMARIS)
    message = failures["registration_confirmed"]
    del smtp_sink.reject[REGISTRANT]  # the mailbox works again

    answer = await post_form(client, f"/animation/courriels/{message['id']}/reessayer")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/animation/courriels?renvoyes=1")
    assert woken == ["relay"]
    row = await OutboxMessage.select().where(OutboxMessage.id == message["id"]).first()
    assert (row["status"], row["attempts"], row["last_error"], row["failed_at"]) == (
        "queued", 0, "", None,
    )  # fmt: skip
    shown = await client.get(answer.headers["location"])
    assert "1 message remis en file d&#39;envoi." in shown.text
    audit = await AuditEntry.select().where(AuditEntry.action == "outbox.retry").first()
    assert (audit["object_kind"], audit["object_id"], audit["council_id"]) == (
        "outbox_message", message["id"], message["council_id"],
    )  # fmt: skip

    await deliver_all(make_relay(mail_settings(smtp_sink)))
    delivered = [r for r in smtp_sink.received if r.rcpt_tos == (REGISTRANT,)]
    assert [r.message_id for r in delivered] == [message["message_id"]]

    # Sent: "Réessayer" again is refused, and nothing goes out twice.
    again = await post_form(client, f"/animation/courriels/{message['id']}/reessayer")
    assert again.status_code == 409
    assert "Seul un message en échec peut être renvoyé." in again.text
    await deliver_all(make_relay(mail_settings(smtp_sink)))
    assert len([r for r in smtp_sink.received if r.rcpt_tos == (REGISTRANT,)]) == 1
    assert (await statuses())[message["id"]] == "sent"
    assert woken == ["relay"]


async def test_retry_all_of_a_council_requeues_only_its_failed_messages(
    client: httpx.AsyncClient, failures: dict[str, dict], smtp_sink: SmtpSink
) -> None:
    before = await statuses()
    await signed_in(client, TAMARIS)
    tamaris = await council_id("ales-tamaris")
    smtp_sink.reject.clear()
    answer = await post_form(client, f"/animation/courriels/conseils/{tamaris}/reessayer")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/animation/courriels?renvoyes=3"
    after = await statuses()
    for row_id, status in before.items():
        assert after[row_id] == ("queued" if status == "failed" else status)
    audit = await AuditEntry.select().where(AuditEntry.action == "outbox.retry_all").first()
    assert (audit["object_id"], audit["council_id"], audit["detail"]) == (
        tamaris, tamaris, "3 messages",
    )  # fmt: skip
    sent_before = len(smtp_sink.received)
    await deliver_all(make_relay(mail_settings(smtp_sink)))
    assert len(smtp_sink.received) == sent_before + 3
    assert not await failed_rows()
    nothing = await post_form(client, f"/animation/courriels/conseils/{tamaris}/reessayer")
    assert nothing.headers["location"] == "/animation/courriels?renvoyes=0"
    assert "Aucun courriel en échec dans vos conseils." in (await client.get(OUTBOX_PAGE)).text


OUTBOX_PAGE = "/animation/courriels"


async def test_a_facilitator_of_another_council_neither_sees_nor_retries(
    client: httpx.AsyncClient, failures: dict[str, dict]
) -> None:
    await make_facilitator(RIVE_DROITE, "ales-rive-droite")
    await signed_in(client, RIVE_DROITE)
    before = await statuses()
    audited = await AuditEntry.count()  # the fixture's meetings were audited
    page = await client.get(OUTBOX_PAGE)
    assert page.status_code == 200
    assert "Aucun courriel en échec dans vos conseils." in page.text
    assert "Tamaris" not in page.text and "@example.org" not in page.text
    dashboard = await client.get("/animation/")
    assert "Aucun courriel en échec dans vos conseils." in dashboard.text
    for row in failures.values():
        answer = await post_form(client, f"/animation/courriels/{row['id']}/reessayer")
        assert answer.status_code == 404
    tamaris = await council_id("ales-tamaris")
    assert (
        await post_form(client, f"/animation/courriels/conseils/{tamaris}/reessayer")
    ).status_code == 403
    assert (
        await post_form(client, "/animation/courriels/hors-conseil/reessayer")
    ).status_code == 403
    assert (await post_form(client, "/animation/courriels/999999/reessayer")).status_code == 404
    assert await statuses() == before
    assert await AuditEntry.count() == audited


async def test_messages_of_no_council_are_for_admins_only(
    client: httpx.AsyncClient, failures: dict[str, dict], smtp_sink: SmtpSink
) -> None:
    smtp_sink.reject["m0@example.org"] = REPLY.format("m0@example.org")
    await queue_plain(1)  # tied to no council, as an account's email
    await deliver_all(make_relay(mail_settings(smtp_sink)))
    lone = await OutboxMessage.select().where(OutboxMessage.recipient == "m0@example.org").first()
    assert lone["status"] == "failed"

    await signed_in(client, TAMARIS)
    page = await client.get(OUTBOX_PAGE)
    assert "m0@example.org" not in page.text and "hors conseil" not in page.text
    answer = await post_form(client, f"/animation/courriels/{lone['id']}/reessayer")
    assert answer.status_code == 404
    await post_form(client, "/animation/deconnexion")

    await make_facilitator(ADMIN, admin=True)
    await signed_in(client, ADMIN)
    page = await client.get(OUTBOX_PAGE)
    assert "Courriels hors conseil" in page.text
    assert "m0@example.org" in page.text and SUBSCRIBER in page.text  # admins see all
    assert "550 5.1.1 &lt;refuse@example.org&gt;" in page.text
    dashboard = await client.get("/animation/")
    assert 'href="/animation/courriels#hors-conseil"' in dashboard.text
    del smtp_sink.reject["m0@example.org"]
    answer = await post_form(client, "/animation/courriels/hors-conseil/reessayer")
    assert answer.headers["location"] == "/animation/courriels?renvoyes=1"
    await deliver_all(make_relay(mail_settings(smtp_sink)))
    assert (await statuses())[lone["id"]] == "sent"
    # Tamaris' failures did not move.
    assert {r["id"] for r in await failed_rows()} == {r["id"] for r in failures.values()}
