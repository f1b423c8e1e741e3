"""Minutes as the writing side leaves them (rows, search entry, change notices, the feed
clock), inserted directly: the read side's tests do not depend on the back-office."""

from __future__ import annotations

from datetime import date
from typing import Any

from conseils import search
from conseils.db import write_transaction
from conseils.timefmt import now_utc
from meetings.tables import Council, Meeting
from minutes import files
from minutes.services import editing
from minutes.tables import Minutes, MinutesMeeting, MinutesProposal
from tests.minutes.documents_support import good_pdf


async def council_id(slug: str) -> int:
    return (await Council.select(Council.id).where(Council.slug == slug).first())["id"]


async def past_meeting(slug: str = "ales-tamaris") -> int:
    """The demo's past meeting of that council."""
    row = (
        await Meeting.select(Meeting.id)
        .where((Meeting.council == await council_id(slug)) & (Meeting.starts_at < now_utc()))
        .where(Meeting.status == "published")
        .first()
    )
    return row["id"]


async def stored_pdf(text: str = "Compte rendu") -> int:
    with files.Incoming() as incoming:
        incoming.write(good_pdf(text))
        checked = await incoming.check()
        incoming.keep(checked)
    return await files.save(checked)


async def insert_minutes(
    *,
    meeting_id: int | None = None,
    council_slug: str | None = None,
    month: date | None = None,
    status: str = "published",
    title: str = "Compte rendu de la réunion",
    summary: str = "",
    body: str = "",
    decisions: str = "",
    pdf_text: str | None = None,
    covers: tuple[int, ...] = (),
    proposals: tuple[tuple[int, str], ...] = (),
    **more: Any,
) -> int:
    file_id = await stored_pdf(pdf_text) if pdf_text is not None else None
    council = await council_id(council_slug) if council_slug else None
    if meeting_id is not None and council is None:
        row = await Meeting.select(Meeting.council).where(Meeting.id == meeting_id).first()
        council = row["council"]
    now = now_utc()
    async with write_transaction():
        row = (
            await Minutes.insert(
                Minutes(
                    council=council,
                    meeting=meeting_id,
                    month=month,
                    title=title,
                    summary=summary,
                    body=body,
                    decisions=decisions,
                    file=file_id,
                    filename="compte-rendu.pdf" if file_id else "",
                    status=status,
                    published_at=now if status == "published" else None,
                    updated_at=now,
                    **more,
                )
            ).returning(Minutes.id)
        )[0]
        minutes_id = row["id"]
        for meeting in covers:
            await MinutesMeeting.insert(
                MinutesMeeting(minutes=minutes_id, meeting=meeting, key=f"{minutes_id}:{meeting}")
            )
        for proposal_id, given in proposals:
            await MinutesProposal.insert(
                MinutesProposal(
                    minutes=minutes_id,
                    proposal=proposal_id,
                    key=f"{minutes_id}:{proposal_id}",
                    status=given,
                )
            )
        text = "\n".join(
            [summary, body, decisions, await files.text_of(file_id) if file_id else ""]
        )
        await search.index("minutes", minutes_id, council, title, text)
        await announce(minutes_id)
    return minutes_id


async def announce(minutes_id: int) -> None:
    """What the writing side does in its transaction (the very function it calls): the
    lists' change notice, and for each meeting concerned the meeting's (its page and its
    calendar event) and the feed clock (the feeds' dates)."""
    await editing.announce_change(minutes_id)


async def set_status(minutes_id: int, status: str) -> None:
    async with write_transaction():
        await Minutes.update({Minutes.status: status, Minutes.updated_at: now_utc()}).where(
            Minutes.id == minutes_id
        )
        await announce(minutes_id)
