"""An app built on meetings adds a section to the meeting page through the core's slot."""

from __future__ import annotations

from httpx import AsyncClient
from markupsafe import Markup, escape

from meetings.services.meetings import MeetingView
from meetings.slots import MEETING_PAGE, PageSection
from tests.support.mail_support import published_meeting


async def agenda(meeting: MeetingView) -> PageSection | None:
    if "jardin" not in meeting.title:
        return None  # nothing to add about other meetings
    items = ["Le jardin partagé", "<script>alert(1)</script>"]
    html = Markup("<ol>{}</ol>").format(
        Markup("").join(Markup("<li>{}</li>").format(i) for i in items)
    )
    return PageSection(title="Ordre du jour", html=html, anchor="ordre-du-jour")


async def test_a_contributed_section_shows_on_the_meeting_page(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    MEETING_PAGE.contribute(agenda)
    try:
        meeting = await published_meeting(client, tamaris_auth)
        other = await published_meeting(client, tamaris_auth, title="Café citoyen : la fête")
        page = (await client.get(f"/reunions/{meeting['id']}")).text
        other_page = (await client.get(f"/reunions/{other['id']}")).text
    finally:
        MEETING_PAGE.withdraw(agenda)
    assert '<section id="ordre-du-jour"' in page
    assert '<h2 id="ordre-du-jour-titre">Ordre du jour</h2>' in page
    assert "<li>Le jardin partagé</li>" in page
    assert str(escape("<script>alert(1)</script>")) in page and "<script>alert" not in page
    assert "ordre-du-jour" not in other_page


async def test_without_contributors_the_page_has_no_extra_section(
    client: AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await published_meeting(client, tamaris_auth)
    page = (await client.get(f"/reunions/{meeting['id']}")).text
    assert "ordre-du-jour" not in page
