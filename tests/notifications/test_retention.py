"""Retention, run by the relay's scan: old finished messages go with their maildir files,
expired pending and unsubscribed subscriptions go; recent ones stay. Time moves by ageing
the stored timestamps, never by sleeping."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from conseils.timefmt import now_utc
from notifications import retention, subscriptions
from notifications.tables import OutboxMessage, Subscription
from notifications.transports import maildir_name
from tests.support.mail_support import (
    deliver_all,
    mail_settings,
    make_relay,
    queue_plain,
    token_of,
)

RETENTION = timedelta(days=30)  # OUTBOX_RETENTION_DAYS' default


async def age_messages(message_ids: list[str], by: timedelta) -> None:
    when = now_utc() - by
    await OutboxMessage.update(
        {
            OutboxMessage.created_at: when,
            OutboxMessage.next_attempt_at: when,
            OutboxMessage.sent_at: when,
        }
    ).where(OutboxMessage.message_id.is_in(message_ids))


def maildir_files(maildir: Path) -> set[str]:
    return {p.name.split(":")[0] for d in ("new", "cur") for p in (maildir / d).glob("*")}


async def test_old_finished_messages_go_with_their_files_recent_ones_stay(tmp_path: Path) -> None:
    settings = mail_settings(maildir=tmp_path / "box")
    relay = make_relay(settings)
    ids = await queue_plain(6)
    assert await deliver_all(relay) == 6
    assert maildir_files(tmp_path / "box") == {maildir_name(m) for m in ids}
    sent_old, sent_recent = ids[:2], ids[2:3]
    failed_old, cancelled_old, queued_old = ids[3:4], ids[4:5], ids[5:6]
    await OutboxMessage.update({OutboxMessage.status: "failed"}).where(
        OutboxMessage.message_id.is_in(failed_old)
    )
    await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
        OutboxMessage.message_id.is_in(cancelled_old)
    )
    await OutboxMessage.update({OutboxMessage.status: "queued"}).where(
        OutboxMessage.message_id.is_in(queued_old)
    )
    await age_messages(
        sent_old + failed_old + cancelled_old + queued_old, RETENTION + timedelta(hours=1)
    )
    await age_messages(sent_recent, RETENTION - timedelta(hours=1))

    purged = await relay.purge_old()

    assert purged.messages == 4 and purged.files == 4
    left = await OutboxMessage.select(OutboxMessage.message_id).output(as_list=True)
    assert sorted(left) == sorted(sent_recent + queued_old)  # a queued one is never deleted
    assert maildir_files(tmp_path / "box") == {maildir_name(m) for m in sent_recent + queued_old}
    # Again, and by two relays at once: nothing more goes, nothing fails.
    again = await asyncio.gather(relay.purge_old(), make_relay(settings, "other").purge_old())
    assert [p.messages for p in again] == [0, 0]
    assert await OutboxMessage.count() == 2


async def test_a_large_backlog_is_deleted_in_batches(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    settings = mail_settings(maildir=tmp_path / "box")
    relay = make_relay(settings)
    ids = await queue_plain(10)
    await deliver_all(relay)
    await age_messages(ids, RETENTION * 2)
    purged = await relay.purge_old()
    assert purged.messages == 10 and purged.files == 10
    assert await OutboxMessage.count() == 0
    assert maildir_files(tmp_path / "box") == set()


async def test_pending_subscriptions_expire_after_seven_days(demo: None) -> None:
    await subscriptions.subscribe("ales-tamaris", "ancien@example.org")
    await subscriptions.subscribe("ales-tamaris", "recent@example.org")
    old = now_utc() - timedelta(days=7, hours=1)
    await Subscription.update(
        {Subscription.created_at: old, Subscription.confirmation_sent_at: old}
    ).where(Subscription.email == "ancien@example.org")
    purged = await make_relay(mail_settings()).purge_old()
    assert purged.subscriptions == 1
    left = await Subscription.select(Subscription.email).output(as_list=True)
    assert left == ["recent@example.org"]


async def test_unsubscribed_subscriptions_are_deleted_and_their_links_still_answer(
    demo: None, client: httpx.AsyncClient
) -> None:
    await subscriptions.subscribe("ales-tamaris", "parti@example.org")
    await subscriptions.subscribe("ales-tamaris", "reste@example.org")
    token = await token_of("parti@example.org")
    await subscriptions.confirm(token)
    await subscriptions.confirm(await token_of("reste@example.org"))
    await subscriptions.unsubscribe(token)

    assert (await make_relay(mail_settings()).purge_old()).subscriptions == 1
    left = await Subscription.select(Subscription.email, Subscription.status)
    assert left == [{"email": "reste@example.org", "status": "active"}]

    page = await client.get(f"/abonnements/{token}/desabonner")
    assert page.status_code == 200
    assert "n'est plus abonnée" in page.text
    assert "parti@example.org" not in page.text
    # RFC 8058 one-click, as a mail provider's server sends it.
    one_click = await client.post(
        f"/abonnements/{token}/desabonner",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "n'est plus abonnée" in one_click.text
    # A malformed token is still not a page.
    assert (await client.get("/abonnements/pas-un-jeton/desabonner")).status_code == 404
