"""What every part of the proposals app shares: themes, statuses and the moves between them,
the public name of an author, the dated history, and the one way a status changes.

Residents' pages, the back-office, the API and the minutes (which set the status of the
proposals a meeting discussed) all change a status through `set_status`, so the history,
the audit line, the emails and the cache notices cannot differ between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conseils import audit, changes, db, events, search
from conseils.errors import Conflict, Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Council
from proposals.events import ProposalModerated, ProposalProgressed, ProposalSnapshot
from proposals.tables import Proposal, ProposalHistory, Support

TITLE_MAX = 150
BODY_MAX = 5_000
REASON_MAX = 2_000
ANSWER_MAX = 10_000
NAME_MAX = 100

THEMES: dict[str, str] = {
    "cadre_de_vie": "Cadre de vie",
    "proprete": "Propreté",
    "jeunesse": "Jeunesse",
    "emploi_formation": "Emploi et formation",
    "sante": "Santé",
    "culture_sport": "Culture et sport",
    "securite_tranquillite": "Sécurité et tranquillité",
    "mobilite": "Mobilité",
    "autre": "Autre",
}

STATUS_LABELS: dict[str, str] = {
    "unconfirmed": "À confirmer par son auteur",
    "pending": "En attente de modération",
    "published": "Publiée",
    "rejected": "Refusée",
    "under_study": "À l'étude",
    "accepted": "Retenue",
    "declined": "Non retenue",
    "done": "Réalisée",
    "merged": "Fusionnée",
}

ORIGINS = ("online", "collected_at_meeting")

# Shown to everyone (lists, pages, feeds, API). A merged proposal has its own page, which
# points to the survivor; rejected, pending and unconfirmed ones are never public.
PUBLIC_STATUSES = ("published", "under_study", "accepted", "declined", "done")
# Statuses reached after publication: a change among them tells the followers.
FOLLOW_UP_STATUSES = ("published", "under_study", "accepted", "declined", "done")
# A moderator decides on a pending proposal; afterwards it moves among the follow-up ones.
MODERATION = {"pending": ("published", "rejected")}

ANONYMOUS_ONLINE = "Une habitante ou un habitant"
ANONYMOUS_CAFE = "Anonyme"


def allowed_moves(status: str) -> tuple[str, ...]:
    """The statuses a facilitator may give a proposal that has `status`."""
    if status in MODERATION:
        return MODERATION[status]
    if status in FOLLOW_UP_STATUSES:
        return tuple(s for s in FOLLOW_UP_STATUSES if s != status)
    if status == "rejected":
        return ("published",)  # a moderator changed their mind
    return ()


def require_theme(value: str) -> str:
    if value not in THEMES:
        raise InvalidInput({"theme": "choisissez un thème dans la liste"})
    return value


def public_author(row: dict[str, Any]) -> str:
    """The author as the public sees them: their name only if they ticked it."""
    if row["show_name"] and row["author_name"]:
        return row["author_name"]
    if row["origin"] == "collected_at_meeting":
        return ANONYMOUS_CAFE
    return ANONYMOUS_ONLINE


async def record(
    proposal_id: int,
    action: str,
    *,
    status_from: str = "",
    status_to: str = "",
    note: str = "",
    public: bool = True,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """One dated line of a proposal's history, inside the change's write transaction."""
    db.require_transaction("writing a proposal's history")
    await ProposalHistory.insert(
        ProposalHistory(
            proposal=proposal_id,
            at=at or now_utc(),
            action=action,
            status_from=status_from,
            status_to=status_to,
            note=note,
            public=public,
            actor_id=actor_id,
        )
    )


async def locked_proposal(proposal_id: int) -> dict[str, Any]:
    """The proposal's row, locked for the rest of the write transaction."""
    db.require_transaction("changing a proposal")
    row = await db.locked(Proposal.select().where(Proposal.id == proposal_id)).first()
    if row is None:
        raise NotFound("Cette proposition n'existe pas.", code="proposal_not_found")
    return row


def require_may_moderate(viewer: FacilitatorView, row: dict[str, Any]) -> None:
    if not viewer.may_write(row["council"]):
        raise Forbidden(
            "Cette proposition relève d'un autre conseil citoyen.", code="not_your_council"
        )


async def snapshot(row: dict[str, Any]) -> ProposalSnapshot:
    """The proposal as its emails show it (with its council's public details)."""
    council = (
        await Council.select(Council.slug, Council.name, Council.contact_email)
        .where(Council.id == row["council"])
        .first()
    )
    assert council is not None  # a proposal's council is deleted with it (cascade)
    return ProposalSnapshot(
        id=row["id"],
        council_id=row["council"],
        council_slug=council["slug"],
        council_name=council["name"],
        contact_email=council["contact_email"],
        title=row["title"],
        status=row["status"],
        rejection_reason=row["rejection_reason"],
        answer=row["answer"],
        answer_role=row["answer_role"],
        answered_at=row["answered_at"],
    )


