"""Quick entry: the proposals a café's paper board collected, typed in by a facilitator in
one form (one row each), attached to that meeting, origin `collected_at_meeting`.

They are created **published**: the facilitator who types them in is the council's
moderator and read each one on the board, with the residents who wrote it; a pending
status would only ask them to approve, one by one, what they have just typed. A row can be
withdrawn afterwards like any proposal (a new status) or its typo edited.

A double submit creates nothing twice: the form carries a random key (as the meeting form
does), each row's `submission_key` is derived from it, and a second sending of the same
form finds the rows the first one created.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from conseils import audit, db
from conseils.errors import Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Meeting
from proposals.services import common
from proposals.tables import Proposal

MAX_ROWS = 30
MAX_FORM_KEY = 100


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One proposal as typed (any of them may be empty: a blank row is skipped)."""

    title: str = ""
    body: str = ""
    theme: str = ""
    author_name: str = ""
    email: str = ""
    show_name: bool = False

    def blank(self) -> bool:
        return not any(
            s.strip() for s in (self.title, self.body, self.theme, self.author_name, self.email)
        )


def _clean(row: EntryRow, n: int, errors: dict[str, str]) -> dict[str, Any] | None:
    """Row `n` (from 1) as columns; its errors go to `errors` under `<field>-<n>`."""
    cleaned: dict[str, Any] = {"show_name": row.show_name}
    checks = (
        ("title", row.title, common.TITLE_MAX, True, False),
        ("body", row.body, common.BODY_MAX, False, True),
        ("author_name", row.author_name, common.NAME_MAX, False, False),
    )
    for name, value, limit, required, multiline in checks:
        try:
            cleaned[name] = require_text(
                name, value, max_length=limit, required=required, multiline=multiline
            )
        except InvalidInput as exc:
            errors[f"{name}-{n}"] = exc.errors[name]
    try:
        cleaned["theme"] = common.require_theme(row.theme)
    except InvalidInput as exc:
        errors[f"theme-{n}"] = exc.errors["theme"]
    try:
        cleaned["email"] = normalise_email(row.email) if row.email.strip() else None
    except InvalidInput as exc:
        errors[f"email-{n}"] = exc.errors["email"]
    if row.show_name and not row.author_name.strip():
        errors[f"author_name-{n}"] = "indiquez le nom à afficher, ou décochez « afficher »"
    return cleaned


def _key(viewer: FacilitatorView, form_key: str, n: int) -> str:
    return hashlib.sha256(f"entry:{viewer.id}:{form_key}:{n}".encode()).hexdigest()


async def collect(
    viewer: FacilitatorView, meeting_id: int, rows: list[EntryRow], *, form_key: str
) -> tuple[list[int], bool]:
    """Create the non-blank rows' proposals, published, for the meeting's council.
    Returns (their ids in the form's order, created: False when this form was sent before).
    Every error at once (`<field>-<row number>`), and then nothing is created."""
    errors: dict[str, str] = {}
    if not (0 < len(form_key) <= MAX_FORM_KEY and form_key.isprintable()):
        errors["form_key"] = "ce formulaire n'est plus valable : rechargez la page"
    filled = [(n, row) for n, row in enumerate(rows, start=1) if not row.blank()]
    if len(rows) > MAX_ROWS:
        errors["rows"] = f"{MAX_ROWS} propositions au plus par envoi"
    elif not filled:
        errors["title-1"] = "saisissez au moins une proposition"
    cleaned = [(n, _clean(row, n, errors)) for n, row in filled]
    meeting = (
        await Meeting.select(Meeting.id, Meeting.council, Meeting.status)
        .where(Meeting.id == meeting_id)
        .first()
        if 1 <= meeting_id <= db.MAX_ID
        else None
    )
    if meeting is None or meeting["status"] == "draft":
        raise NotFound("Cette réunion n'existe pas.", code="meeting_not_found")
    if not viewer.may_write(meeting["council"]):
        raise Forbidden("Cette réunion relève d'un autre conseil citoyen.", code="not_your_council")
    if errors:
        raise InvalidInput(errors)
    keys = [_key(viewer, form_key, i) for i in range(1, len(cleaned) + 1)]
    async with db.write_transaction():
        # One quick entry at a time per meeting: a double click waits, then finds the first.
        await db.locked(Meeting.select(Meeting.id).where(Meeting.id == meeting_id))
        existing = await Proposal.select(Proposal.id, Proposal.submission_key).where(
            Proposal.submission_key.is_in(keys)
        )
        if existing:
            by_key = {row["submission_key"]: row["id"] for row in existing}
            return [by_key[k] for k in keys if k in by_key], False
        now = now_utc()
        ids = []
        for key, (_n, fields) in zip(keys, cleaned, strict=True):
            inserted = await Proposal.insert(
                Proposal(
                    council=meeting["council"],
                    meeting=meeting_id,
                    origin="collected_at_meeting",
                    status="published",
                    submission_key=key,
                    created_by=viewer.id,
                    created_at=now,
                    confirmed_at=now,
                    published_at=now,
                    status_changed_at=now,
                    updated_at=now,
                    **fields,
                )
            ).returning(Proposal.id)
            proposal_id = inserted[0]["id"]
            ids.append(proposal_id)
            await common.record(
                proposal_id,
                "submitted",
                status_to="published",
                note="Recueillie lors d'une réunion et saisie par l'animation",
                actor_id=viewer.id,
                at=now,
            )
        await audit.record(
            viewer,
            "proposal.collect",
            "meeting",
            meeting_id,
            council_id=meeting["council"],
            detail=f"{len(ids)} propositions",
        )
        # The meeting's page lists nothing of them (only its agenda), but the council's
        # proposals pages and feeds, cached by meeting change, show them.
        await common.proposal_changed({"meeting": meeting_id, "council": meeting["council"]})
    return ids, True
