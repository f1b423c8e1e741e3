"""Emails about a proposal's fate, queued in the transaction of the decision: to its author
when it is published or rejected (with the reason), and to its followers (the author and
the supporters who asked) when its status changes or its official answer is published,
each with the link to the proposal's page. One email per address and change: the outbox
key names the proposal, the change and the address."""

from __future__ import annotations

import hashlib

from conseils import urls
from notifications import outbox
from notifications.drafts import Draft
from notifications.rendering import render_pair
from proposals.events import ProposalModerated, ProposalProgressed, ProposalSnapshot
from proposals.services.common import STATUS_LABELS


def _draft(
    kind: str, key: str, to: str, proposal: ProposalSnapshot, subject: str, **context: object
) -> Draft:
    text, html = render_pair(
        kind,
        proposal=proposal,
        page_url=urls.proposal_url(proposal.id),
        status_label=STATUS_LABELS.get(proposal.status, proposal.status),
        **context,
    )
    return Draft(
        key=key,
        kind=kind,
        recipient=to,
        subject=subject,
        text_body=text,
        html_body=html,
        headers={"From-Name": proposal.council_name, "Reply-To": proposal.contact_email},
        council_id=proposal.council_id,
    )


def _version(proposal: ProposalSnapshot) -> str:
    """What this change is, for the outbox key: a second decision is another email."""
    moment = proposal.answered_at.isoformat() if proposal.answered_at else ""
    raw = f"{proposal.status}|{moment}|{proposal.rejection_reason}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


async def moderated(event: ProposalModerated) -> None:
    proposal = event.proposal
    if proposal.status == "rejected":
        kind = "proposal_rejected"
        subject = f"Votre proposition n'est pas publiée : {proposal.title}"
    else:
        kind, subject = "proposal_published", f"Votre proposition est publiée : {proposal.title}"
    key = f"{kind}:{proposal.id}:{_version(proposal)}"
    await outbox.enqueue([_draft(kind, key, event.author_email, proposal, subject)])


async def progressed(event: ProposalProgressed) -> None:
    proposal = event.proposal
    if event.answer_published:
        kind, subject = "proposal_answered", f"Réponse à la proposition : {proposal.title}"
    else:
        label = STATUS_LABELS.get(proposal.status, proposal.status)
        kind, subject = "proposal_progressed", f"« {label} » : {proposal.title}"
    version = _version(proposal)
    await outbox.enqueue(
        [
            _draft(kind, f"{kind}:{proposal.id}:{version}:{address}", address, proposal, subject)
            for address in event.followers
        ]
    )
