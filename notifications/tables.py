"""Piccolo tables of the notifications app: the outbox and the announcement subscriptions."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from meetings.tables import Council


class OutboxMessage(Table):
    """One email to send, written in the transaction of the change that causes it.

    The row holds the message itself, built once with a Message-ID fixed at creation, so that
    a message sent twice (a worker killed between the SMTP server's acceptance and the row's
    update) is recognisable as the same message.
    """

    idempotency_key = Varchar(length=200, unique=True)
    kind = Varchar(length=40)
    recipient = Varchar(length=254)
    subject = Varchar(length=300)
    # The whole message as sent (headers and MIME body, ASCII), built when queued: every
    # retry sends the same bytes, and the relay only has to send.
    mime = Text(default="")
    message_id = Varchar(length=250, unique=True)
    council_id = Integer(null=True, default=None, index=True)
    meeting_id = Integer(null=True, default=None)
    status = Varchar(length=16, default="queued", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    lease_until = Timestamptz(null=True, default=None)
    leased_by = Varchar(length=100, null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)  # when it last failed for good


class Subscription(Table):
    """A resident's wish to receive a council's announcements, confirmed by a link.

    `token` is the capability in the confirmation and unsubscribe links: random, 256 bits,
    the only way to act on the subscription without an account.
    """

    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=False, index=True)
    email = Varchar(length=254, index=True)
    # "council id:email": one subscription per address and council, enforced by the database.
    key = Varchar(length=300, unique=True)
    status = Varchar(length=16, default="pending")  # pending, active, unsubscribed
    token = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    confirmation_sent_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    unsubscribed_at = Timestamptz(null=True, default=None)


class FanoutJob(Table):
    """One announcement to a council's subscribers, queued in the transaction of the change
    and expanded into outbox messages by the relay, a batch per transaction.

    `cursor` is the last subscription expanded: it moves in the same transaction as the
    messages it queued, so a relay killed mid-expansion resumes where the last committed
    batch ended (and the messages' idempotency keys would refuse a second copy anyway).
    `payload` holds what the messages say (JSON), fixed when the change was made.
    """

    key = Varchar(length=200, unique=True)
    kind = Varchar(length=40)
    council_id = Integer(index=True)
    meeting_id = Integer(null=True, default=None, index=True)
    payload = Text()
    status = Varchar(length=16, default="pending", index=True)  # pending, done, cancelled
    cursor = Integer(default=0)
    queued = Integer(default=0)  # messages queued so far
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
