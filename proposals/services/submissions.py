"""Residents send proposals and support them, without an account: each is confirmed by a link
emailed to the address that was typed, so robots and typos stay out.

Rules, one place each:
- **A proposal** starts `unconfirmed` (seen by no one); its link moves it to `pending`
  (moderation). The link goes only to the author's inbox: the answer to a submission says
  the same whatever happened, and carries no link. Only the token's SHA-256 is stored.
- **The same proposal sent twice in a row** (same council, address, title and text: its
  `submission_key`) is one proposal and one email; sent again once `RESEND_AFTER` has passed
  while still unconfirmed, a fresh link goes to the same address (the outbox caps repeats).
- **A support** ("Je soutiens") is one per address and proposal (the unique key
  "proposal:address"), only on a public proposal, confirmed by its own link. The count
  `Proposal.supports` is raised in the confirming transaction, on the pending → confirmed
  transition only (a conditional UPDATE), so that it always equals the confirmed supports:
  a second support by the same address, or a second click on the link, changes nothing and
  is answered the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conseils import capabilities, changes, db, events
from conseils.errors import InvalidInput, NotFound
from conseils.timefmt import now_utc
from conseils.validation import require_text, required_email
from meetings.services.councils import get_council
from meetings.tables import Meeting
from proposals.events import ProposalSubmitted, SupportRequested
from proposals.services.common import (
    BODY_MAX,
    NAME_MAX,
    PROPOSAL_CHANGE,
    PUBLIC_STATUSES,
    TITLE_MAX,
    record,
    require_theme,
    snapshot,
    supports_changed,
)
from proposals.tables import Proposal, Support

RESEND_AFTER = timedelta(minutes=10)
TOKEN_LENGTH = 43  # capabilities.new_token(): 256 bits, URL-safe
INVALID_LINK = "Ce lien n'est pas valable."


@dataclass(frozen=True, slots=True)
class Submission:
    """A proposal as a resident typed it, checked."""

    council_id: int
    meeting_id: int | None
    title: str
    body: str
    theme: str
    author_name: str
    show_name: bool
    email: str


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a confirmation link's page shows (reached from the inbox only)."""

    proposal_id: int
    title: str
    council_slug: str
    council_name: str
    confirmed: bool  # already confirmed (this link was used)
    public: bool  # the proposal can be seen by anyone now


# ---------------------------------------------------------------- checking


def _text(fields: dict[str, Any], name: str) -> Any:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput({name: "doit être du texte"})
    return value


async def check(council_slug: str, fields: dict[str, Any]) -> Submission:
    """Every field checked on its own; all errors reported at once, in French."""
    council = await get_council(council_slug)
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}

    def take(name: str, fn: Any) -> None:
        try:
            cleaned[name] = fn()
        except InvalidInput as exc:
            errors.update(exc.errors)

    take("title", lambda: require_text("title", _text(fields, "title"), max_length=TITLE_MAX))
    take(
        "body",
        lambda: require_text(
            "body", _text(fields, "body"), max_length=BODY_MAX, required=True, multiline=True
        ),
    )
    take("theme", lambda: require_theme(_text(fields, "theme")))
    take(
        "author_name",
        lambda: require_text(
            "author_name", _text(fields, "author_name"), max_length=NAME_MAX, required=False
        ),
    )
    take("email", lambda: required_email(fields.get("email")))
    show_name = fields.get("show_name") is True
    if show_name and not cleaned.get("author_name") and "author_name" not in errors:
        errors["author_name"] = "indiquez votre nom pour qu'il soit affiché"
    meeting_id = fields.get("meeting_id")
    if meeting_id is not None:
        if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
            errors["meeting_id"] = "réunion inconnue"
        else:
            meeting = (
                await Meeting.select(Meeting.id)
                .where(
                    (Meeting.id == meeting_id)
                    & (Meeting.council == council.id)
                    & Meeting.status.is_in(["published", "cancelled"])
                )
                .first()
                if 1 <= meeting_id <= db.MAX_ID
                else None
            )
            if meeting is None:
                errors["meeting_id"] = "cette réunion n'est pas une réunion de ce conseil"
    if errors:
        raise InvalidInput(errors)
    return Submission(
        council_id=council.id,
        meeting_id=meeting_id,
        title=cleaned["title"],
        body=cleaned["body"],
        theme=cleaned["theme"],
        author_name=cleaned["author_name"],
        show_name=show_name,
        email=cleaned["email"],
    )


