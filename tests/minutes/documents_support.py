"""PDFs good and bad for the documents tests, and the store's state."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from minutes import files
from minutes.demo import demo_pdf

FIELDS = {"title": "Fiche projet FPH", "category": "fph", "council": "ales-tamaris",
          "issued_on": "2026-01-15"}  # fmt: skip


def good_pdf(text: str = "Fonds de Participation des Habitants") -> bytes:
    return demo_pdf([text, "Fiche projet"])


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good_pdf())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "bonjour")
    return out.getvalue()


BAD = {
    "html": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "pas un PDF"),
    "zip": (zip_file(), "pas un PDF"),
    "empty": (b"", "vide"),
    "encrypted": (encrypted_pdf(), "protégé"),
    "corrupt": (b"%PDF-1.7\n" + bytes(range(256)) * 40, "endommagé"),
    "truncated": (good_pdf()[:200], "endommagé"),
}


def temporary_files() -> list[Path]:
    folder = files.store() / "tmp"
    return list(folder.iterdir()) if folder.exists() else []


def stored_files() -> set[Path]:
    root = files.store()
    if not root.exists():
        return set()
    return {p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp"}
