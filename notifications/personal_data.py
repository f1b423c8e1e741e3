"""What the notifications app holds about an address, for the residents' rights (export
and erasure, `conseils.personal_data`): subscriptions, and the emails written to it (outbox
rows and, without an SMTP server, their maildir files).

Also the rule that a registration deleted or erased takes its emails with it: the messages
about it (its name, its manage link) leave the outbox and the maildir in the same
transaction, the files once it has committed.
"""

from __future__ import annotations

from typing import Any

from conseils import db, personal_data
from conseils.personal_data import Keeper, json_ready
from conseils.settings import get_settings
from meetings.events import RegistrationDeleted
from notifications.tables import OutboxMessage, Subscription
from notifications.transports import forget_maildir_messages

SUBSCRIPTION_LABELS = {
    "council": "Conseil",
    "status": "Statut",
    "created_at": "Demandé le",
    "confirmed_at": "Confirmé le",
}
MESSAGE_LABELS = {"subject": "Objet", "status": "État", "created_at": "Écrit le"}


def _forget_files(message_ids: list[str]) -> None:
    """Once the rows are gone for good (after commit), their maildir files go too."""
    if message_ids:
        maildir = get_settings().mail.maildir
        db.on_commit(lambda: forget_maildir_messages(maildir, message_ids))


async def _delete_messages(condition: Any) -> int:
    gone = await OutboxMessage.delete().where(condition).returning(OutboxMessage.message_id)
    _forget_files([row["message_id"] for row in gone])
    return len(gone)


async def forget_registration(event: RegistrationDeleted) -> None:
    """The emails of a deleted or erased registration go with it; only the CANCEL just
    queued for it stays, when the person is to be told (its calendar must drop the
    meeting)."""
    person = event.registration
    condition = (OutboxMessage.meeting_id == person.meeting_id) & (
        OutboxMessage.recipient == person.email
    )
    if event.told:
        condition = condition & (
            (OutboxMessage.kind != "registration_cancelled") | (OutboxMessage.status != "queued")
        )
    await _delete_messages(condition)


async def _export_subscriptions(email: str) -> list[dict[str, Any]]:
    rows = await (
        Subscription.select(
            Subscription.council.name.as_alias("council"),
            Subscription.email,
            Subscription.status,
            Subscription.created_at,
            Subscription.confirmation_sent_at,
            Subscription.confirmed_at,
            Subscription.unsubscribed_at,
        )
        .where(Subscription.email == email)
        .order_by(Subscription.id)
    )
    return [{key: json_ready(value) for key, value in row.items()} for row in rows]


async def _erase_subscriptions(email: str) -> int:
    gone = await Subscription.delete().where(Subscription.email == email).returning(Subscription.id)
    return len(gone)


async def _export_messages(email: str) -> list[dict[str, Any]]:
    """The emails written to the address: what they were about and what became of them
    (not their bodies, which hold links that act for the person)."""
    rows = await (
        OutboxMessage.select(
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.status,
            OutboxMessage.message_id,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id)
    )
    return [{key: json_ready(value) for key, value in row.items()} for row in rows]


async def _erase_messages(email: str) -> int:
    return await _delete_messages(OutboxMessage.recipient == email)


def register() -> None:
    personal_data.keep(
        Keeper(
            name="subscriptions",
            title="Abonnements aux annonces",
            export=_export_subscriptions,
            erase=_erase_subscriptions,
            labels=SUBSCRIPTION_LABELS,
        )
    )
    personal_data.keep(
        Keeper(
            name="emails",
            title="Courriels envoyés",
            export=_export_messages,
            erase=_erase_messages,
            labels=MESSAGE_LABELS,
        )
    )
