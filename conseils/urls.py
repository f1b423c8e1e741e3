"""Every absolute link the service gives out, built from BASE_URL, and only here: public
pages, iCalendar feeds, and the capability links that go to one person's inbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote, quote_plus, urlencode

from conseils.settings import get_settings


class MeetingLike(Protocol):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online_url: str | None


def meeting_url(meeting_id: int) -> str:
    return f"{get_settings().base_url}/reunions/{meeting_id}"


def registration_form_url(meeting_id: int) -> str:
    """The sign-up form on the meeting's page (announcements' "S'inscrire")."""
    return f"{get_settings().base_url}/reunions/{meeting_id}#inscription"


def meeting_calendar_url(meeting_id: int) -> str:
    return f"{get_settings().base_url}/reunions/{meeting_id}/calendrier.ics"


def council_url(slug: str) -> str:
    return f"{get_settings().base_url}/conseils/{slug}"


def council_calendar_url(slug: str) -> str:
    return feed_url(slug)


def map_url(address: str) -> str:
    """An OpenStreetMap search for the address: no API key, no tracking."""
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"


def home_url() -> str:
    return f"{get_settings().base_url}/"


def manage_url(token: str) -> str:
    """A registration's manage link (a capability: only ever emailed to its registrant)."""
    return f"{get_settings().base_url}/inscriptions/{token}"


def registration_feed_url(feed_token: str) -> str:
    """A registration's own calendar feed: read-only, a token of its own (not the manage
    link's), so the URL may sit in a calendar app or be shared without risk."""
    return f"{get_settings().base_url}/agenda/{feed_token}/calendrier.ics"


def address_feed_url(token: str) -> str:
    """The calendar feed of every meeting an address holds a seat at, in every council:
    read-only, its own token, given only on the page reached from the address's inbox."""
    return f"{get_settings().base_url}/agenda/adresse/{token}/calendrier.ics"


def personal_data_url(token: str) -> str:
    """The page showing everything held about an address (a capability: emailed to it)."""
    return f"{get_settings().base_url}/mes-donnees/{token}"


def password_link_url(token: str) -> str:
    """A facilitator's link to choose a password, after a reset request or an invitation
    (a capability: emailed to the account's address only)."""
    return f"{get_settings().base_url}/animation/mot-de-passe/{token}"


def unsubscribe_url(token: str) -> str:
    return f"{get_settings().base_url}/abonnements/{token}/desabonner"


def confirm_subscription_url(token: str) -> str:
    return f"{get_settings().base_url}/abonnements/{token}/confirmer"


def feed_url(
    council: str | None = None, kind: str | None = None, quartier: str | None = None
) -> str:
    """The shortest URL of a feed (Google Calendar refuses long ones)."""
    path = f"/conseils/{council}/calendrier.ics" if council else "/calendrier.ics"
    query = urlencode([(k, v) for k, v in (("type", kind), ("quartier", quartier)) if v])
    return f"{get_settings().base_url}{path}{'?' + query if query else ''}"


def webcal(url: str) -> str:
    """The same feed for calendar apps: webcal:// opens the system's calendar to subscribe."""
    return "webcal://" + url.split("://", 1)[1]


def google_subscribe_url(feed: str) -> str:
    return "https://calendar.google.com/calendar/render?cid=" + quote(webcal(feed), safe="")


def google_event_url(meeting: MeetingLike) -> str:
    """Google Calendar's "create event" form, filled in: for residents who use only Google."""
    fmt = "%Y%m%dT%H%M%SZ"
    dates = f"{meeting.starts_at.astimezone(UTC):{fmt}}/{meeting.ends_at.astimezone(UTC):{fmt}}"
    place = ", ".join(p for p in (meeting.venue, meeting.address) if p) or meeting.online_url or ""
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": meeting.title,
            "dates": dates,
            "details": f"{meeting_url(meeting.id)}",
            "location": place,
            "ctz": "Europe/Paris",
        },
        safe="/",
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def agenda_url(form: str = "", query: list[tuple[str, str]] | None = None) -> str:
    """The embeddable agenda: `form` "" (the page for frames), ".rss" or ".json"."""
    encoded = urlencode(query or [])
    return f"{get_settings().base_url}/integration/agenda{form}{'?' + encoded if encoded else ''}"


def proposal_url(proposal_id: int) -> str:
    return f"{get_settings().base_url}/propositions/{proposal_id}"


def council_proposals_url(slug: str) -> str:
    return f"{get_settings().base_url}/conseils/{slug}/propositions"


def confirm_proposal_url(token: str) -> str:
    """A proposal's confirmation link (a capability: only ever emailed to its author)."""
    return f"{get_settings().base_url}/propositions/confirmer/{token}"


def confirm_support_url(token: str) -> str:
    """A support's confirmation link (a capability: only ever emailed to its supporter)."""
    return f"{get_settings().base_url}/soutiens/confirmer/{token}"
