"""Subscriptions to a council's announcements, over HTTP: the form and the API, double opt-in,
no flooding, no telling who is subscribed, and RFC 8058 one-click unsubscribe.

Mail is delivered by the relay to a real SMTP server (aiosmtpd), and links are followed from
the messages received, as a resident would.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from httpx import AsyncClient
from litestar import Litestar

from conseils.timefmt import now_utc
from notifications.fanout import expand_all
from notifications.tables import FanoutJob, OutboxMessage, Subscription
from tests.support.dates import LIKE_2031
from tests.support.mail_support import (
    active_subscriber,
    create_meeting,
    forget_confirmations,
    plain_text,
    publish,
    rows,
    send_all,
)

if TYPE_CHECKING:
    from tests.support.smtp_sink import SmtpSink


ADDRESS = "habitante@example.org"
API = "/api/v1/councils/ales-tamaris/subscriptions"
PAGE = "/conseils/ales-tamaris/abonnement"
FORM = {"content-type": "application/x-www-form-urlencoded"}
ONE_CLICK = "List-Unsubscribe=One-Click"
TOKEN_RE = r"/abonnements/([A-Za-z0-9_-]{43})/(confirmer|desabonner)"


async def status_of(email: str) -> str | None:
    row = await Subscription.select(Subscription.status).where(Subscription.email == email).first()
    return None if row is None else row["status"]


async def confirmations_to(email: str) -> int:
    return await OutboxMessage.count().where(
        (OutboxMessage.kind == "subscription_confirm") & (OutboxMessage.recipient == email)
    )


def link_in(text: str, action: str) -> str:
    """The path of the confirmation or unsubscribe link in a message."""
    found = re.search(rf"https?://\S+{TOKEN_RE}", text)
    assert found is not None, text
    assert found.group(2) == action
    return urlsplit(found.group(0)).path


# ---------------------------------------------------------------- refusing bad input


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("pas-une-adresse", "adresse électronique invalide"),
        ("a@b", "adresse électronique invalide"),
        ("habitante@example.org\r\nBcc: evil@example.org", "adresse électronique invalide"),
        ("x" * 250 + "@example.org", "adresse électronique invalide"),
        ("", "indiquez votre adresse électronique"),
        ("   ", "indiquez votre adresse électronique"),
    ],
)
async def test_api_refuses_a_malformed_address_naming_the_field(
    client: AsyncClient, demo: None, email: str, reason: str
) -> None:
    response = await client.post(API, json={"email": email})
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    assert body["extra"] == [{"key": "email", "message": reason}]
    assert await Subscription.count() == 0
    assert await rows() == []


async def test_api_refuses_other_shapes(client: AsyncClient, demo: None) -> None:
    missing = await client.post(API, json={})
    assert missing.status_code == 400
    assert "email" in str(missing.json())
    unknown_field = await client.post(API, json={"email": ADDRESS, "admin": True})
    assert unknown_field.status_code == 400
    unknown_council = await client.post(
        "/api/v1/councils/nulle-part/subscriptions", json={"email": ADDRESS}
    )
    assert unknown_council.status_code == 404
    assert await Subscription.count() == 0


async def test_page_refuses_a_malformed_address_in_french(client: AsyncClient, demo: None) -> None:
    typed = '"><script>alert(1)</script>'
    response = await client.post(PAGE, data={"email": typed})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="fr">' in page
    assert "L'adresse indiquée n'est pas valable." in page
    assert "Adresse électronique : adresse électronique invalide." in page
    assert 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page  # echoed, escaped
    assert "&lt;script&gt;" in page or "&#34;&gt;&lt;script&gt;" in page
    empty = await client.post(PAGE, data={"email": ""})
    assert empty.status_code == 400
    assert "Adresse électronique : indiquez votre adresse électronique." in empty.text
    assert (
        await client.post("/conseils/nulle-part/abonnement", data={"email": ADDRESS})
    ).status_code == 404
    assert await Subscription.count() == 0
    assert await rows() == []


async def test_the_honeypot_subscribes_no_one(client: AsyncClient, demo: None) -> None:
    response = await client.post(PAGE, data={"email": ADDRESS, "site_web": "http://spam"})
    assert response.status_code == 200
    assert "Vérifiez votre boîte aux lettres." in response.text
    assert await Subscription.count() == 0
    assert await rows() == []


# ---------------------------------------------------------------- telling nothing, flooding no one


async def test_the_answer_is_the_same_for_new_pending_and_active(
    client: AsyncClient, demo: None
) -> None:
    first = await client.post(API, json={"email": ADDRESS})  # new
    second = await client.post(API, json={"email": ADDRESS})  # pending
    await active_subscriber("active@example.org")
    third = await client.post(API, json={"email": "Active@Example.org"})  # active
    answers = [(r.status_code, r.json()) for r in (first, second, third)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202
    assert answers[0][1]["status"] == "pending"
    assert "courriel de confirmation" in answers[0][1]["detail"]

    pages = [
        await client.post(PAGE, data={"email": email})
        for email in ("nouvelle@example.org", "nouvelle@example.org", "active@example.org")
    ]
    assert {p.status_code for p in pages} == {200}
    assert pages[0].text == pages[1].text == pages[2].text
    assert "Vérifiez votre boîte aux lettres." in pages[0].text

    assert await status_of("active@example.org") == "active"
    assert await confirmations_to(ADDRESS) == 1
    assert await confirmations_to("nouvelle@example.org") == 1
    assert await confirmations_to("active@example.org") == 1  # the one it was confirmed with


async def test_the_confirmation_is_not_sent_again_within_ten_minutes(
    client: AsyncClient, demo: None, smtp_sink: SmtpSink
) -> None:
    for _ in range(5):
        assert (await client.post(API, json={"email": ADDRESS})).status_code == 202
        assert (await client.post(PAGE, data={"email": ADDRESS})).status_code == 200
    assert await confirmations_to(ADDRESS) == 1
    # Nine minutes later: still not.
    await Subscription.update(
        {Subscription.confirmation_sent_at: now_utc() - timedelta(minutes=9)}, force=True
    )
    await client.post(API, json={"email": ADDRESS})
    assert await confirmations_to(ADDRESS) == 1
    # Eleven minutes later: once more, with the same link.
    await Subscription.update(
        {Subscription.confirmation_sent_at: now_utc() - timedelta(minutes=11)}, force=True
    )
    await client.post(API, json={"email": ADDRESS})
    await client.post(API, json={"email": ADDRESS})
    assert await confirmations_to(ADDRESS) == 2
    sent = await send_all(smtp_sink)
    assert len(sent) == 2
    links = {link_in(plain_text(m), "confirmer") for m in sent.values()}
    assert len(links) == 1


async def test_a_double_submit_sends_one_confirmation(client: AsyncClient, demo: None) -> None:
    answers = await asyncio.gather(
        *(client.post(PAGE, data={"email": ADDRESS}) for _ in range(3)),
        *(client.post(API, json={"email": ADDRESS}) for _ in range(3)),
    )
    assert [r.status_code for r in answers] == [200] * 3 + [202] * 3
    assert await Subscription.count() == 1
    assert await confirmations_to(ADDRESS) == 1


# ---------------------------------------------------------------- double opt-in


async def test_double_opt_in_from_the_email_link(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    assert (await client.post(PAGE, data={"email": "Habitante@Example.org"})).status_code == 200
    assert await status_of(ADDRESS) == "pending"
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])

    # A pending address receives the confirmation and nothing else.
    sent = await send_all(smtp_sink)
    [confirmation] = sent.values()
    assert [r.rcpt_tos for r in smtp_sink.received] == [(ADDRESS,)]
    assert confirmation["Subject"].startswith("Confirmez votre abonnement")
    assert [r["kind"] for r in await rows()] == ["subscription_confirm"]

    link = link_in(plain_text(confirmation), "confirmer")
    form = await client.get(link)
    assert form.status_code == 200
    assert "Abonnement aux annonces" in form.text
    assert (
        '<form method="post"><button type="submit">Confirmer mon abonnement</button>' in form.text
    )
    assert await status_of(ADDRESS) == "pending"  # a GET (a link preview) confirms nothing

    done = await client.post(link)
    assert done.status_code == 200
    assert "C'est confirmé." in done.text
    assert await status_of(ADDRESS) == "active"
    again = await client.post(link)  # confirming twice is harmless
    assert again.status_code == 200
    assert "C'est confirmé." in again.text
    assert await status_of(ADDRESS) == "active"
    assert "C'est confirmé." in (await client.get(link)).text

    # From now on, announcements arrive.
    moved = await client.patch(
        f"/api/v1/meetings/{meeting['id']}",
        json={"starts_at": f"{LIKE_2031}-03-12T18:30:00+01:00"},
        headers=tamaris_auth,
    )
    assert moved.status_code == 200
    sent = await send_all(smtp_sink)
    kinds = {r["message_id"]: r["kind"] for r in await rows()}
    assert sorted(kinds[message_id] for message_id in sent) == [
        "meeting_changed", "subscription_confirm",
    ]  # fmt: skip
    assert [r.rcpt_tos for r in smtp_sink.received] == [(ADDRESS,), (ADDRESS,)]
    assert await confirmations_to(ADDRESS) == 1


# ---------------------------------------------------------------- one-click unsubscribe


async def test_one_click_unsubscribe_from_the_list_unsubscribe_header(
    app: Litestar, client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    await active_subscriber(ADDRESS)
    await active_subscriber("voisin@example.org")
    await forget_confirmations()
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    sent = await send_all(smtp_sink)
    [announcement] = [m for m in sent.values() if m["To"] == ADDRESS]
    assert announcement["List-Unsubscribe-Post"] == ONE_CLICK
    header = announcement["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")
    link = urlsplit(header[1:-1]).path
    assert re.fullmatch(TOKEN_RE, link)
    assert link == link_in(plain_text(announcement), "desabonner")

    page = await client.get(link)
    assert page.status_code == 200
    assert "Désabonnement" in page.text
    assert '<form method="post"><button type="submit">Me désabonner</button>' in page.text
    assert await status_of(ADDRESS) == "active"  # showing the page changes nothing

    # What a mail provider sends (RFC 8058): a POST with that body, no cookie, no token.
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver.local") as bare:
        response = await bare.post(link, content=ONE_CLICK.encode(), headers=FORM)
        assert "cookie" not in response.request.headers
        assert "authorization" not in response.request.headers
    assert response.status_code == 200
    assert "Vous êtes désabonné(e)." in response.text
    assert await status_of(ADDRESS) == "unsubscribed"
    again = await client.post(link, content=ONE_CLICK.encode(), headers=FORM)
    assert again.status_code == 200
    # RFC 8058 also allows multipart/form-data for the same POST.
    multipart = await client.post(link, files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200
    assert "Vous êtes désabonné(e)." in multipart.text
    assert await status_of(ADDRESS) == "unsubscribed"

    # No further announcement for them; the neighbour still gets one.
    cancelled = await client.post(f"/api/v1/meetings/{meeting['id']}/cancel", headers=tamaris_auth)
    assert cancelled.status_code == 200
    recipients = [(r["kind"], r["recipient"]) for r in await rows()]
    assert ("meeting_cancelled", "voisin@example.org") in recipients
    assert ("meeting_cancelled", ADDRESS) not in recipients
    before = len(smtp_sink.received)
    await send_all(smtp_sink)
    assert [r.rcpt_tos for r in smtp_sink.received[before:]] == [("voisin@example.org",)]


async def test_after_unsubscribing_a_new_subscription_needs_confirming_again(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    token = await active_subscriber(ADDRESS)
    response = await client.post(
        f"/abonnements/{token}/desabonner", content=ONE_CLICK, headers=FORM
    )
    assert response.status_code == 200
    # The old confirmation link does not bring the subscription back.
    stale = await client.post(f"/abonnements/{token}/confirmer")
    assert stale.status_code == 200
    assert "Vous vous êtes désabonné(e)." in stale.text
    assert await status_of(ADDRESS) == "unsubscribed"

    await forget_confirmations()
    assert (await client.post(API, json={"email": ADDRESS})).status_code == 202
    assert await status_of(ADDRESS) == "pending"
    assert await confirmations_to(ADDRESS) == 1
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    assert [r["kind"] for r in await rows()] == ["subscription_confirm"]


async def test_unsubscribing_cancels_what_is_still_queued_for_that_address(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    token = await active_subscriber(ADDRESS)
    await active_subscriber("voisin@example.org")
    await active_subscriber(ADDRESS, "ales-rive-droite")  # another council: not affected
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])
    await expand_all()  # the relay made the announcement's messages; none sent yet
    response = await client.post(
        f"/abonnements/{token}/desabonner", content=ONE_CLICK, headers=FORM
    )
    assert response.status_code == 200
    statuses = {(r["kind"], r["recipient"]): r["status"] for r in await rows()}
    assert statuses[("meeting_published", ADDRESS)] == "cancelled"
    assert statuses[("meeting_published", "voisin@example.org")] == "queued"
    assert statuses[("subscription_confirm", ADDRESS)] == "queued"  # not an announcement
    await send_all(smtp_sink)
    delivered = sorted(r.rcpt_tos[0] for r in smtp_sink.received)
    assert delivered == [ADDRESS, ADDRESS, "voisin@example.org", "voisin@example.org"]
    published_to = [
        r.rcpt_tos[0] for r in smtp_sink.received if r.message["Subject"].startswith("Nouvelle")
    ]
    assert published_to == ["voisin@example.org"]


async def test_unsubscribing_before_the_announcement_is_expanded_gets_nothing(
    client: AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    token = await active_subscriber(ADDRESS)
    await active_subscriber("voisin@example.org")
    meeting = await create_meeting(client, tamaris_auth)
    await publish(client, tamaris_auth, meeting["id"])  # one fan-out job, not yet expanded
    assert await FanoutJob.count().where(FanoutJob.status == "pending") == 1
    response = await client.post(
        f"/abonnements/{token}/desabonner", content=ONE_CLICK, headers=FORM
    )
    assert response.status_code == 200
    announced = [(r["recipient"], r["status"]) for r in await rows("meeting_published")]
    assert announced == [("voisin@example.org", "queued")]
    await send_all(smtp_sink)
    assert sorted(
        r.rcpt_tos[0] for r in smtp_sink.received if r.message["Subject"].startswith("Nouvelle")
    ) == ["voisin@example.org"]


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "x" * 42,
        "x" * 44,
        "x" * 43,  # the right shape, but no such subscription
        "!" * 43,
        "%2E%2E" + "x" * 37,
        "x" * 64,
    ],
)
@pytest.mark.parametrize("action", ["confirmer", "desabonner"])
async def test_a_bad_token_is_404(client: AsyncClient, demo: None, token: str, action: str) -> None:
    await active_subscriber(ADDRESS)
    url = f"/abonnements/{token}/{action}"
    # A well-formed unsubscribe link without its subscription is one retention deleted: it
    # answers that the address is no longer subscribed (test_retention.py), and acts on none.
    expected = 200 if action == "desabonner" and token == "x" * 43 else 404
    shown = await client.get(url)
    assert shown.status_code == expected
    assert '<html lang="fr">' in shown.text
    posted = await client.post(url, content=ONE_CLICK, headers=FORM)
    assert posted.status_code == expected
    assert await status_of(ADDRESS) == "active"
