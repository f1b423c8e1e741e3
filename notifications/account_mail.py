"""Emails to facilitators about their account: the link to choose a password, after a reset
request or an admin's invitation. Sent to the account's own address only; the link is in
the email and nowhere else."""

from __future__ import annotations

import hashlib

from accounts.events import PasswordLinkIssued
from conseils import urls
from conseils.timefmt import french_date, french_time
from notifications import outbox
from notifications.drafts import Draft
from notifications.rendering import render_pair

SUBJECTS = {
    "reset": "Choisir un nouveau mot de passe — espace d'animation",
    "invitation": "Votre accès à l'espace d'animation des conseils citoyens",
}
TEMPLATES = {"reset": "password_reset", "invitation": "facilitator_invitation"}


async def link_issued(event: PasswordLinkIssued) -> None:
    """Queue the email carrying the link (inside the transaction that made the link). The
    accounts app caps how many an account receives; the outbox's cap is not for these."""
    kind = TEMPLATES[event.purpose]
    text, html = render_pair(
        kind,
        name=event.display_name,
        link_url=urls.password_link_url(event.token),
        valid_until=f"{french_date(event.expires_at)} à {french_time(event.expires_at)}",
        invited_by=event.invited_by,
        sign_in_url=urls.home_url() + "animation/connexion",
        email=event.email,
    )
    digest = hashlib.sha256(event.token.encode()).hexdigest()[:32]
    await outbox.enqueue(
        [
            Draft(
                key=f"{kind}:{digest}",
                kind=kind,
                recipient=event.email,
                subject=SUBJECTS[event.purpose],
                text_body=text,
                html_body=html,
            )
        ]
    )
