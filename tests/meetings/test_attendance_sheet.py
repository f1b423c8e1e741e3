"""The attendance sheet (feuille d'émargement): the page to print and the PDF, read back with
pypdf. Only people holding a seat are on it, grouped by what they come as, in French
alphabetical order; blank lines for walk-ins; the header and "Page n / N" on every page."""

from __future__ import annotations

import html
import io
import re

from httpx import AsyncClient
from pypdf import PdfReader

from conseils.collation import french_key
from conseils.resources import STATIC
from meetings.services.attendance_sheet import BLANK_LINES
from tests.support.backoffice_registrants_support import add_rows, base, tamaris_meeting
from tests.support.backoffice_support import post_form

TITLE = "Café citoyen : la rentrée des associations"
# The order a French reader expects: accents, case and "Œ" ignored.
RESIDENTS = ["zoé Martin", "Émile Durand", "Eric Dupont", "Œdipe Roi", "Oscar Blanc",
             "Ève Petit", "Anne Marie", "Ange Noir", "Éléonore Gaté"]  # fmt: skip
ACTORS = ["Secours populaire", "Amicale laïque"]
OTHERS = ["Mairie d'Alès"]
EXPECTED_RESIDENTS = ["Ange Noir", "Anne Marie", "Éléonore Gaté", "Émile Durand", "Eric Dupont",
                      "Ève Petit", "Œdipe Roi", "Oscar Blanc", "zoé Martin"]  # fmt: skip


async def sheet_meeting(client: AsyncClient) -> int:
    """A meeting with residents, actors, others (confirmed), two waiting and one cancelled
    (none of them on the sheet), and a walk-in."""
    setup = await tamaris_meeting(client, signups=0)
    meeting_id = setup["meeting"]["id"]
    await add_rows(meeting_id, [(name, "resident") for name in RESIDENTS])
    await add_rows(meeting_id, [(name, "local_actor") for name in ACTORS])
    await add_rows(meeting_id, [(name, "other") for name in OTHERS])
    await add_rows(
        meeting_id, [("Attente Une", "resident"), ("Attente Deux", "other")], "waitlisted"
    )
    await add_rows(meeting_id, [("Annulé Trois", "resident")], "cancelled")
    added = await post_form(
        client,
        f"{base(meeting_id)}/inscriptions/sur-place",
        {"name": "Bernard Passant", "attending_as": "resident"},
    )
    assert added.status_code == 303
    return meeting_id


def test_the_expected_order_is_the_collation_order() -> None:
    assert sorted(RESIDENTS, key=french_key) == EXPECTED_RESIDENTS


async def test_the_page_lists_seats_only_grouped_and_in_french_order(
    client: AsyncClient, demo
) -> None:
    meeting_id = await sheet_meeting(client)
    page = await client.get(f"{base(meeting_id)}/emargement")
    assert page.status_code == 200
    text = html.unescape(page.text)
    names = [html.unescape(n) for n in re.findall(r'<th scope="row">([^<]*)</th>', page.text)]
    residents = sorted([*RESIDENTS, "Bernard Passant"], key=french_key)
    assert names == residents + sorted(ACTORS, key=french_key) + OTHERS
    groups = re.findall(r'<th scope="rowgroup" colspan="3">([^<]*)</th>', text)
    assert groups == ["Habitant·e", "Association ou acteur local", "Autre",
                      "Personnes venues sans inscription (nom, et vient en tant que)"]  # fmt: skip
    assert "Attente" not in text and "Annulé Trois" not in text
    assert page.text.count('<tr class="blank">') == BLANK_LINES
    numbers = re.findall(r'<td class="number">(\d+)</td>', page.text)
    assert numbers == [str(n) for n in range(1, len(names) + 1)]
    assert '<th scope="col" class="signature">Signature</th>' in page.text
    assert TITLE in text and "Conseil citoyen Alès Tamaris" in text
    assert "Maison de quartier de Tamaris" in text
    assert '<link rel="stylesheet" href="/static/registrants.css">' in page.text
    assert f"/animation/reunions/{meeting_id}/emargement.pdf" in page.text


