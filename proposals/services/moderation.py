"""The facilitators' view of proposals: the moderation queue, a council's proposals in any
status, one proposal with its whole history, and the decisions on it (publish, reject with a
reason, a new status, the official answer).

Every status change goes through `common.set_status`. A facilitator sees and acts on the
proposals of their councils only (another council's: 403); an administrator on all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from conseils import audit, db, events
from conseils.errors import Conflict, Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc, to_paris
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from meetings.services.local_time import paris_to_utc
from meetings.tables import Council
from proposals.events import ProposalProgressed
from proposals.services import common
from proposals.services.common import STATUS_LABELS, THEMES
from proposals.tables import Proposal

ROLE_MAX = 120
PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class OfficeProposal:
    """A proposal as its council's facilitators see it (the author's address included)."""

    id: int
    council_id: int
    meeting_id: int | None
    title: str
    body: str
    theme: str
    author_name: str
    show_name: bool
    email: str | None
    origin: str
    status: str
    rejection_reason: str
    answer: str
    answer_role: str
    answered_at: datetime | None
    supports: int
    merged_into: int | None
    created_at: datetime
    published_at: datetime | None
    updated_at: datetime

    @property
    def theme_label(self) -> str:
        return THEMES.get(self.theme, self.theme)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def public_author(self) -> str:
        return common.public_author(
            {"show_name": self.show_name, "author_name": self.author_name, "origin": self.origin}
        )

    @property
    def moves(self) -> tuple[str, ...]:
        return common.allowed_moves(self.status)

    @property
    def answer_published(self) -> bool:
        return self.answered_at is not None

    @property
    def answerable(self) -> bool:
        return self.status in common.PUBLIC_STATUSES


_FIELDS = tuple(OfficeProposal.__dataclass_fields__)


def view_of(row: dict[str, Any]) -> OfficeProposal:
    values = {name: row[name] for name in _FIELDS if name in row}
    values["council_id"], values["meeting_id"] = row["council"], row["meeting"]
    return OfficeProposal(**values)


async def get_for(viewer: FacilitatorView, proposal_id: int) -> OfficeProposal:
    """One proposal of the viewer's councils (404 unknown, 403 another council's)."""
    row = (
        await Proposal.select().where(Proposal.id == proposal_id).first()
        if 1 <= proposal_id <= db.MAX_ID
        else None
    )
    if row is None:
        raise NotFound("Cette proposition n'existe pas.", code="proposal_not_found")
    common.require_may_moderate(viewer, row)
    return view_of(row)


def _mine(viewer: FacilitatorView) -> Any:
    """The viewer's councils as a condition (None: an administrator sees all)."""
    if viewer.is_admin:
        return None
    return Proposal.council.is_in(sorted(viewer.council_ids) or [0])


async def queue(viewer: FacilitatorView, *, limit: int = PAGE_SIZE) -> list[OfficeProposal]:
    """Proposals awaiting moderation in the viewer's councils, oldest first."""
    query = Proposal.select().where(Proposal.status == "pending")
    mine = _mine(viewer)
    if mine is not None:
        query = query.where(mine)
    rows = await query.order_by(Proposal.created_at).order_by(Proposal.id).limit(limit)
    return [view_of(row) for row in rows]


async def pending_count(viewer: FacilitatorView) -> int:
    query = Proposal.count().where(Proposal.status == "pending")
    mine = _mine(viewer)
    return await (query if mine is None else query.where(mine))


