"""Announcements of a meeting published, changed or cancelled: to its registrants and to its
council's subscribers.

Handled inside the transaction of the change (the transactional outbox), so a rolled-back
change announces nothing. The registrants' messages are queued at once (one meeting's
registrants); the subscribers', which may be thousands, become one fan-out job that the
relay expands in batches (`notifications.fanout`), so that publishing takes the same time for
10 subscribers or 10,000. Someone both registered and subscribed hears once, as a registrant.
"""

from __future__ import annotations

from conseils.timefmt import french_date, french_range, now_utc
from meetings.events import MeetingCancelled, MeetingChanged, MeetingPublished, MeetingSnapshot
from meetings.services import registrations
from notifications import fanout, outbox, registration_mail
from notifications.tables import OutboxMessage

ANNOUNCEMENTS = ("meeting_published", "meeting_changed", "meeting_cancelled")
SUPERSEDED = (*ANNOUNCEMENTS, "registration_reminder")

MeetingEvent = MeetingPublished | MeetingChanged | MeetingCancelled


def _kind(event: MeetingEvent) -> str:
    if isinstance(event, MeetingPublished):
        return "meeting_published"
    if isinstance(event, MeetingChanged):
        return "meeting_changed"
    return "meeting_cancelled"


def change_lines(before: MeetingSnapshot, after: MeetingSnapshot) -> list[str]:
    """What changed, in French, for the "meeting changed" message."""
    lines = []
    if (before.starts_at, before.ends_at) != (after.starts_at, after.ends_at):
        lines.append(
            f"Nouvel horaire : {french_range(after.starts_at, after.ends_at)} "
            f"(au lieu de : {french_range(before.starts_at, before.ends_at)})"
        )
    if (before.venue, before.address) != (after.venue, after.address):
        lines.append(f"Nouveau lieu : {after.place or 'en ligne'}")
    if before.online_url != after.online_url:
        lines.append(f"Nouveau lien : {after.online_url or 'aucun'}")
    if before.title != after.title:
        lines.append(f"Nouveau titre (au lieu de « {before.title} »)")
    return lines


def subject_of(kind: str, meeting: MeetingSnapshot) -> str:
    prefix = {
        "meeting_published": "Nouvelle réunion",
        "meeting_changed": "Réunion modifiée",
        "meeting_cancelled": "Réunion annulée",
    }[kind]
    return f"{prefix} : {meeting.title} — {french_date(meeting.starts_at)}"


async def _supersede(meeting_id: int) -> None:
    """Announcements of this meeting still waiting to be sent, or to be expanded, hold what
    it no longer is: the new message (REQUEST with a higher SEQUENCE, or CANCEL) replaces
    them."""
    await OutboxMessage.update({OutboxMessage.status: "cancelled"}).where(
        (OutboxMessage.meeting_id == meeting_id)
        & (OutboxMessage.status == "queued")
        & OutboxMessage.kind.is_in(list(SUPERSEDED))
    )
    await fanout.cancel_pending(meeting_id)


async def announce(event: MeetingEvent) -> None:
    """Queue what the event calls for: the registrants' messages now, the subscribers' as
    one fan-out job."""
    kind, meeting = _kind(event), event.meeting
    await _supersede(meeting.id)
    subject = subject_of(kind, meeting)
    changes = change_lines(event.before, meeting) if isinstance(event, MeetingChanged) else []
    people = await registrations.active_registrants(meeting.id)
    await outbox.enqueue(registration_mail.meeting_drafts(kind, meeting, people, subject, changes))
    await fanout.queue_job(
        fanout.Announcement(
            kind=kind,
            meeting=meeting,
            subject=subject,
            changes=changes,
            registrants=sorted({person.email for person in people}),
            takes_registrations=(
                kind == "meeting_published"
                and await registrations.takes_registrations(meeting.id, now_utc())
            ),
        )
    )
