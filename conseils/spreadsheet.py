"""CSV files as a spreadsheet opens them in France: UTF-8 with a BOM, `;` between fields,
CRLF, and no cell a spreadsheet would run as a formula (CSV injection: a resident's name or
a proposal's title typed as `=HYPERLINK(...)`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """Text someone typed, as a cell that is never read as a formula."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The file: `header` then `rows` (text from users must already have gone through `cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode()
