"""Announcements to a council's subscribers: a meeting published, changed or cancelled.

`meeting_written()` is called by the meetings service inside the write transaction, so the
emails are queued if and only if the change commits (the transactional outbox). Only public
meetings are announced: a draft's edits never reach anyone.
"""

from __future__ import annotations

from typing import Any

from meetings import urls
from meetings.services import calendar
from meetings.timefmt import french_date, french_range
from notifications import outbox, registration_mail
from notifications.invitations import Invitation
from notifications.rendering import render_pair
from notifications.settings import get_mail_settings
from notifications.tables import OutboxMessage, Subscription

ANNOUNCEMENTS = ("meeting_published", "meeting_changed", "meeting_cancelled")
SUPERSEDED = (*ANNOUNCEMENTS, "registration_reminder")
UNSUBSCRIBE_PLACEHOLDER = "https://desabonnement.invalid/lien"  # replaced per subscriber


def unsubscribe_url(token: str) -> str:
    return f"{urls.home_url()}abonnements/{token}/desabonner"


def confirm_url(token: str) -> str:
    return f"{urls.home_url()}abonnements/{token}/confirmer"


def list_headers(council_slug: str, council_name: str, token: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (a POST to the https link, no login, no cookie)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<{council_slug}.{get_mail_settings().domain}>",
        "From-Name": council_name,
    }


def _what(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """Which announcement a change calls for, if any."""
    if after["status"] == "published" and before["status"] == "draft":
        return "meeting_published"
    if before["status"] != "published":
        return None
    if after["status"] == "cancelled":
        return "meeting_cancelled"
    if after["sequence"] != before["sequence"]:
        return "meeting_changed"
    return None


def _change_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = []
    if (before["starts_at"], before["ends_at"]) != (after["starts_at"], after["ends_at"]):
        lines.append(
            f"Nouvel horaire : {french_range(after['starts_at'], after['ends_at'])} "
            f"(au lieu de : {french_range(before['starts_at'], before['ends_at'])})"
        )
    if (before["venue"], before["address"]) != (after["venue"], after["address"]):
        place = ", ".join(p for p in (after["venue"], after["address"]) if p) or "en ligne"
        lines.append(f"Nouveau lieu : {place}")
    if before["online_url"] != after["online_url"]:
        lines.append(f"Nouveau lien : {after['online_url'] or 'aucun'}")
    if before["title"] != after["title"]:
        lines.append(f"Nouveau titre (au lieu de « {before['title']} »)")
    return lines


async def _supersede(meeting_id: int) -> None:
    """Announcements of this meeting still waiting to be sent hold what it no longer is: the
    new message (REQUEST with a higher SEQUENCE, or CANCEL) replaces them."""
    await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
        (OutboxMessage.meeting_id == meeting_id)
        & (OutboxMessage.status == "queued")
        & OutboxMessage.kind.is_in(list(SUPERSEDED))
    )


async def meeting_written(before: dict[str, Any], meeting_id: int) -> int:
    """Queue the announcements a change calls for; returns how many were queued."""
    after = await calendar.event_row(meeting_id)
    if after is None:
        return 0
    what = _what(before, after)
    if what is None:
        return 0
    await _supersede(meeting_id)
    title = after["title"]
    subject = {
        "meeting_published": f"Nouvelle réunion : {title} — {french_date(after['starts_at'])}",
        "meeting_changed": f"Réunion modifiée : {title} — {french_date(after['starts_at'])}",
        "meeting_cancelled": f"Réunion annulée : {title} — {french_date(after['starts_at'])}",
    }[what]
    changes = _change_lines(before, after) if what == "meeting_changed" else []
    drafts, registrants = await registration_mail.meeting_drafts(what, after, subject, changes)
    subscribers = [
        row
        for row in await Subscription.select(
            Subscription.id, Subscription.email, Subscription.token
        ).where((Subscription.council == after["council_id"]) & (Subscription.status == "active"))
        if row["email"] not in registrants  # they hear it as registrants, once
    ]
    page_url = urls.meeting_url(meeting_id)
    place = ", ".join(p for p in (after["venue"], after["address"]) if p)
    method = "CANCEL" if what == "meeting_cancelled" else "REQUEST"
    # Rendered once; only the unsubscribe link and the ATTENDEE differ between subscribers.
    text, html = render_pair(
        what,
        meeting=after,
        place=place,
        page_url=page_url,
        changes=changes,
        unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER,
        manage_url=None,
    )
    invitation = Invitation(after, method)
    for subscriber in subscribers:
        link = unsubscribe_url(subscriber["token"])
        drafts.append(
            outbox.Draft(
                key=f"{what}:{meeting_id}:{after['sequence']}:{subscriber['id']}",
                kind=what,
                recipient=subscriber["email"],
                subject=subject,
                text_body=text.replace(UNSUBSCRIBE_PLACEHOLDER, link),
                html_body=html.replace(UNSUBSCRIBE_PLACEHOLDER, link),
                calendar=invitation.for_attendee(subscriber["email"]),
                calendar_method=method,
                headers={
                    **list_headers(
                        after["council_slug"], after["council_name"], subscriber["token"]
                    ),
                    "Reply-To": after["contact_email"],
                },
                council_id=after["council_id"],
                meeting_id=meeting_id,
            )
        )
    return await outbox.enqueue(drafts)
