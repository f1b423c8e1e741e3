"""The meeting page renders its description from Markdown, inert whatever it holds, once
per page build."""

from __future__ import annotations

import httpx
import pytest
from httpx import AsyncClient
from markupsafe import Markup

from conseils import richtext
from conseils.app import create_app
from meetings.tables import Meeting
from tests.meetings.test_pages import insert_meeting


async def test_the_description_is_markdown_and_inert(client: AsyncClient, demo: None) -> None:
    mid = await insert_meeting(
        "ales-tamaris",
        "Café Markdown",
        description=(
            "**Ordre du jour**\n\n- le parc\n- la fête : https://ales.fr/fete\n\n"
            "<script>alert(1)</script> [x](javascript:alert(2)) "
            "![p](https://pisteur.example/p.gif) <img src=x onerror=alert(3)>"
        ),
    )
    page = (await client.get(f"/reunions/{mid}")).text
    description = page[page.index('<div class="description">') :]
    assert "<strong>Ordre du jour</strong>" in description
    assert '<a href="https://ales.fr/fete" rel="nofollow ugc">' in description
    assert "<script" not in page.split("</head>")[1]
    assert 'href="javascript:' not in page and 'pisteur.example/p.gif"' not in page.replace(
        'href="https://pisteur.example/p.gif"', ""
    )
    assert "<img" not in description
    assert "&lt;script&gt;" in description


async def test_an_online_meeting_place_has_no_empty_first_line(
    client: AsyncClient, demo: None
) -> None:
    mid = await insert_meeting("ales-tamaris", "En visio", venue="", address="")
    await Meeting.update({Meeting.online_url: "https://visio.example/salle"}).where(
        Meeting.id == mid
    )
    page = (await client.get(f"/reunions/{mid}")).text
    place = page[page.index("<dt>Lieu</dt>") : page.index("<dt>Places</dt>")]
    assert '<dd><span class="line">En ligne : ' in place
    assert "<br>" not in place


async def test_the_description_is_rendered_once_per_page_build(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page is cached: three requests render the Markdown once."""
    mid = await insert_meeting("ales-tamaris", "Une fois", description="*une seule fois*")
    calls: list[str] = []
    render = richtext.render.__wrapped__  # past the lru_cache, to count real renders

    def counting(text: str) -> Markup:
        calls.append(text)
        return render(text)

    monkeypatch.setattr(richtext, "render", counting)
    transport = httpx.ASGITransport(app=create_app())  # its templates see the counting filter
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        for _ in range(3):
            assert (await c.get(f"/reunions/{mid}")).status_code == 200
    assert calls == ["*une seule fois*"]