def test_the_print_style_sheet_asks_for_a4_a_repeated_header_and_page_numbers() -> None:
    css = (STATIC / "registrants.css").read_text()
    assert "@media print" in css
    assert "size: A4" in css
    assert 'counter(page) " / " counter(pages)' in css
    assert "thead { display: table-header-group; }" in css
    assert "style=" not in (STATIC.parent / "templates" / "animation" / "registrants" /
                            "sheet.html").read_text()  # fmt: skip


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


async def test_the_pdf_is_a4_with_the_header_and_the_names_in_order(
    client: AsyncClient, demo
) -> None:
    meeting_id = await sheet_meeting(client)
    answer = await client.get(f"{base(meeting_id)}/emargement.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert re.fullmatch(
        r'attachment; filename="emargement-\d{4}-\d\d-\d\d-cafe-citoyen-la-rentree-des-'
        r'associations\.pdf"',
        answer.headers["content-disposition"],
    )
    reader = PdfReader(io.BytesIO(answer.content))
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # A4 in points
    first = reader.pages[0].extract_text()
    assert "Feuille d'émargement" in first
    assert "Conseil citoyen Alès Tamaris — Café citoyen" in first
    assert TITLE in first
    assert "Maison de quartier de Tamaris" in first
    assert f"Page 1 / {len(reader.pages)}" in first
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Habitant·e" in text and "Association ou acteur local" in text
    assert "Attente" not in text and "Annulé" not in text
    order = [text.index(name) for name in EXPECTED_RESIDENTS]
    assert order == sorted(order)
    assert text.index("Habitant·e") < text.index("Amicale laïque") < text.index("Mairie d'Alès")


async def test_a_long_sheet_spans_pages_each_with_header_and_number(
    client: AsyncClient, demo
) -> None:
    setup = await tamaris_meeting(client, signups=0)
    meeting_id = setup["meeting"]["id"]
    names = [f"Personne {n:03d}" for n in range(150)]
    await add_rows(meeting_id, [(name, "resident") for name in reversed(names)])
    answer = await client.get(f"{base(meeting_id)}/emargement.pdf")
    pages = pages_of(answer.content)
    total = len(pages)
    # about twenty signatures a page, then the blank lines
    assert 150 // 25 <= total <= 150 // 15 + 2
    seen = []
    for number, text in enumerate(pages, start=1):
        assert "Feuille d'émargement" in text
        assert TITLE in text
        assert "N° Nom Signature" in text
        assert f"Page {number} / {total}" in text
        seen += re.findall(r"Personne \d{3}", text)
    assert seen == names  # each once, in order, across the pages
    assert "Personnes venues sans inscription" in "".join(pages[-2:])


async def test_every_character_of_a_name_is_printed(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client, signups=0)
    meeting_id = setup["meeting"]["id"]
    typed = ["Çağla Öztürk", "Łukasz Wróbel", "Nguyễn Thị Ánh", "Jean-François L'Œillet"]
    await add_rows(meeting_id, [(name, "resident") for name in typed])
    [text] = pages_of((await client.get(f"{base(meeting_id)}/emargement.pdf")).content)
    for name in typed:
        assert name in text


async def test_an_empty_sheet_still_has_the_blank_lines(client: AsyncClient, demo) -> None:
    setup = await tamaris_meeting(client, signups=0)
    meeting_id = setup["meeting"]["id"]
    page = await client.get(f"{base(meeting_id)}/emargement")
    assert page.text.count('<tr class="blank">') == BLANK_LINES
    [text] = pages_of((await client.get(f"{base(meeting_id)}/emargement.pdf")).content)
    assert "Personnes venues sans inscription" in text and "Page 1 / 1" in text
