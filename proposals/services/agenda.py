"""A meeting's agenda ("Ordre du jour"): the proposals a council will discuss, in the
facilitators' order. Shown on the meeting's page and in its calendar event's DESCRIPTION,
both contributed to the meetings app's extension points (it does not import this app).

An agenda change is not a change of the meeting: no SEQUENCE, no email. It stamps the
meeting's `AgendaChange` (the event's LAST-MODIFIED follows it), moves the feed clock of the
meeting's council (a public meeting: the feeds' Last-Modified follow) and announces the
change so that cached pages and feeds are rendered again. So does an edit of the title of a
proposal on an agenda, or a merge that moves it (`touch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from conseils import audit, changes, db, urls
from conseils.db import ids_in
from conseils.errors import Conflict, Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from meetings.services import feed_clock
from meetings.services.meetings import MeetingView
from meetings.slots import CalendarNote, PageSection
from meetings.tables import Meeting
from proposals.services import common
from proposals.tables import AgendaChange, ProposalMeeting

TITLE = "Ordre du jour"
ANCHOR = "ordre-du-jour"
MAX_ITEMS = 100
PUBLIC_MEETING = ("published", "cancelled")


@dataclass(frozen=True, slots=True)
class AgendaItem:
    proposal_id: int
    title: str
    theme: str
    status: str
    position: int


async def _meeting_row(meeting_id: int) -> dict[str, Any]:
    row = (
        await Meeting.select(Meeting.id, Meeting.council, Meeting.status, Meeting.title)
        .where(Meeting.id == meeting_id)
        .first()
        if 1 <= meeting_id <= db.MAX_ID
        else None
    )
    if row is None:
        raise NotFound("Cette réunion n'existe pas.", code="meeting_not_found")
    return row


async def items_of(meeting_ids: Sequence[int]) -> dict[int, list[AgendaItem]]:
    """The public agendas of many meetings in one query (merged or withdrawn proposals
    are left out)."""
    if not meeting_ids:
        return {}
    clause, ids = ids_in("pm.meeting", meeting_ids)
    statuses = ", ".join(f"'{s}'" for s in common.PUBLIC_STATUSES)
    rows = await ProposalMeeting.raw(
        "SELECT pm.meeting AS meeting_id, pm.position, p.id, p.title, p.theme, p.status "  # noqa: S608
        "FROM proposal_meeting pm JOIN proposal p ON p.id = pm.proposal "
        f"WHERE {clause} AND p.status IN ({statuses}) ORDER BY pm.meeting, pm.position, p.id",
        ids,
    )
    found: dict[int, list[AgendaItem]] = {}
    for row in rows:
        found.setdefault(row["meeting_id"], []).append(
            AgendaItem(row["id"], row["title"], row["theme"], row["status"], row["position"])
        )
    return found


async def agenda(meeting_id: int) -> list[AgendaItem]:
    return (await items_of([meeting_id])).get(meeting_id, [])


async def meetings_of(proposal_id: int) -> list[dict[str, Any]]:
    """The meetings whose agenda holds the proposal (id, title, starts_at, status)."""
    return await ProposalMeeting.raw(
        "SELECT m.id, m.title, m.starts_at, m.status, pm.position FROM proposal_meeting pm "
        "JOIN meeting m ON m.id = pm.meeting WHERE pm.proposal = {} ORDER BY m.starts_at",
        proposal_id,
    )


async def touch(meeting_ids: Sequence[int], now: datetime | None = None) -> None:
    """Inside the write transaction: these meetings' agendas changed (see the module)."""
    db.require_transaction("an agenda change")
    if not meeting_ids:
        return
    rows = await Meeting.select(Meeting.id, Meeting.council, Meeting.status).where(
        Meeting.id.is_in(sorted(set(meeting_ids)))
    )
    for meeting in rows:
        stamp = now or now_utc()
        if meeting["status"] in PUBLIC_MEETING:
            # The feed clock's tick is past every earlier date: LAST-MODIFIED never goes back.
            stamp = max(stamp, await feed_clock.advance(meeting["council"]))
        await AgendaChange.insert(
            AgendaChange(meeting_id=meeting["id"], changed_at=stamp)
        ).on_conflict(action="DO NOTHING")
        await AgendaChange.update({AgendaChange.changed_at: stamp}).where(
            AgendaChange.meeting_id == meeting["id"]
        )
        await changes.meeting_changed(meeting["id"], meeting["council"])


