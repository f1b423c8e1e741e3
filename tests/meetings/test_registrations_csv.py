"""The facilitators' CSV, cell by cell: every column that holds what a resident typed is
neutralised, whatever the character a spreadsheet would take as the start of a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from meetings.controllers.registrations import CSV_COLUMNS, registrations_csv
from meetings.services.registrants import RegistrationView

RESIDENT_COLUMNS = ("name", "email", "phone", "needs")  # typed by the resident
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")  # what Excel, LibreOffice and Sheets evaluate


def view(**fields: str) -> RegistrationView:
    values = {
        "name": "Habitante",
        "email": "habitante@example.org",
        "phone": "06 12 34 56 78",
        "needs": "",
    }
    values.update(fields)
    return RegistrationView(
        id=1,
        meeting_id=1,
        attending_as="resident",
        status="confirmed",
        position=None,
        attended=None,
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        cancelled_at=None,
        **values,
    )


def cells(item: RegistrationView) -> dict[str, str]:
    text = registrations_csv([item]).decode("utf-8-sig")
    header, line = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return dict(zip(header, line, strict=True))


def title_of(field: str) -> str:
    return next(title for title, name in CSV_COLUMNS if name == field)


@pytest.mark.parametrize("start", DANGEROUS)
@pytest.mark.parametrize("field", RESIDENT_COLUMNS)
def test_every_resident_column_is_neutralised(field: str, start: str) -> None:
    typed = f"{start}2+3 cmd|' /C calc'!A0"
    assert cells(view(**{field: typed}))[title_of(field)] == "'" + typed


@pytest.mark.parametrize("field", RESIDENT_COLUMNS)
def test_harmless_text_is_left_as_typed(field: str) -> None:
    for typed in ("Hélène 2=2", "a-b@c", " =espace d'abord", "'déjà cité", ""):
        assert cells(view(**{field: typed}))[title_of(field)] == typed


def test_the_other_columns_are_ours() -> None:
    found = cells(view())
    assert found["Vient en tant que"] == "Habitant·e"
    assert found["Statut"] == "Confirmé·e"
    assert found["Position d'attente"] == ""
    assert found["Présent·e"] == ""
    assert found["Inscrit·e le"] == "01/03/2026 10:30"
