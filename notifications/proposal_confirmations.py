"""The confirmation links of the proposals app: to the author of a proposal sent online, and
to whoever asked to support one. Each goes to the address typed, and only there; both are
capped (anyone may type anyone's address), and keyed by the proposal or support and the
moment the link was made, so a retried transaction queues it once."""

from __future__ import annotations

from conseils import capabilities, urls
from notifications import outbox
from notifications.drafts import Draft
from notifications.rendering import render_pair
from proposals.events import ProposalSnapshot, ProposalSubmitted, SupportRequested


def _draft(
    kind: str, key: str, email: str, proposal: ProposalSnapshot, subject: str, confirm_url: str
) -> Draft:
    text, html = render_pair(
        kind,
        proposal=proposal,
        confirm_url=confirm_url,
        page_url=urls.proposal_url(proposal.id),
        council_url=urls.council_proposals_url(proposal.council_slug),
    )
    return Draft(
        key=key,
        kind=kind,
        recipient=email,
        subject=subject,
        text_body=text,
        html_body=html,
        headers={"From-Name": proposal.council_name, "Reply-To": proposal.contact_email},
        council_id=proposal.council_id,
        capped=True,
    )


async def submitted(event: ProposalSubmitted) -> None:
    proposal = event.proposal
    await outbox.enqueue(
        [
            _draft(
                "proposal_confirm",
                f"proposal_confirm:{proposal.id}:{capabilities.digest(event.token)[:16]}",
                event.email,
                proposal,
                f"Confirmez votre proposition : {proposal.title}",
                urls.confirm_proposal_url(event.token),
            )
        ]
    )


async def support_requested(event: SupportRequested) -> None:
    proposal = event.proposal
    await outbox.enqueue(
        [
            _draft(
                "support_confirm",
                f"support_confirm:{event.support_id}:{capabilities.digest(event.token)[:16]}",
                event.email,
                proposal,
                f"Confirmez votre soutien : {proposal.title}",
                urls.confirm_support_url(event.token),
            )
        ]
    )
