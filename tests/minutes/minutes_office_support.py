"""Meetings, registrants and subscribers for the minutes tests: rows written directly (their
own apps test how they come), and the emails the relay sends for minutes."""

from __future__ import annotations

import secrets
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

from conseils.db import write_transaction
from conseils.timefmt import now_utc
from meetings.tables import Meeting, Registration
from notifications.tables import Subscription
from tests.proposals.office_support import council_id
from tests.support.mail_support import send_all
from tests.support.smtp_sink import SmtpSink


async def past_meeting(
    slug: str = "ales-tamaris", *, days_ago: int = 2, status: str = "published", **values: Any
) -> int:
    """A meeting that took place `days_ago` days ago (negative: still to come)."""
    starts = now_utc() - timedelta(days=days_ago)
    async with write_transaction():
        rows = await Meeting.insert(
            Meeting(
                council=await council_id(slug),
                kind="council",
                title=values.pop("title", "Réunion plénière"),
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                status=status,
                uid=str(uuid4()),
                **values,
            )
        ).returning(Meeting.id)
    return rows[0]["id"]


async def registrant(
    meeting_id: int, email: str, *, status: str = "confirmed", attended: bool | None = None
) -> None:
    now = now_utc()
    async with write_transaction():
        await Registration.insert(
            Registration(
                meeting=meeting_id,
                key=f"{meeting_id}:{email}",
                email=email,
                name=email.split("@")[0],
                attending_as="resident",
                status=status,
                arrival=1,
                token=secrets.token_hex(32),
                consent_at=now,
                confirmed_at=now if status == "confirmed" else None,
                cancelled_at=now if status == "cancelled" else None,
                attended=attended,
            )
        )


async def subscriber(email: str, slug: str = "ales-tamaris", *, status: str = "active") -> None:
    council = await council_id(slug)
    now = now_utc()
    async with write_transaction():
        await Subscription.insert(
            Subscription(
                council=council,
                email=email,
                key=f"{council}:{email}",
                status=status,
                token=secrets.token_hex(32),
                created_at=now,
                confirmed_at=now if status == "active" else None,
            )
        )


async def minutes_mail(sink: SmtpSink) -> list[EmailMessage]:
    """Deliver everything queued; the minutes' emails the sink received so far."""
    await send_all(sink)
    found = []
    for item in sink.received:
        message = item.message
        if str(message["Subject"]).startswith("Compte rendu"):
            found.append(message)
    return found


def recipients(messages: list[EmailMessage]) -> list[str]:
    return sorted(str(m["To"]) for m in messages)
