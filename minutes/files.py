"""Uploaded PDF files: received as a stream, checked with pypdf, kept content-addressed in
FILES_DIR, served with their type, size, name, ETag and byte ranges.

Why a directory and not the database: a 20 MB blob written in a transaction would hold
SQLite's only write lock while it is copied, and every range request would read the blob
back through the driver. A file is written to a temporary name inside the store (same file
system), outside any transaction, then renamed to its SHA-256: the rename is atomic, so
nobody ever sees half a file, and the same bytes uploaded twice are one file. Several hosts
share the store by mounting the same directory (NFS, a cloud file share); see the README.

A refused upload (too big, empty, not a PDF, encrypted, broken) leaves nothing: its
temporary file is deleted whatever happens. The PDF's text is extracted once, when it is
checked, and kept with the file's row for search.

The minutes app's documents use it now, its minutes later: a feature keeps the id of a
`StoredFile` row and serves it with `pdf_response`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import anyio
from litestar import Request, Response
from litestar.response import Stream
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from conseils.errors import InvalidInput, NotFound
from conseils.settings import get_settings
from minutes.tables import StoredFile

MAX_BYTES = 20 * 1024 * 1024
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
MAX_TEXT = 2_000_000  # characters of extracted text kept for search
CHUNK = 256 * 1024
MAX_FILENAME = 120
_HEAD = 1024  # a PDF's "%PDF-" header sits in its first kilobyte
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
log = logging.getLogger("minutes.files")


@dataclass(frozen=True, slots=True)
class CheckedPdf:
    """A received file that is a real PDF, ready to be kept."""

    sha256: str
    size: int
    pages: int
    text: str


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A stored file as pages and the API show it."""

    id: int
    sha256: str
    size: int
    pages: int


def store() -> Path:
    return get_settings().files_dir


def path_of(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256")
    return store() / sha256[:2] / f"{sha256}.pdf"


def size_label(size: int) -> str:
    """ "665 Ko", "1,2 Mo": as the agglomeration's pages write sizes."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} Ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def readable_filename(given: str, fallback: str) -> str:
    """The name a download gets: the uploaded file's own name without any folder
    (`../../etc/passwd` is `passwd.pdf`), controls and reserved characters dropped, ending
    in `.pdf`; `fallback` (the title) when nothing is left."""
    name = given.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE_NAME.sub(" ", name).strip(" .")
    if name.lower().endswith(".pdf"):
        name = name[:-4].rstrip(" .")
    if not name:
        name = _UNSAFE_NAME.sub(" ", fallback).strip(" .") or "document"
    return f"{name[: MAX_FILENAME - 4].rstrip(' .')}.pdf"


def content_disposition(filename: str) -> str:
    """RFC 6266: `inline` (browsers show a PDF), an ASCII `filename` for old clients and
    the real one in `filename*` (RFC 8187, UTF-8)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()-]+", "_", ascii_name).strip() or "document.pdf"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# ---------------------------------------------------------------- receiving


def _refuse(field: str, reason: str) -> InvalidInput:
    return InvalidInput({field: reason})


