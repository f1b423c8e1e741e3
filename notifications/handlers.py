"""Which domain events become which emails: the notifications app's subscriptions to the
other apps' events, all handled inside the emitting transaction (the outbox)."""

from __future__ import annotations

from accounts.events import PasswordLinkIssued
from conseils import events
from meetings.events import (
    MeetingCancelled,
    MeetingChanged,
    MeetingPublished,
    RegistrantsMessaged,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationDeleted,
    RegistrationLinkRequested,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from minutes.events import MinutesAnnounced
from notifications import (
    account_mail,
    announcements,
    minutes_mail,
    personal_data,
    proposal_answers,
    proposal_confirmations,
    registration_mail,
)
from proposals.events import (
    ProposalModerated,
    ProposalProgressed,
    ProposalSubmitted,
    SupportRequested,
)


def register() -> None:
    """Subscribe the handlers (idempotent: the application may be assembled more than once)."""
    events.handles(MeetingPublished, MeetingChanged, MeetingCancelled)(announcements.announce)
    events.handles(RegistrationConfirmed)(registration_mail.confirmed)
    events.handles(RegistrationWaitlisted)(registration_mail.waitlisted)
    events.handles(RegistrationPromoted)(registration_mail.promoted)
    events.handles(RegistrationLinkRequested)(registration_mail.link_requested)
    events.handles(RegistrationCancelled)(registration_mail.cancelled)
    events.handles(RegistrantsMessaged)(registration_mail.messaged)
    events.handles(RegistrationDeleted)(personal_data.forget_registration)
    events.handles(PasswordLinkIssued)(account_mail.link_issued)
    events.handles(ProposalSubmitted)(proposal_confirmations.submitted)
    events.handles(SupportRequested)(proposal_confirmations.support_requested)
    events.handles(ProposalModerated)(proposal_answers.moderated)
    events.handles(ProposalProgressed)(proposal_answers.progressed)
    events.handles(MinutesAnnounced)(minutes_mail.announced)
    minutes_mail.register()
    personal_data.register()