async def touch_proposal(proposal_id: int) -> None:
    """The proposal's title or place changed: every agenda holding it changed."""
    rows = await ProposalMeeting.select(ProposalMeeting.meeting).where(
        ProposalMeeting.proposal == proposal_id
    )
    await touch([row["meeting"] for row in rows])


async def put_on(
    viewer: FacilitatorView, meeting_id: int, proposal_id: int, position: int | None = None
) -> list[AgendaItem]:
    """Put a published (or later) proposal of the meeting's council on its agenda, at
    `position` (1 is first; None: last), or move it there if it is on it already. The
    agenda afterwards."""
    if position is not None and not 1 <= position <= MAX_ITEMS:
        raise InvalidInput({"position": f"entre 1 et {MAX_ITEMS}"})
    async with db.write_transaction():
        meeting = await _meeting_row(meeting_id)
        if not viewer.may_write(meeting["council"]):
            raise Forbidden(
                "Cette réunion relève d'un autre conseil citoyen.", code="not_your_council"
            )
        # The meeting's agenda, one change at a time (positions are renumbered below).
        await db.locked(Meeting.select(Meeting.id).where(Meeting.id == meeting_id))
        proposal = await common.locked_proposal(proposal_id)
        common.require_may_moderate(viewer, proposal)
        if proposal["council"] != meeting["council"]:
            raise Conflict(
                "Seules les propositions du conseil de cette réunion vont à son ordre du jour.",
                code="other_council_meeting",
            )
        if proposal["status"] not in common.PUBLIC_STATUSES:
            raise Conflict(
                "Seule une proposition publiée va à l'ordre du jour.", code="not_on_agenda_yet"
            )
        links = await ProposalMeeting.select().where(ProposalMeeting.meeting == meeting_id)
        order = [
            link["proposal"]
            for link in sorted(links, key=lambda link: (link["position"], link["id"]))
        ]
        present = proposal_id in order
        if not present and len(order) >= MAX_ITEMS:
            raise Conflict(
                f"Un ordre du jour compte {MAX_ITEMS} propositions au plus.", code="agenda_full"
            )
        wanted = [p for p in order if p != proposal_id]
        wanted.insert(
            len(wanted) if position is None else min(position - 1, len(wanted)), proposal_id
        )
        if present and wanted == order:
            return await agenda(meeting_id)  # already there: nothing changes
        if not present:
            await ProposalMeeting.insert(
                ProposalMeeting(
                    proposal=proposal_id,
                    meeting=meeting_id,
                    key=f"{meeting_id}:{proposal_id}",
                    position=len(wanted),
                    added_at=now_utc(),
                )
            )
            await common.record(
                proposal_id,
                "agenda",
                note=f"À l'ordre du jour de « {meeting['title']} » (réunion n° {meeting_id})",
                actor_id=viewer.id,
            )
        await _renumber(meeting_id, wanted)
        await audit.record(
            viewer,
            "proposal.agenda_put",
            "proposal",
            proposal_id,
            council_id=meeting["council"],
            detail=f"meeting {meeting_id}",
        )
        await touch([meeting_id])
    return await agenda(meeting_id)


async def _renumber(meeting_id: int, order: list[int]) -> None:
    for position, proposal_id in enumerate(order, start=1):
        await ProposalMeeting.update({ProposalMeeting.position: position}).where(
            (ProposalMeeting.meeting == meeting_id) & (ProposalMeeting.proposal == proposal_id)
        )


