"""Facilitators' corrections: a typo edited (the original kept in the history), and two
duplicates merged into one.

A merge folds the loser into the survivor: the loser gets status `merged` and points to the
survivor (`merged_into`); its supports move over without counting any address twice (an
address that supported both keeps one support, confirmed if either was, wanting news if
either did); both counts are then recomputed from the confirmed supports themselves; its
agenda places go to the survivor. A merged proposal is never merged again, nor merged into.
"""

from __future__ import annotations

import json
from typing import Any

from conseils import audit, db
from conseils.errors import Conflict, InvalidInput
from conseils.timefmt import now_utc
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from proposals.services import agenda, common
from proposals.services.moderation import OfficeProposal, view_of
from proposals.tables import Proposal, Support

EDITABLE = ("title", "body", "theme")
# What a merge may fold, and into what: never an unconfirmed one (no one vouched for it),
# never a merged one.
MERGEABLE = ("pending", "rejected", *common.PUBLIC_STATUSES)
SURVIVORS = ("pending", *common.PUBLIC_STATUSES)


async def edit(
    viewer: FacilitatorView,
    proposal_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    theme: str | None = None,
) -> OfficeProposal:
    """Correct the title, text or theme; the history keeps what was replaced (a private
    line: its note is the JSON of the old values). Nothing changed: nothing recorded."""
    wanted: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value, limit, multiline in (
        ("title", title, common.TITLE_MAX, False),
        ("body", body, common.BODY_MAX, True),
    ):
        if value is None:
            continue
        try:
            wanted[name] = require_text(
                name, value, max_length=limit, required=name == "title", multiline=multiline
            )
        except InvalidInput as exc:
            errors.update(exc.errors)
    if theme is not None:
        try:
            wanted["theme"] = common.require_theme(theme)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    async with db.write_transaction():
        row = await common.locked_proposal(proposal_id)
        common.require_may_moderate(viewer, row)
        if row["status"] == "merged":
            raise Conflict(
                "Cette proposition a été fusionnée : corrigez celle qui la remplace.",
                code="proposal_merged",
            )
        replaced = {name: row[name] for name, value in wanted.items() if row[name] != value}
        if not replaced:
            return view_of(row)
        now = now_utc()
        values: dict[Any, Any] = {getattr(Proposal, name): wanted[name] for name in replaced}
        values[Proposal.updated_at] = now
        await Proposal.update(values).where(Proposal.id == proposal_id)
        await common.record(
            proposal_id,
            "edited",
            note=json.dumps(replaced, ensure_ascii=False, sort_keys=True),
            public=False,
            actor_id=viewer.id,
            at=now,
        )
        await audit.record(
            viewer,
            "proposal.edit",
            "proposal",
            proposal_id,
            council_id=row["council"],
            detail=",".join(sorted(replaced)),
        )
        row = {**row, **{name: wanted[name] for name in replaced}, "updated_at": now}
        await common.proposal_changed(row)
        await common.refresh_search(row)
        if "title" in replaced:
            await agenda.touch_proposal(proposal_id)  # agendas show its title
    return view_of(row)


async def _confirmed_count(proposal_id: int) -> int:
    return await Support.count().where(
        (Support.proposal == proposal_id) & (Support.status == "confirmed")
    )


async def _move_supports(loser_id: int, survivor_id: int) -> None:
    """Each address once on the survivor (see the module)."""
    theirs = {
        row["email"]: row for row in await Support.select().where(Support.proposal == survivor_id)
    }
    for support in await Support.select().where(Support.proposal == loser_id):
        kept = theirs.get(support["email"])
        if kept is None:
            await Support.update(
                {
                    Support.proposal: survivor_id,
                    Support.key: f"{survivor_id}:{support['email']}",
                }
            ).where(Support.id == support["id"])
            continue
        values: dict[Any, Any] = {}
        if support["wants_news"] and not kept["wants_news"]:
            values[Support.wants_news] = True
        if support["status"] == "confirmed" and kept["status"] != "confirmed":
            values[Support.status] = "confirmed"
            values[Support.confirmed_at] = support["confirmed_at"]
            values[Support.token_digest] = None
        if values:
            await Support.update(values).where(Support.id == kept["id"])
        await Support.delete().where(Support.id == support["id"])


async def merge(
    viewer: FacilitatorView, loser_id: int, survivor_id: int
) -> tuple[OfficeProposal, OfficeProposal]:
    """Fold proposal `loser_id` into `survivor_id` (same council); (loser, survivor)."""
    if loser_id == survivor_id:
        raise InvalidInput({"into": "une proposition ne se fusionne pas dans elle-même"})
    async with db.write_transaction():
        # Both rows locked, the lower id first: two merges crossing never deadlock.
        first, second = sorted((loser_id, survivor_id))
        rows = {first: await common.locked_proposal(first)}
        rows[second] = await common.locked_proposal(second)
        loser, survivor = rows[loser_id], rows[survivor_id]
        common.require_may_moderate(viewer, loser)
        common.require_may_moderate(viewer, survivor)
        if loser["council"] != survivor["council"]:
            raise Conflict(
                "Seules deux propositions d'un même conseil se fusionnent.",
                code="other_council_proposal",
            )
        for row, allowed in ((loser, MERGEABLE), (survivor, SURVIVORS)):
            if row["status"] not in allowed:
                raise Conflict(
                    f"La proposition n° {row['id']} est « "
                    f"{common.STATUS_LABELS[row['status']]} » : elle ne peut pas être fusionnée.",
                    code="not_mergeable",
                )
        now = now_utc()
        await _move_supports(loser_id, survivor_id)
        moved = await agenda.move_links(loser_id, survivor_id)
        survivor_count = await _confirmed_count(survivor_id)
        await Proposal.update({Proposal.supports: survivor_count, Proposal.updated_at: now}).where(
            Proposal.id == survivor_id
        )
        await Proposal.update(
            {
                Proposal.status: "merged",
                Proposal.merged_into: survivor_id,
                Proposal.supports: 0,
                Proposal.status_changed_at: now,
                Proposal.updated_at: now,
            }
        ).where(Proposal.id == loser_id)
        await common.record(
            loser_id,
            "merged",
            status_from=loser["status"],
            status_to="merged",
            note=f"Fusionnée dans la proposition n° {survivor_id}",
            actor_id=viewer.id,
            at=now,
        )
        await common.record(
            survivor_id,
            "merged",
            status_from=survivor["status"],
            status_to=survivor["status"],
            note=f"La proposition n° {loser_id} y a été fusionnée",
            actor_id=viewer.id,
            at=now,
        )
        await audit.record(
            viewer,
            "proposal.merge",
            "proposal",
            loser_id,
            council_id=loser["council"],
            detail=f"into {survivor_id}",
        )
        loser = {
            **loser,
            "status": "merged",
            "merged_into": survivor_id,
            "supports": 0,
            "status_changed_at": now,
            "updated_at": now,
        }
        survivor = {**survivor, "supports": survivor_count, "updated_at": now}
        await common.proposal_changed(loser)
        await common.proposal_changed(survivor)
        await common.refresh_search(loser)  # merged: out of the search
        await agenda.touch(moved, now)
    return view_of(loser), view_of(survivor)
