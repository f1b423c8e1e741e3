"""Writing minutes: create (a meeting's, once it started; or a month's bundle), edit, attach
their PDF, record the proposals discussed, delete a draft.

Rules: titles ≤ 200 characters, summaries ≤ 1,000 (they go in the emails), Markdown bodies,
one decision a line, attendance a count (prefilled from the attendance recorded). The PDF is
received, checked and stored before the short write transaction (`minutes.files`). A
creation form sent twice (its `form_key`) makes one minutes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from conseils import audit, changes, search
from conseils.db import locked, write_transaction
from conseils.errors import Conflict, InvalidInput
from conseils.timefmt import PARIS, now_utc
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from meetings.services import feed_clock
from meetings.tables import Council, Meeting, Registration
from minutes import files
from minutes.files import Incoming
from minutes.services import common
from minutes.services.common import MinutesView
from minutes.tables import Minutes, MinutesMeeting, MinutesProposal
from proposals.services import common as proposal_rules
from proposals.services.common import FOLLOW_UP_STATUSES, PUBLIC_STATUSES
from proposals.tables import Proposal

MAX_TITLE = 200
MAX_SUMMARY = 1_000
MAX_BODY = 100_000
MAX_DECISIONS = 10_000
MAX_NOTE = 500
MAX_ATTENDANCE = 100_000
MAX_FORM_KEY = 60
MAX_PROPOSALS = 100
FIELDS = ("title", "summary", "body", "decisions", "attendance")


# ---------------------------------------------------------------- checking fields


def _attendance(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_ATTENDANCE:
        raise InvalidInput({"attendance": f"un nombre de personnes, de 0 à {MAX_ATTENDANCE}"})
    return int(value)


def checked_fields(fields: dict[str, str]) -> dict[str, Any]:
    """The editable fields, checked together (every field's error at once)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": lambda: require_text("title", fields.get("title", ""), max_length=MAX_TITLE),
        "summary": lambda: require_text(
            "summary", fields.get("summary", ""), max_length=MAX_SUMMARY, required=False,
            multiline=True,
        ),
        "body": lambda: require_text(
            "body", fields.get("body", ""), max_length=MAX_BODY, required=False, multiline=True
        ),
        "decisions": lambda: "\n".join(
            line.strip()
            for line in require_text(
                "decisions", fields.get("decisions", ""), max_length=MAX_DECISIONS,
                required=False, multiline=True,
            ).splitlines()
            if line.strip()
        ),
        "attendance": lambda: _attendance(fields.get("attendance", "")),
    }  # fmt: skip
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return values


def parse_month(value: str) -> date:
    """ "2020-01" (or a full date: its month)."""
    value = value.strip()
    try:
        day = date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        raise InvalidInput({"month": "mois invalide (attendu : AAAA-MM)"}) from None
    if not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        raise InvalidInput({"month": "mois hors des limites (2000 à 2100)"})
    return day.replace(day=1)


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=PARIS)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


async def _council_by_slug(slug: str) -> int | None:
    slug = slug.strip()
    if not slug:
        return None
    row = None
    if "\x00" not in slug and len(slug) <= 80:
        row = await Council.select(Council.id).where(Council.slug == slug).first()
    if row is None:
        raise InvalidInput({"council": "ce conseil citoyen n'existe pas"})
    return row["id"]


async def attendance_of(meeting_ids: tuple[int, ...]) -> int | None:
    """People marked present at these meetings (None: no attendance recorded)."""
    if not meeting_ids:
        return None
    marked = await Registration.count().where(
        Registration.meeting.is_in(list(meeting_ids)) & Registration.attended.is_not_null()
    )
    if not marked:
        return None
    return await Registration.count().where(
        Registration.meeting.is_in(list(meeting_ids)) & (Registration.attended.eq(True))
    )


async def month_meetings(council_id: int | None, month: date) -> tuple[int, ...]:
    """That month's published meetings (Paris time) of the council, or of every council."""
    start, end = _month_bounds(month)
    query = Meeting.select(Meeting.id).where(
        (Meeting.status == "published") & (Meeting.starts_at >= start) & (Meeting.starts_at < end)
    )
    if council_id is not None:
        query = query.where(Meeting.council == council_id)
    return tuple(row["id"] for row in await query.order_by(Meeting.starts_at))


async def cover(minutes_id: int, meeting_ids: tuple[int, ...]) -> None:
    """The meetings a bundle covers, as they are now (inside the write transaction)."""
    await MinutesMeeting.delete().where(MinutesMeeting.minutes == minutes_id)
    if meeting_ids:
        await MinutesMeeting.insert(
            *[
                MinutesMeeting(minutes=minutes_id, meeting=m, key=f"{minutes_id}:{m}")
                for m in meeting_ids
            ]
        )


