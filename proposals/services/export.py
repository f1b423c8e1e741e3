"""A council's proposals as a CSV file for its facilitators (any status but unconfirmed), as
a French spreadsheet opens it; every cell residents typed is neutralised
(`conseils.spreadsheet.cell`)."""

from __future__ import annotations

from conseils import spreadsheet
from conseils.spreadsheet import cell
from conseils.timefmt import to_paris
from conseils.viewer import FacilitatorView
from proposals.services import common, moderation

HEADER = (
    "N°", "Titre", "Texte", "Thème", "Statut", "Soutiens", "Origine", "Auteur (public)",
    "Nom saisi", "Adresse électronique", "Reçue le", "Publiée le", "Réponse officielle",
    "Réponse de", "Répondue le", "Motif du refus", "Fusionnée dans",
)  # fmt: skip
ORIGINS = {"online": "En ligne", "collected_at_meeting": "Recueillie en réunion"}
MAX_ROWS = 100_000


def _day(moment: object) -> str:
    return to_paris(moment).strftime("%d/%m/%Y %H:%M") if moment else ""  # type: ignore[arg-type]


async def council_csv(viewer: FacilitatorView, council_id: int) -> bytes:
    found, _total = await moderation.of_council(viewer, council_id, limit=MAX_ROWS)
    return spreadsheet.csv_bytes(
        HEADER,
        (
            [
                p.id,
                cell(p.title),
                cell(p.body),
                common.THEMES.get(p.theme, p.theme),
                p.status_label,
                p.supports,
                ORIGINS.get(p.origin, p.origin),
                cell(p.public_author),
                cell(p.author_name),
                cell(p.email or ""),
                _day(p.created_at),
                _day(p.published_at),
                cell(p.answer),
                cell(p.answer_role),
                _day(p.answered_at),
                cell(p.rejection_reason),
                p.merged_into or "",
            ]
            for p in found
        ),
    )
