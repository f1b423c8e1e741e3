"""Piccolo tables of the proposals app. Columns only: the rules live in services/."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from meetings.tables import Council, Meeting


class Proposal(Table):
    """A resident's proposal to a council.

    `status`: `unconfirmed` (its author has not used the emailed link yet: seen by no one),
    `pending` (awaiting moderation), `published`, `rejected`, `under_study`, `accepted`,
    `declined`, `done`; `merged` once folded into `merged_into`. Every change is a
    `ProposalHistory` row.
    """

    council = ForeignKey(references=Council, on_delete=OnDelete.cascade, null=False, index=True)
    # Where it was collected (a café) or first raised; its agenda links are ProposalMeeting rows.
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.set_null, null=True, default=None)
    title = Varchar(length=150)
    body = Text(default="")  # Markdown, rendered by conseils.richtext
    theme = Varchar(length=32)
    author_name = Varchar(length=100, default="")
    show_name = Boolean(default=False)  # the author ticked "show my name"
    email = Varchar(length=254, null=True, default=None, index=True)  # private; None: anonymous
    origin = Varchar(length=24, default="online")  # online, collected_at_meeting
    status = Varchar(length=16, default="unconfirmed", index=True)
    rejection_reason = Text(default="")
    answer = Text(default="")  # the official answer (Markdown)
    answer_role = Varchar(length=120, default="")  # "Le conseil citoyen", "Service voirie"...
    answered_at = Timestamptz(null=True, default=None)
    supports = Integer(default=0)  # confirmed supports: kept equal to their count
    merged_into = Integer(null=True, default=None)  # the surviving proposal's id
    # Capability of the confirmation link (SHA-256 of the emailed token); None once used.
    token_digest = Varchar(length=64, null=True, default=None, unique=True)
    # Same council, address (or facilitator), title and text within minutes: one proposal.
    submission_key = Varchar(length=64, null=True, default=None, unique=True)
    created_by = Integer(null=True, default=None)  # the facilitator who typed it in
    created_at = Timestamptz(default=TimestamptzNow())
    confirmation_sent_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    status_changed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ProposalHistory(Table):
    """One dated change of a proposal: its timeline, and the record of edits (`before`)."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, null=False, index=True)
    at = Timestamptz(default=TimestamptzNow())
    # submitted, confirmed, published, rejected, status, answered, edited, merged, agenda
    action = Varchar(length=24)
    status_from = Varchar(length=16, default="")
    status_to = Varchar(length=16, default="")
    note = Text(default="")  # a rejection reason, or what an edit replaced (JSON)
    public = Boolean(default=True)  # shown on the public timeline
    actor_id = Integer(null=True, default=None)  # the facilitator; None: the resident


class Support(Table):
    """ "Je soutiens": one per address and proposal, counted once confirmed by its link."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, null=False, index=True)
    email = Varchar(length=254, index=True)
    key = Varchar(length=300, unique=True)  # "{proposal id}:{address}"
    status = Varchar(length=16, default="pending")  # pending, confirmed
    token_digest = Varchar(length=64, null=True, default=None, unique=True)
    wants_news = Boolean(default=False)  # to be told when the status changes or an answer comes
    created_at = Timestamptz(default=TimestamptzNow())
    confirmation_sent_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)


class ProposalMeeting(Table):
    """A proposal on a meeting's agenda ("Ordre du jour"), in the facilitator's order."""

    proposal = ForeignKey(references=Proposal, on_delete=OnDelete.cascade, null=False, index=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=40, unique=True)  # "{meeting id}:{proposal id}"
    position = Integer(default=0)
    added_at = Timestamptz(default=TimestamptzNow())


class AgendaChange(Table, tablename="proposal_agenda_change"):
    """When a meeting's agenda (the proposals on it, their order, their titles) last changed:
    its calendar event's LAST-MODIFIED moves to it, even when the last proposal was taken off.
    A meeting id without a foreign key: the row is a date, nothing else hangs on it."""

    meeting_id = Integer(unique=True)
    changed_at = Timestamptz(default=TimestamptzNow())
