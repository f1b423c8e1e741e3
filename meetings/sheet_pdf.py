"""The attendance sheet as a PDF (fpdf2): A4, the council and meeting on every page, a
signature column, blank lines for walk-ins, "Page n / N" at the foot of each page.

The font is DejaVu Sans, shipped with the code (`static/fonts`, licence beside it) and
embedded as a subset: French accents, "œ", the median dot of "habitant·e" and most names
residents type print as typed (fpdf2's built-in fonts know Latin-1 only).
"""

from __future__ import annotations

import logging

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from conseils.resources import STATIC
from conseils.timefmt import french_range
from meetings.services.attendance_sheet import Sheet
from meetings.services.common import KIND_LABELS

FONT = "DejaVu"
FONTS = STATIC / "fonts"
ROW = 10.0  # mm: room to sign
NUMBER_W, NAME_W = 12.0, 88.0  # the signature takes the rest of the width
MIN_SIZE = 6.0
# fontTools tells every glyph it keeps at INFO: one line per glyph table, per sheet.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class _SheetPdf(FPDF):
    def __init__(self, sheet: Sheet) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.sheet = sheet
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 12, 15)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()
        meeting = sheet.meeting
        self.set_title(f"Feuille d'émargement — {meeting.title}")
        self.set_author(meeting.council_name)
        self.set_lang("fr")
        self.set_creation_date(meeting.starts_at)  # the same data, the same bytes

    @property
    def signature_w(self) -> float:
        return self.epw - NUMBER_W - NAME_W

    def header(self) -> None:
        meeting = self.sheet.meeting
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, "Feuille d'émargement", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 10)
        lines = [
            f"{meeting.council_name} — {KIND_LABELS.get(meeting.kind, meeting.kind)}",
            meeting.title,
            french_range(meeting.starts_at, meeting.ends_at),
        ]
        if meeting.place:
            lines.append(meeting.place)
        for line in lines:
            self.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)
        self.set_font(FONT, "B", 10)
        self.set_fill_color(230, 233, 238)
        for width, title in ((NUMBER_W, "N°"), (NAME_W, "Nom"), (self.signature_w, "Signature")):
            self.cell(width, 7, title, border=1, fill=True)
        self.ln(7)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 9)
        self.cell(0, 8, f"Page {self.page_no()} / {{nb}}", align="C")

    def _room_for(self, rows: int) -> None:
        if self.get_y() + rows * ROW > self.page_break_trigger:
            self.add_page()

    def heading(self, label: str) -> None:
        self._room_for(2)  # never a group's title alone at the foot of a page
        self.set_font(FONT, "B", 11)
        self.cell(0, 8, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, number: str, name: str) -> None:
        self._room_for(1)
        size = 11.0
        self.set_font(FONT, "", size)
        while size > MIN_SIZE and self.get_string_width(name) > NAME_W - 2:
            size -= 0.5
            self.set_font(FONT, "", size)
        self.cell(NUMBER_W, ROW, number, border=1)
        self.cell(NAME_W, ROW, name, border=1)
        self.cell(self.signature_w, ROW, "", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(sheet: Sheet) -> bytes:
    pdf = _SheetPdf(sheet)
    pdf.add_page()
    for group in sheet.groups:
        pdf.heading(group.label)
        for line in group.lines:
            pdf.row(str(line.number), line.name)
    pdf.heading("Personnes venues sans inscription (nom, et vient en tant que)")
    for _ in range(sheet.blank_lines):
        pdf.row("", "")
    return bytes(pdf.output())