class Incoming:
    """A file being received: written to a temporary file inside the store, hashed and
    counted chunk by chunk; refused as soon as it passes `limit` bytes. Use it as a context
    manager: the temporary file is deleted on the way out unless `keep()` moved it."""

    def __init__(self, field: str = "file", limit: int = MAX_BYTES) -> None:
        self.field = field
        self.limit = limit
        self.size = 0
        self.filename = ""
        self._hash = hashlib.sha256()
        temporary = store() / "tmp"
        temporary.mkdir(parents=True, exist_ok=True)
        self.path = temporary / f"{secrets.token_hex(16)}.part"
        self._file = self.path.open("xb")

    def __enter__(self) -> Incoming:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()

    def write(self, chunk: bytes) -> None:
        """Add a chunk (a write of at most a network chunk to the page cache: done in the
        event loop, as the ASGI server hands it over)."""
        self.size += len(chunk)
        if self.size > self.limit:
            raise _refuse(self.field, f"le fichier dépasse {MAX_MEGABYTES} Mo")
        self._hash.update(chunk)
        self._file.write(chunk)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    async def check(self) -> CheckedPdf:
        """Open it with pypdf (in a worker thread): a real PDF, not encrypted, with pages;
        its text extracted. Refusals name the field, in French."""
        self._file.close()
        if self.size == 0:
            raise _refuse(self.field, "le fichier est vide")
        pages, text = await anyio.to_thread.run_sync(_read_pdf, self.path, self.field)
        return CheckedPdf(self._hash.hexdigest(), self.size, pages, text)

    def keep(self, checked: CheckedPdf) -> Path:
        """Move the checked file to its place in the store (atomic rename; the same bytes
        already there: the copy is dropped). Before the transaction that refers to it, so a
        row never names a missing file."""
        final = path_of(checked.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and final.stat().st_size == checked.size:
            self.path.unlink(missing_ok=True)
        else:
            os.chmod(self.path, 0o644)
            os.replace(self.path, final)
        return final


def _read_pdf(path: Path, field: str) -> tuple[int, str]:
    with path.open("rb") as stream:
        head = stream.read(_HEAD)
    if b"%PDF-" not in head:
        raise _refuse(field, "ce fichier n'est pas un PDF (son contenu n'en est pas un)")
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise _refuse(
                field,
                "ce PDF est protégé (chiffré) : enregistrez-en une version sans mot de passe",
            )
        pages = len(reader.pages)
        if pages == 0:
            raise _refuse(field, "ce PDF n'a aucune page")
        parts: list[str] = []
        length = 0
        for page in reader.pages:
            if length >= MAX_TEXT:
                break
            try:
                found = page.extract_text() or ""
            except (PyPdfError, ValueError, KeyError, TypeError):  # a page without text layer
                found = ""
            parts.append(found)
            length += len(found)
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            OSError, RecursionError, AssertionError):  # fmt: skip
        raise _refuse(field, "ce PDF est endommagé ou illisible") from None
    text = "\n".join(parts).replace("\x00", "")[:MAX_TEXT]
    return pages, text


async def save(checked: CheckedPdf) -> int:
    """The id of the file's row, made if these bytes were never kept (inside the caller's
    write transaction)."""
    found = await StoredFile.select(StoredFile.id).where(StoredFile.sha256 == checked.sha256)
    if found:
        return found[0]["id"]
    rows = await StoredFile.insert(
        StoredFile(sha256=checked.sha256, size=checked.size, pages=checked.pages, text=checked.text)
    ).returning(StoredFile.id)
    return rows[0]["id"]


async def file_info(file_id: int) -> FileInfo:
    row = (
        await StoredFile.select(StoredFile.id, StoredFile.sha256, StoredFile.size, StoredFile.pages)
        .where(StoredFile.id == file_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce fichier n'existe pas.", code="file_not_found")
    return FileInfo(**row)


async def text_of(file_id: int) -> str:
    """The PDF's extracted text, for search."""
    row = await StoredFile.select(StoredFile.text).where(StoredFile.id == file_id).first()
    return row["text"] if row else ""


# ---------------------------------------------------------------- serving


def _etag(info: FileInfo) -> str:
    return f'"{info.sha256}"'


def _matches(header: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range; None for a header we do not serve as a
    range (several ranges, another unit: the whole file, as RFC 9110 allows). Raises
    ValueError for a range that lies outside the file (416)."""
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError("outside")
    return start, end


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as stream:
        await stream.seek(start)
        while length > 0:
            chunk = await stream.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def pdf_response(request: Request, info: FileInfo, filename: str) -> Response:
    """The file as `application/pdf`: its size, a readable name, a strong ETag (its
    SHA-256: the bytes never change under a name), 304 for `If-None-Match`, one byte range
    (206, or 416 outside the file; `If-Range` honoured), the whole file otherwise."""
    etag = _etag(info)
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(b"", status_code=304, headers=headers)
    path = path_of(info.sha256)
    if not path.is_file():
        log.error("file %s is missing from FILES_DIR %s", info.sha256, store())
        raise NotFound(
            "Ce fichier est momentanément indisponible sur ce serveur.", code="file_missing"
        )
    start, end = 0, info.size - 1
    status = 200
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and (if_range is None or if_range.strip() == etag):
        try:
            chosen = _byte_range(wanted, info.size)
        except ValueError:
            return Response(
                b"",
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{info.size}"},
            )
        if chosen is not None:
            start, end = chosen
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    length = end - start + 1
    headers["Content-Length"] = str(length)
    return Stream(
        _chunks(path, start, length),
        status_code=status,
        media_type="application/pdf",
        headers=headers,
    )