def submission_key(submission: Submission) -> str:
    """The same council, address, title and text: the same proposal."""
    parts = (str(submission.council_id), submission.email, submission.title, submission.body)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------- proposals


async def submit(council_slug: str, fields: dict[str, Any]) -> None:
    """Record a proposal sent online and email its confirmation link to its author.

    Answers nothing: whether it was new, a repeat, or a repeat within minutes, the caller
    says the same (a link went, or had gone, to the address)."""
    submission = await check(council_slug, fields)
    key = submission_key(submission)
    token = capabilities.new_token()
    now = now_utc()
    async with db.write_transaction():
        inserted = (
            await Proposal.insert(
                Proposal(
                    council=submission.council_id,
                    meeting=submission.meeting_id,
                    title=submission.title,
                    body=submission.body,
                    theme=submission.theme,
                    author_name=submission.author_name,
                    show_name=submission.show_name,
                    email=submission.email,
                    origin="online",
                    status="unconfirmed",
                    token_digest=capabilities.digest(token),
                    submission_key=key,
                    created_at=now,
                    confirmation_sent_at=now,
                    updated_at=now,
                )
            )
            .on_conflict(target=Proposal.submission_key, action="DO NOTHING")
            .returning(Proposal.id)
        )
        if inserted:
            proposal_id = inserted[0]["id"]
            await record(proposal_id, "submitted", status_to="unconfirmed", at=now)
        else:
            row = await db.locked(Proposal.select().where(Proposal.submission_key == key)).first()
            if row is None or row["status"] != "unconfirmed":
                return  # confirmed already (or erased meanwhile): nothing to send again
            sent = row["confirmation_sent_at"]
            if sent is not None and now - sent < RESEND_AFTER:
                return  # a double click: one proposal, one email
            proposal_id = row["id"]
            await Proposal.update(
                {
                    Proposal.token_digest: capabilities.digest(token),
                    Proposal.confirmation_sent_at: now,
                }
            ).where(Proposal.id == proposal_id)
        row = await Proposal.select().where(Proposal.id == proposal_id).first()
        assert row is not None  # written above
        await events.emit(
            ProposalSubmitted(proposal=await snapshot(row), email=submission.email, token=token)
        )


def _well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and token.replace("-", "").replace("_", "").isalnum()


async def _proposal_by_token(token: str) -> dict[str, Any]:
    row = (
        await Proposal.select().where(Proposal.token_digest == capabilities.digest(token)).first()
        if _well_formed(token)
        else None
    )
    if row is None:
        raise NotFound(INVALID_LINK, code="link_not_found")
    return row


async def _confirmation(row: dict[str, Any], *, confirmed: bool) -> Confirmation:
    council = await snapshot(row)
    return Confirmation(
        proposal_id=row["id"],
        title=row["title"],
        council_slug=council.council_slug,
        council_name=council.council_name,
        confirmed=confirmed,
        public=row["status"] in PUBLIC_STATUSES,
    )


async def proposal_to_confirm(token: str) -> Confirmation:
    """What the link's page shows before its button is pressed (a GET confirms nothing:
    link previewers open links)."""
    row = await _proposal_by_token(token)
    return await _confirmation(row, confirmed=row["status"] != "unconfirmed")


async def confirm_proposal(token: str) -> Confirmation:
    """unconfirmed → pending (moderation); a second confirmation changes nothing."""
    async with db.write_transaction():
        found = await _proposal_by_token(token)
        row = await db.locked(Proposal.select().where(Proposal.id == found["id"])).first()
        assert row is not None
        if row["status"] == "unconfirmed":
            now = now_utc()
            await Proposal.update(
                {
                    Proposal.status: "pending",
                    Proposal.confirmed_at: now,
                    Proposal.status_changed_at: now,
                    Proposal.updated_at: now,
                }
            ).where((Proposal.id == row["id"]) & (Proposal.status == "unconfirmed"))
            await record(
                row["id"], "confirmed", status_from="unconfirmed", status_to="pending", at=now
            )
            row = {**row, "status": "pending"}
            # Pending is shown nowhere, but the council's twelve-month figures count it.
            await changes.changed(PROPOSAL_CHANGE, row["id"], row["council"])
    return await _confirmation(row, confirmed=True)


