"""Demo documents for `make serve`: the Alès library's real titles (the FPH forms, the
règlements, the leaflet), as small PDFs made here with fpdf2, so `/documents` and the
council pages are not empty. Loaded by `conseils demo` right after the meetings' data."""

from __future__ import annotations

from datetime import date

from fpdf import FPDF

from conseils.db import write_transaction
from meetings.tables import Council
from minutes import documents, files
from minutes.tables import Document

# (title, category, council slug or None: shared, filename, lines of the page)
DOCUMENTS = (
    ("Fiche projet du Fonds de Participation des Habitants", "fph", None,
     "FPH - fiche projet.pdf",
     ["Fonds de Participation des Habitants - Arrondissement d'Alès", "Fiche projet",
      "Porteur du projet, quartier, description, budget prévisionnel."]),
    ("Fiche bilan du Fonds de Participation des Habitants", "fph", None,
     "FPH - fiche bilan.pdf",
     ["Fonds de Participation des Habitants", "Fiche bilan",
      "Ce qui a été fait, qui est venu, dépenses réelles."]),
    ("Règlement de fonctionnement du Fonds de Participation des Habitants", "fph", None,
     "FPH - règlement de fonctionnement.pdf",
     ["Fonds de Participation des Habitants",
      "Conseils Citoyens de l'arrondissement d'Alès", "Règlement de fonctionnement"]),
    ("Règlement intérieur du Conseil Citoyen", "règlement", None,
     "Règlement intérieur du Conseil Citoyen.pdf",
     ["Règlement intérieur du Conseil Citoyen", "Composition, réunions, décisions."]),
    ("Plaquette « Conseils citoyens »", "plaquette", "ales-tamaris",
     "Plaquette Conseils citoyens.pdf",
     ["Conseils citoyens", "Habitants, associations, acteurs locaux : venez !"]),
)  # fmt: skip


def demo_pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    for line in lines:
        pdf.multi_cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def keep_bytes(content: bytes) -> int:
    """Store bytes as an upload would be (checked, content-addressed); the file's row id.
    Inside no transaction: it opens its own."""
    with files.Incoming() as incoming:
        incoming.write(content)
        checked = await incoming.check()
        incoming.keep(checked)
    async with write_transaction():
        return await files.save(checked)


async def load_demo_documents() -> None:
    councils = {row["slug"]: row["id"] for row in await Council.select(Council.id, Council.slug)}
    if await Document.exists():
        return
    for title, category, slug, filename, lines in DOCUMENTS:
        file_id = await keep_bytes(demo_pdf(lines))
        council_id = councils.get(slug) if slug else None
        async with write_transaction():
            rows = await Document.insert(
                Document(
                    council=council_id,
                    title=title,
                    category=category,
                    file=file_id,
                    filename=filename,
                    issued_on=date(2025, 9, 1),
                )
            ).returning(Document.id)
            await documents.index_document(rows[0]["id"], council_id, title, file_id)