async def followers(row: dict[str, Any]) -> tuple[str, ...]:
    """Who is told of a status change or an answer: the author (if they left an address)
    and the confirmed supporters who asked, each address once."""
    found: dict[str, None] = {}
    if row["email"]:
        found[row["email"]] = None
    supporters = await Support.select(Support.email).where(
        (Support.proposal == row["id"])
        & (Support.status == "confirmed")
        & (Support.wants_news.eq(True))
    )
    for supporter in supporters:
        found.setdefault(supporter["email"], None)
    return tuple(found)


SEARCH_KIND = "proposal"


async def refresh_search(row: dict[str, Any]) -> None:
    """Keep the search index holding exactly the public proposals, as they read now: call it
    in the write transaction of any change of status, title or text (publication, edit,
    merge)."""
    if row["status"] in PUBLIC_STATUSES:
        await search.index(SEARCH_KIND, row["id"], row["council"], row["title"], row["body"])
    else:
        await search.unindex(SEARCH_KIND, row["id"])


async def proposal_changed(row: dict[str, Any]) -> None:
    """Tell the caches showing this proposal (its meetings' agendas) that it changed."""
    if row["meeting"] is not None:
        await changes.meeting_changed(row["meeting"], row["council"])


async def set_status(
    viewer: FacilitatorView,
    proposal_id: int,
    status: str,
    *,
    reason: str = "",
) -> dict[str, Any]:
    """Move a proposal to `status` (a decision of moderation, or its progress afterwards),
    with its history line, audit line, emails and cache notices; the updated row.

    Rejecting needs a reason (it is sent to the author). Giving the status it already has is
    a no-op (a double click sends nothing twice).
    """
    if status not in STATUS_LABELS:
        raise InvalidInput({"status": "statut inconnu"})
    reason = require_text("reason", reason, max_length=REASON_MAX, required=False, multiline=True)
    if status == "rejected" and not reason:
        raise InvalidInput({"reason": "indiquez pourquoi la proposition est refusée"})
    async with db.write_transaction():
        row = await locked_proposal(proposal_id)
        require_may_moderate(viewer, row)
        before = row["status"]
        if before == status:
            return row
        if status not in allowed_moves(before):
            raise Conflict(
                f"Une proposition « {STATUS_LABELS[before]} » ne peut pas passer à "
                f"« {STATUS_LABELS[status]} ».",
                code="invalid_transition",
            )
        now = now_utc()
        values: dict[Any, Any] = {
            Proposal.status: status,
            Proposal.status_changed_at: now,
            Proposal.updated_at: now,
        }
        if status == "rejected":
            values[Proposal.rejection_reason] = reason
        if status == "published" and row["published_at"] is None:
            values[Proposal.published_at] = now
        await Proposal.update(values).where(Proposal.id == proposal_id)
        row = await Proposal.select().where(Proposal.id == proposal_id).first()
        assert row is not None  # locked above
        await record(
            proposal_id,
            "rejected" if status == "rejected" else "status",
            status_from=before,
            status_to=status,
            note=reason,
            public=status != "rejected",
            actor_id=viewer.id,
            at=now,
        )
        await audit.record(
            viewer, f"proposal.{status}", "proposal", proposal_id, council_id=row["council"]
        )
        shown = await snapshot(row)
        if before in MODERATION or before == "rejected":
            if row["email"]:
                await events.emit(ProposalModerated(proposal=shown, author_email=row["email"]))
        else:
            await events.emit(
                ProposalProgressed(
                    proposal=shown, followers=await followers(row), answer_published=False
                )
            )
        await refresh_search(row)
        await proposal_changed(row)
    return row


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    action: str
    status_from: str
    status_to: str
    note: str
    public: bool


async def history(
    proposal_id: int, *, public_only: bool, private_notes: bool = False
) -> list[HistoryLine]:
    """A proposal's dated changes, oldest first (the public timeline leaves out moderation
    notes and edits; `private_notes`: the facilitators' page shows every note)."""
    query = ProposalHistory.select().where(ProposalHistory.proposal == proposal_id)
    if public_only:
        query = query.where(ProposalHistory.public.eq(True))
    rows = await query.order_by(ProposalHistory.at).order_by(ProposalHistory.id)
    return [
        HistoryLine(
            at=r["at"],
            action=r["action"],
            status_from=r["status_from"],
            status_to=r["status_to"],
            note=r["note"] if r["public"] or private_notes else "",
            public=r["public"],
        )
        for r in rows
    ]