async def require_council(viewer: FacilitatorView, slug: str) -> dict[str, Any]:
    """A council the viewer runs, by slug (404 unknown, 403 another one)."""
    row = (
        None
        if "\x00" in slug
        else await Council.select(Council.id, Council.slug, Council.name)
        .where(Council.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound("Ce conseil citoyen n'existe pas.", code="council_not_found")
    if not viewer.may_write(row["id"]):
        raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")
    return row


async def of_council(
    viewer: FacilitatorView,
    council_id: int,
    *,
    status: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> tuple[list[OfficeProposal], int]:
    """A council's proposals in any status (but unconfirmed ones: no one vouched for them
    yet), newest first, with their total."""
    if not viewer.may_write(council_id):
        raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")
    if status is not None and status not in STATUS_LABELS:
        raise InvalidInput({"status": "statut inconnu"})
    where = (Proposal.council == council_id) & (Proposal.status != "unconfirmed")
    if status is not None:
        where = where & (Proposal.status == status)
    rows = (
        await Proposal.select()
        .where(where)
        .order_by(Proposal.created_at, ascending=False)
        .order_by(Proposal.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    return [view_of(row) for row in rows], await Proposal.count().where(where)


async def publish(viewer: FacilitatorView, proposal_id: int) -> OfficeProposal:
    return view_of(await common.set_status(viewer, proposal_id, "published"))


async def reject(viewer: FacilitatorView, proposal_id: int, reason: str) -> OfficeProposal:
    """Refuse a pending proposal; the reason (required) is emailed to its author."""
    return view_of(await common.set_status(viewer, proposal_id, "rejected", reason=reason))


async def change_status(viewer: FacilitatorView, proposal_id: int, status: str) -> OfficeProposal:
    """Any allowed move (409 otherwise); rejecting needs `reject` and its reason."""
    if status == "rejected":
        raise InvalidInput({"reason": "indiquez pourquoi la proposition est refusée"})
    return view_of(await common.set_status(viewer, proposal_id, status))


def answer_date(day: date | None, now: datetime) -> datetime | None:
    """The answer's date as typed: a past day at Paris noon (so it stays that day
    everywhere), today now, a later day refused."""
    if day is None or day == to_paris(now).date():
        return None
    if day > to_paris(now).date():
        raise InvalidInput({"answered_on": "la date de la réponse ne peut pas être à venir"})
    return paris_to_utc("answered_on", day, time(12, 0))


async def write_answer(
    viewer: FacilitatorView,
    proposal_id: int,
    *,
    text: str,
    role: str,
    publish: bool,
    answered_on: date | None = None,
) -> OfficeProposal:
    """Save the official answer (Markdown) and who gives it; `publish`: make it public,
    dated `answered_on` (today by default), and tell the author and the supporters who
    asked. Published once: a corrected text later is recorded, not sent again; saving the
    same published answer again changes nothing."""
    text = require_text("answer", text, max_length=common.ANSWER_MAX, multiline=True)
    role = require_text("answer_role", role, max_length=ROLE_MAX)
    now = now_utc()
    when = answer_date(answered_on, now)
    async with db.write_transaction():
        row = await common.locked_proposal(proposal_id)
        common.require_may_moderate(viewer, row)
        if row["status"] not in common.PUBLIC_STATUSES:
            raise Conflict(
                f"Une proposition « {STATUS_LABELS[row['status']]} » ne reçoit pas de réponse "
                "officielle : publiez-la d'abord.",
                code="not_answerable",
            )
        first_publication = publish and row["answered_at"] is None
        answered_at = row["answered_at"]
        if first_publication:
            answered_at = when or now
        elif publish and when is not None:
            answered_at = when
        if (
            text == row["answer"]
            and role == row["answer_role"]
            and answered_at == row["answered_at"]
        ):
            return view_of(row)  # the same form sent twice
        await Proposal.update(
            {
                Proposal.answer: text,
                Proposal.answer_role: role,
                Proposal.answered_at: answered_at,
                Proposal.updated_at: now,
            }
        ).where(Proposal.id == proposal_id)
        row = {**row, "answer": text, "answer_role": role, "answered_at": answered_at}
        public = answered_at is not None
        await common.record(
            proposal_id,
            "answered",
            status_from=row["status"],
            status_to=row["status"],
            note="" if first_publication else ("réponse corrigée" if public else "brouillon"),
            public=public,
            actor_id=viewer.id,
            at=now,
        )
        action = "proposal.answer_publish" if first_publication else "proposal.answer_save"
        await audit.record(viewer, action, "proposal", proposal_id, council_id=row["council"])
        if first_publication:
            await events.emit(
                ProposalProgressed(
                    proposal=await common.snapshot(row),
                    followers=await common.followers(row),
                    answer_published=True,
                )
            )
        await common.proposal_changed(row)
    return view_of(row)