# ---------------------------------------------------------------- creating


async def create(
    viewer: FacilitatorView, fields: dict[str, str], *, form_key: str = ""
) -> tuple[MinutesView, bool]:
    """New draft minutes: of `meeting` (an id: a published meeting that has started), or of
    `month` (AAAA-MM) of `council` (a slug; empty: every council, administrators only).
    Returns (minutes, created); the same `form_key` again returns the first ones."""
    form_key = form_key.strip()
    if len(form_key) > MAX_FORM_KEY or not form_key.isprintable():
        raise InvalidInput({"form_key": f"1 à {MAX_FORM_KEY} caractères imprimables"})
    key = f"{viewer.id}:{form_key}" if form_key else None
    meeting_value = str(fields.get("meeting") or "").strip()
    meeting: dict[str, Any] | None = None
    month: date | None = None
    if meeting_value:
        if not meeting_value.isdigit() or len(meeting_value) > 12:
            raise InvalidInput({"meeting": "réunion inconnue"})
        meeting = await common.meeting_row(int(meeting_value))
        if meeting is None:
            raise InvalidInput({"meeting": "réunion inconnue"})
        council_id: int | None = meeting["council"]
        common.require_write(viewer, council_id)
        if meeting["status"] != "published":
            raise InvalidInput({"meeting": "seule une réunion publiée a un compte rendu"})
        if meeting["starts_at"] > now_utc():
            raise InvalidInput({"meeting": "la réunion n'a pas encore commencé"})
        title = fields.get("title") or f"Compte rendu — {meeting['title']}"
    else:
        month = parse_month(str(fields.get("month") or ""))
        council_id = await _council_by_slug(str(fields.get("council") or ""))
        common.require_write(viewer, council_id)
        name = await common.council_name(council_id) or "tous les conseils citoyens"
        title = fields.get("title") or (
            f"Comptes rendus — {common.month_label(month).capitalize()} — {name}"
        )
    values = checked_fields({**{k: str(v) for k, v in fields.items()}, "title": title[:MAX_TITLE]})
    meeting_ids = (
        (meeting["id"],) if meeting is not None else await month_meetings(council_id, month)  # type: ignore[arg-type]
    )
    if values["attendance"] is None:
        values["attendance"] = await attendance_of(meeting_ids)
    async with write_transaction():
        if key is not None:
            existing = await Minutes.select(Minutes.id).where(Minutes.form_key == key).first()
            if existing is not None:
                return await common.get_minutes(existing["id"]), False
        if meeting is not None:
            # one creation at a time per meeting, so no second minutes slips past the check
            await locked(
                Meeting.select(Meeting.id).where(Meeting.id == meeting["id"]), "NO KEY UPDATE"
            )
            duplicate = await Minutes.exists().where(Minutes.meeting == meeting["id"])
        else:
            same_council = (
                Minutes.council.is_null() if council_id is None else Minutes.council == council_id
            )
            duplicate = await Minutes.exists().where(
                same_council & (Minutes.month == month) & Minutes.meeting.is_null()
            )
        if duplicate:
            raise Conflict(
                "Ce compte rendu existe déjà : modifiez-le dans la liste des comptes rendus.",
                code="minutes_exist",
            )
        now = now_utc()
        rows = (
            await Minutes.insert(
                Minutes(
                    council=council_id,
                    meeting=meeting["id"] if meeting is not None else None,
                    month=month,
                    status="draft",
                    form_key=key,
                    created_by=viewer.id,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Minutes.id)
        )
        if not rows:  # the same key, committed meanwhile
            existing = await Minutes.select(Minutes.id).where(Minutes.form_key == key).first()
            assert existing is not None
            return await common.get_minutes(existing["id"]), False
        minutes_id = rows[0]["id"]
        if meeting is None:
            await cover(minutes_id, meeting_ids)
        await audit.record(viewer, "minutes.create", "minutes", minutes_id, council_id=council_id)
    return await common.get_minutes(minutes_id), True


# ---------------------------------------------------------------- editing


async def index(minutes_id: int) -> None:
    """Keep the search index holding exactly the published minutes (title; summary, body,
    decisions and the PDF's text), inside the write transaction."""
    row = await Minutes.select().where(Minutes.id == minutes_id).first()
    if row is None or row["status"] != "published":
        await search.unindex(common.SEARCH_KIND, minutes_id)
        return
    pdf_text = await files.text_of(row["file"]) if row["file"] else ""
    body = "\n\n".join(
        part for part in (row["summary"], row["body"], row["decisions"], pdf_text) if part
    )
    await search.index(common.SEARCH_KIND, minutes_id, row["council"], row["title"], body)


async def announce_change(minutes_id: int) -> None:
    """Pages showing these minutes drop their copies: the meeting's page (or the pages of the
    meetings a bundle covers), the council's pages (every council's for a bundle of all)."""
    row = (
        await Minutes.select(Minutes.council, Minutes.meeting)
        .where(Minutes.id == minutes_id)
        .first()
    )
    if row is None:
        return
    council_id = row["council"] or changes.EVERY_COUNCIL
    meeting_ids = [row["meeting"]] if row["meeting"] else list(await common.covered(minutes_id))
    await changes.changed(common.CHANGE_KIND, minutes_id, council_id)
    if not meeting_ids:
        return
    # The meetings' calendar events carry the minutes' link (CALENDAR_NOTES): their feeds
    # react to meeting changes only, and their Last-Modified is the council's feed clock.
    councils = await Meeting.select(Meeting.id, Meeting.council).where(
        Meeting.id.is_in(meeting_ids)
    )
    ticks = [await feed_clock.advance(c) for c in sorted({r["council"] for r in councils})]
    # Dated by the clock's tick, so that the events' LAST-MODIFIED (the minutes' change, in
    # whole seconds) moves past the meeting's own even within the same second.
    await Minutes.update({Minutes.updated_at: max(ticks)}).where(Minutes.id == minutes_id)
    for meeting in councils:
        await changes.changed(common.CHANGE_KIND, minutes_id, council_id, meeting_id=meeting["id"])
        await changes.meeting_changed(meeting["id"], meeting["council"])


async def locked_minutes(minutes_id: int) -> dict[str, Any]:
    row = await locked(Minutes.select().where(Minutes.id == minutes_id)).first()
    if row is None:
        raise common.not_found()
    return row


async def update(viewer: FacilitatorView, minutes_id: int, fields: dict[str, str]) -> MinutesView:
    """Change the text of minutes, draft or published. Published minutes are indexed and
    shown afresh; nobody is emailed (that is `publishing.send_update`)."""
    current = await common.get_own(viewer, minutes_id)
    values = checked_fields(fields)
    async with write_transaction():
        row = await locked_minutes(minutes_id)
        common.require_write(viewer, row["council"])
        await Minutes.update(
            {getattr(Minutes, name): value for name, value in values.items()}
            | {Minutes.updated_at: now_utc()}
        ).where(Minutes.id == minutes_id)
        await audit.record(
            viewer, "minutes.update", "minutes", minutes_id, council_id=current.council_id
        )
        if row["status"] == "published":
            await index(minutes_id)
            await announce_change(minutes_id)
    return await common.get_minutes(minutes_id)


async def check_permission(viewer: FacilitatorView, minutes_id: int) -> None:
    """Before a file is read: may this viewer write these minutes?"""
    await common.get_own(viewer, minutes_id)


async def attach(viewer: FacilitatorView, minutes_id: int, upload: Incoming | None) -> MinutesView:
    """Attach the PDF of the minutes, or replace it. Checked (a real, unencrypted PDF of
    20 MB at most) and stored before the write transaction, which only writes its row."""
    current = await common.get_own(viewer, minutes_id)
    if upload is None:
        raise InvalidInput({"file": "joignez le fichier PDF"})
    pdf = await upload.check()
    filename = files.readable_filename(upload.filename, current.title)
    upload.keep(pdf)
    async with write_transaction():
        row = await locked_minutes(minutes_id)
        file_id = await files.save(pdf)
        await Minutes.update(
            {Minutes.file: file_id, Minutes.filename: filename, Minutes.updated_at: now_utc()}
        ).where(Minutes.id == minutes_id)
        await audit.record(
            viewer, "minutes.file", "minutes", minutes_id,
            council_id=current.council_id, detail=f"{pdf.size} octets",
        )  # fmt: skip
        if row["status"] == "published":
            await index(minutes_id)
            await announce_change(minutes_id)
    return await common.get_minutes(minutes_id)


async def remove_file(viewer: FacilitatorView, minutes_id: int) -> MinutesView:
    """Detach the PDF (it stays in the content-addressed store)."""
    current = await common.get_own(viewer, minutes_id)
    async with write_transaction():
        row = await locked_minutes(minutes_id)
        await Minutes.update(
            {Minutes.file: None, Minutes.filename: "", Minutes.updated_at: now_utc()}
        ).where(Minutes.id == minutes_id)
        await audit.record(
            viewer, "minutes.file_removed", "minutes", minutes_id, council_id=current.council_id
        )
        if row["status"] == "published":
            await index(minutes_id)
            await announce_change(minutes_id)
    return await common.get_minutes(minutes_id)


async def set_proposals(
    viewer: FacilitatorView, minutes_id: int, items: list[tuple[int, str, str]]
) -> MinutesView:
    """The proposals discussed, as (proposal id, status given or "", note): the public
    proposals of the councils concerned only. They replace the list; statuses are given to
    the proposals at publication (`publishing.publish`), or at once when the minutes are
    already published."""
    current = await common.get_own(viewer, minutes_id)
    if len(items) > MAX_PROPOSALS:
        raise InvalidInput({"proposals": f"{MAX_PROPOSALS} propositions au plus"})
    errors: dict[str, str] = {}
    seen: dict[int, tuple[str, str]] = {}
    for proposal_id, status, note in items:
        field = f"proposals.{proposal_id}"
        if status and status not in FOLLOW_UP_STATUSES:
            errors[field] = "statut inconnu : " + ", ".join(FOLLOW_UP_STATUSES)
            continue
        try:
            note = require_text(field, note, max_length=MAX_NOTE, required=False)
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        seen[proposal_id] = (status, note)
    concerned = await common.councils_concerned(current.council_id)
    if seen:
        rows = await Proposal.select(Proposal.id, Proposal.council, Proposal.status).where(
            Proposal.id.is_in(list(seen))
        )
        known = {row["id"]: row for row in rows}
        for proposal_id in seen:
            row = known.get(proposal_id)
            if row is None or row["status"] not in PUBLIC_STATUSES:
                errors[f"proposals.{proposal_id}"] = "cette proposition n'est pas publiée"
            elif row["council"] not in concerned:
                errors[f"proposals.{proposal_id}"] = (
                    "cette proposition relève d'un conseil que ce compte rendu ne couvre pas"
                )
    if errors:
        raise InvalidInput(errors)
    async with write_transaction():
        row = await locked_minutes(minutes_id)
        before = {
            r["proposal"]: r
            for r in await MinutesProposal.select().where(MinutesProposal.minutes == minutes_id)
        }
        await MinutesProposal.delete().where(MinutesProposal.minutes == minutes_id)
        if seen:
            await MinutesProposal.insert(
                *[
                    MinutesProposal(
                        minutes=minutes_id,
                        proposal=proposal_id,
                        key=f"{minutes_id}:{proposal_id}",
                        status=status,
                        note=note,
                        # the same status already given: nothing more to apply
                        applied=bool(
                            before.get(proposal_id)
                            and before[proposal_id]["applied"]
                            and before[proposal_id]["status"] == status
                        ),
                    )
                    for proposal_id, (status, note) in seen.items()
                ]
            )
        await Minutes.update({Minutes.updated_at: now_utc()}).where(Minutes.id == minutes_id)
        await audit.record(
            viewer, "minutes.proposals", "minutes", minutes_id,
            council_id=current.council_id, detail=f"{len(seen)} propositions",
        )  # fmt: skip
        if row["status"] == "published":
            await announce_change(minutes_id)
    if row["status"] == "published":
        await apply_proposals(viewer, minutes_id)
    return await common.get_minutes(minutes_id)


async def apply_proposals(viewer: FacilitatorView, minutes_id: int) -> None:
    """Give each proposal discussed the status the minutes record, through the proposals'
    own rule (`set_status`: history, audit, followers' emails, caches), each in its own
    transaction (they do not nest), marked applied once done: a retry after a failure goes
    on where it stopped, and a status a proposal already has is a no-op."""
    pending = await MinutesProposal.select(
        MinutesProposal.id, MinutesProposal.proposal, MinutesProposal.status
    ).where(
        (MinutesProposal.minutes == minutes_id)
        & (MinutesProposal.applied.eq(False))
        & (MinutesProposal.status != "")
    )
    for item in pending:
        await proposal_rules.set_status(viewer, item["proposal"], item["status"])
        async with write_transaction():
            await MinutesProposal.update({MinutesProposal.applied: True}).where(
                MinutesProposal.id == item["id"]
            )


async def delete(viewer: FacilitatorView, minutes_id: int) -> None:
    """Delete draft minutes (published ones are unpublished first: their email went)."""
    current = await common.get_own(viewer, minutes_id)
    async with write_transaction():
        row = await locked_minutes(minutes_id)
        if row["status"] == "published":
            raise Conflict(
                "Ce compte rendu est publié : retirez-le de la publication avant de le supprimer.",
                code="minutes_published",
            )
        await Minutes.delete().where(Minutes.id == minutes_id)
        await search.unindex(common.SEARCH_KIND, minutes_id)
        await audit.record(
            viewer, "minutes.delete", "minutes", minutes_id, council_id=current.council_id
        )
