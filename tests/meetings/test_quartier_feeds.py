"""Council pages offer the feed of each of their quartiers (that council's meetings and the
agglomeration-wide council's), and those feeds answer."""

from __future__ import annotations

import re

import icalendar
from httpx import AsyncClient


async def test_a_council_page_offers_each_quartier_feed(client: AsyncClient, demo: None) -> None:
    page = (await client.get("/conseils/ales-couronne-nord")).text
    section = page.split('id="agenda-quartier"', 1)[1].split("</section>", 1)[0]
    feeds = re.findall(
        r'href="(http://testserver\.local/calendrier\.ics\?quartier=[\w-]+)"', section
    )
    assert len(feeds) == 3  # Cévennes, Pierre-Curie, Moulinet
    assert len(re.findall(r'href="webcal://', section)) == 3
    for feed in feeds:
        answer = await client.get(feed.removeprefix("http://testserver.local"))
        assert answer.status_code == 200
        councils = {
            str(event["ORGANIZER"].params["CN"])
            for event in icalendar.Calendar.from_ical(answer.content).walk("VEVENT")
        }
        assert councils <= {
            "Conseil citoyen Alès « Couronne Nord »",
            "Conseil citoyen « Alès Agglo »",
        }


async def test_the_agglomeration_council_page_has_no_quartier_feeds(
    client: AsyncClient, demo: None
) -> None:
    page = (await client.get("/conseils/ales-agglo")).text
    assert 'id="agenda-quartier"' not in page