async def take_off(viewer: FacilitatorView, meeting_id: int, proposal_id: int) -> bool:
    """Take a proposal off the agenda; False when it was not on it (nothing changes)."""
    async with db.write_transaction():
        meeting = await _meeting_row(meeting_id)
        if not viewer.may_write(meeting["council"]):
            raise Forbidden(
                "Cette réunion relève d'un autre conseil citoyen.", code="not_your_council"
            )
        await db.locked(Meeting.select(Meeting.id).where(Meeting.id == meeting_id))
        gone = (
            await ProposalMeeting.delete()
            .where(
                (ProposalMeeting.meeting == meeting_id) & (ProposalMeeting.proposal == proposal_id)
            )
            .returning(ProposalMeeting.id)
        )
        if not gone:
            return False
        rest = (
            await ProposalMeeting.select(ProposalMeeting.proposal)
            .where(ProposalMeeting.meeting == meeting_id)
            .order_by(ProposalMeeting.position)
            .order_by(ProposalMeeting.id)
        )
        await _renumber(meeting_id, [row["proposal"] for row in rest])
        await common.record(
            proposal_id,
            "agenda",
            note=f"Retirée de l'ordre du jour de « {meeting['title']} » (réunion n° {meeting_id})",
            actor_id=viewer.id,
        )
        await audit.record(
            viewer,
            "proposal.agenda_remove",
            "proposal",
            proposal_id,
            council_id=meeting["council"],
            detail=f"meeting {meeting_id}",
        )
        await touch([meeting_id])
    return True


async def move_links(loser_id: int, survivor_id: int) -> list[int]:
    """A merge: the loser's agenda places go to the survivor (where it is not already);
    the meetings whose agenda changed."""
    links = await ProposalMeeting.select().where(ProposalMeeting.proposal == loser_id)
    held = {
        row["meeting"]
        for row in await ProposalMeeting.select(ProposalMeeting.meeting).where(
            ProposalMeeting.proposal == survivor_id
        )
    }
    for link in links:
        if link["meeting"] in held:
            await ProposalMeeting.delete().where(ProposalMeeting.id == link["id"])
        else:
            await ProposalMeeting.update(
                {
                    ProposalMeeting.proposal: survivor_id,
                    ProposalMeeting.key: f"{link['meeting']}:{survivor_id}",
                }
            ).where(ProposalMeeting.id == link["id"])
    return [link["meeting"] for link in links]


# ---------------------------------------------------------------- contributions


async def page_section(meeting: MeetingView) -> PageSection | None:
    """The meeting page's "Ordre du jour": links to the proposals, in order."""
    items = await agenda(meeting.id)
    if not items:
        return None
    lines = [
        Markup('<li><a href="/propositions/{}">{}</a> <span class="theme">({})</span></li>').format(
            item.proposal_id, item.title, common.THEMES.get(item.theme, item.theme)
        )
        for item in items
    ]
    return PageSection(TITLE, Markup("<ol>") + Markup("").join(lines) + Markup("</ol>"), ANCHOR)


async def calendar_notes(meeting_ids: Sequence[int]) -> dict[int, CalendarNote]:
    """Every meeting's agenda lines and its last change, in two queries however many."""
    items = await items_of(meeting_ids)
    clause, ids = ids_in("meeting_id", meeting_ids)
    stamps = {
        row["meeting_id"]: row["changed_at"]
        for row in await AgendaChange.raw(
            f"SELECT meeting_id, changed_at FROM proposal_agenda_change WHERE {clause}",  # noqa: S608
            ids,
        )
    }
    notes = {}
    for meeting_id, changed_at in stamps.items():
        lines = tuple(
            f"{n}. {item.title} — {urls.proposal_url(item.proposal_id)}"
            for n, item in enumerate(items.get(meeting_id, []), start=1)
        )
        notes[meeting_id] = CalendarNote(TITLE, lines, changed_at)
    return notes