# ---------------------------------------------------------------- supports


@dataclass(frozen=True, slots=True)
class SupportConfirmation:
    proposal_id: int
    title: str
    confirmed: bool
    supports: int


async def _public_proposal(proposal_id: int) -> dict[str, Any]:
    row = (
        await Proposal.select()
        .where((Proposal.id == proposal_id) & Proposal.status.is_in(list(PUBLIC_STATUSES)))
        .first()
        if 1 <= proposal_id <= db.MAX_ID
        else None
    )
    if row is None:
        raise NotFound("Cette proposition n'existe pas.", code="proposal_not_found")
    return row


async def request_support(proposal_id: int, email: object, *, wants_news: bool = False) -> None:
    """ "Je soutiens": email the confirmation link to the address, unless it supports this
    proposal already (or had its link a moment ago). The same answer in every case."""
    address = required_email(email)
    proposal = await _public_proposal(proposal_id)
    key = f"{proposal_id}:{address}"
    token = capabilities.new_token()
    now = now_utc()
    async with db.write_transaction():
        inserted = (
            await Support.insert(
                Support(
                    proposal=proposal_id,
                    email=address,
                    key=key,
                    status="pending",
                    token_digest=capabilities.digest(token),
                    wants_news=wants_news,
                    created_at=now,
                    confirmation_sent_at=now,
                )
            )
            .on_conflict(target=Support.key, action="DO NOTHING")
            .returning(Support.id)
        )
        if inserted:
            support_id = inserted[0]["id"]
        else:
            row = await db.locked(Support.select().where(Support.key == key)).first()
            if row is None or row["status"] != "pending":
                return  # supports it already: no second count, no email
            sent = row["confirmation_sent_at"]
            if sent is not None and now - sent < RESEND_AFTER:
                return
            support_id = row["id"]
            await Support.update(
                {
                    Support.token_digest: capabilities.digest(token),
                    Support.confirmation_sent_at: now,
                    Support.wants_news: wants_news,
                }
            ).where(Support.id == support_id)
        await events.emit(
            SupportRequested(
                proposal=await snapshot(proposal), support_id=support_id, email=address, token=token
            )
        )


async def _support_by_token(token: str) -> dict[str, Any]:
    row = (
        await Support.select().where(Support.token_digest == capabilities.digest(token)).first()
        if _well_formed(token)
        else None
    )
    if row is None:
        raise NotFound(INVALID_LINK, code="link_not_found")
    return row


async def _support_view(support: dict[str, Any]) -> SupportConfirmation:
    proposal = (
        await Proposal.select(Proposal.id, Proposal.title, Proposal.supports)
        .where(Proposal.id == support["proposal"])
        .first()
    )
    assert proposal is not None  # a support goes with its proposal (cascade)
    return SupportConfirmation(
        proposal_id=proposal["id"],
        title=proposal["title"],
        confirmed=support["status"] == "confirmed",
        supports=proposal["supports"],
    )


async def support_to_confirm(token: str) -> SupportConfirmation:
    return await _support_view(await _support_by_token(token))


async def confirm_support(token: str) -> SupportConfirmation:
    """pending → confirmed, and the proposal's count +1, in one transaction; the conditional
    UPDATE lets exactly one of any number of simultaneous clicks count."""
    async with db.write_transaction():
        support = await _support_by_token(token)
        changed = (
            await Support.update({Support.status: "confirmed", Support.confirmed_at: now_utc()})
            .where((Support.id == support["id"]) & (Support.status == "pending"))
            .returning(Support.id)
        )
        if changed:
            await Proposal.update({Proposal.supports: Proposal.supports + 1}).where(
                Proposal.id == support["proposal"]
            )
            await supports_changed(support["proposal"])
        view = await _support_view({**support, "status": "confirmed"})
    return view
