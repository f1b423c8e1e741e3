"""What the proposals app shows on the meetings app's pages (`meetings.slots`): on a
council's page, its proposals and the way to send one; on a meeting's page, the way to send
one about that meeting."""

from __future__ import annotations

from markupsafe import Markup

from meetings.services.councils import CouncilView
from meetings.services.meetings import MeetingView
from meetings.slots import PageSection
from proposals.services.common import PUBLIC_STATUSES
from proposals.tables import Proposal


async def council_section(council: CouncilView) -> PageSection:
    count = await Proposal.count().where(
        (Proposal.council == council.id) & Proposal.status.is_in(list(PUBLIC_STATUSES))
    )
    seen = (
        f"{count} proposition{'s' if count > 1 else ''} publiée{'s' if count > 1 else ''}"
        if count
        else "Pas encore de proposition publiée"
    )
    html = Markup(
        "<p>Une idée pour le quartier ? Proposez-la au conseil : elle est discutée en réunion "
        "et reçoit une réponse. Vous pouvez aussi soutenir celles des autres.</p>"
        '<p><a class="button" href="/conseils/{slug}/propositions/nouvelle">'
        "Faire une proposition</a> "
        '<a href="/conseils/{slug}/propositions">{seen} : les voir</a></p>'
    ).format(slug=council.slug, seen=seen)
    return PageSection("Propositions des habitants", html, "propositions")


async def meeting_section(meeting: MeetingView) -> PageSection | None:
    if meeting.is_cancelled:
        return None
    html = Markup(
        "<p>Une idée à faire discuter par le conseil ? "
        '<a href="/conseils/{slug}/propositions/nouvelle?reunion={id}">'
        "Faire une proposition</a> "
        'ou <a href="/conseils/{slug}/propositions">voir celles des habitants</a>.</p>'
    ).format(slug=meeting.council_slug, id=meeting.id)
    return PageSection("Une proposition ?", html, "faire-une-proposition")
