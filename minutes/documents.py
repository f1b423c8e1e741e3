"""The documents library: règlements, the Fonds de Participation des Habitants' forms,
leaflets, of one council or shared by all. Every rule is here; the back-office, the API
and the pages call it.

Who writes: a council's facilitators its documents, the site's administrators every one
and alone the shared ones. A document past its expiry day leaves the public lists (its
address keeps answering, for links already given). The file is received, checked and put
in the store before the write transaction (`minutes.files`), which only writes rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from conseils import audit, changes, search
from conseils.db import write_transaction
from conseils.errors import Forbidden, InvalidInput, NotFound
from conseils.timefmt import now_utc, to_paris
from conseils.validation import require_text
from conseils.viewer import FacilitatorView
from meetings.tables import Council
from minutes import files
from minutes.files import Incoming
from minutes.tables import Document

CATEGORIES = {  # in the library's order: the FPH forms first, as the agglomeration shows them
    "fph": "Fonds de Participation des Habitants (FPH)",
    "règlement": "Règlements",
    "plaquette": "Plaquettes",
    "autre": "Autres documents",
}
CATEGORY_ORDER = tuple(CATEGORIES)
FIELDS = ("title", "category", "council", "issued_on", "expires_on")
MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: int
    title: str
    category: str
    council_id: int | None
    council_slug: str | None
    council_name: str | None
    filename: str
    issued_on: date
    expires_on: date | None
    file_id: int
    size: int
    pages: int

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def url(self) -> str:
        return f"/documents/{self.id}/{quote(self.filename)}"

    @property
    def size_label(self) -> str:
        return files.size_label(self.size)

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today


def today() -> date:
    return to_paris(now_utc()).date()


def _not_found() -> NotFound:
    return NotFound("Ce document n'existe pas.", code="document_not_found")


def _columns() -> list[Any]:
    return [
        Document.id,
        Document.title,
        Document.category,
        Document.council.id.as_alias("council_id"),
        Document.council.slug.as_alias("council_slug"),
        Document.council.name.as_alias("council_name"),
        Document.filename,
        Document.issued_on,
        Document.expires_on,
        Document.file.id.as_alias("file_id"),
        Document.file.size.as_alias("size"),
        Document.file.pages.as_alias("pages"),
    ]


def _view(row: dict[str, Any]) -> DocumentView:
    return DocumentView(**row)


def _ordered(documents: list[DocumentView]) -> list[DocumentView]:
    """By category (the library's order), then newest first, then title."""
    documents = sorted(documents, key=lambda d: d.title.casefold())
    documents.sort(key=lambda d: d.issued_on, reverse=True)
    documents.sort(key=lambda d: CATEGORY_ORDER.index(d.category))
    return documents


# ---------------------------------------------------------------- reading


async def public_documents(
    *, council_id: int | None = None, every_council: bool = False
) -> list[DocumentView]:
    """Documents the public sees (not expired): the shared ones, plus `council_id`'s, or
    plus every council's (`every_council`)."""
    query = Document.select(*_columns())
    if council_id is None and not every_council:
        query = query.where(Document.council.is_null())
    elif not every_council:
        query = query.where((Document.council.is_null()) | (Document.council == council_id))
    day = today()
    found = [_view(row) for row in await query]
    return _ordered([d for d in found if not d.expired(day)])


async def get_document(document_id: int) -> DocumentView:
    row = await Document.select(*_columns()).where(Document.id == document_id).first()
    if row is None:
        raise _not_found()
    return _view(row)


async def download(document_id: int) -> tuple[files.FileInfo, str]:
    """The file of a document (expired ones too: their links were given) and its name."""
    document = await get_document(document_id)
    return await files.file_info(document.file_id), document.filename


async def documents_for(viewer: FacilitatorView) -> list[DocumentView]:
    """The back-office's list: every document for an administrator; a facilitator's
    councils' and the shared ones (which they read but do not change)."""
    query = Document.select(*_columns())
    if not viewer.is_admin:
        mine = list(viewer.council_ids) or [0]
        query = query.where(Document.council.is_null() | Document.council.is_in(mine))
    return _ordered([_view(row) for row in await query])


def may_manage(viewer: FacilitatorView, council_id: int | None) -> bool:
    return viewer.is_admin if council_id is None else viewer.may_write(council_id)


def _require_manage(viewer: FacilitatorView, council_id: int | None) -> None:
    if may_manage(viewer, council_id):
        return
    if council_id is None:
        raise Forbidden(
            "Seuls les administrateurs du site gèrent les documents communs.",
            code="admin_only",
        )
    raise Forbidden("Vous n'animez pas ce conseil citoyen.", code="not_your_council")


# ---------------------------------------------------------------- checking fields


def _date(field: str, value: str, *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput({field: "indiquez une date"})
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({field: "date invalide (attendu : AAAA-MM-JJ)"}) from None
    if not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        raise InvalidInput({field: "date hors des limites (2000 à 2100)"})
    return day


async def council_for_query(slug: str) -> int | None:
    """The council a query names by its slug (400 on `council` when none has it)."""
    return await _council_id(slug)


async def _council_id(slug: str) -> int | None:
    """ "" or absent: shared by all councils."""
    slug = slug.strip()
    if not slug:
        return None
    row = None
    if "\x00" not in slug and len(slug) <= 80:
        row = await Council.select(Council.id).where(Council.slug == slug).first()
    if row is None:
        raise InvalidInput({"council": "ce conseil citoyen n'existe pas"})
    return row["id"]


@dataclass(frozen=True, slots=True)
class _Fields:
    title: str
    category: str
    council_id: int | None
    issued_on: date
    expires_on: date | None


async def _checked(fields: dict[str, str]) -> _Fields:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": lambda: require_text("title", fields.get("title", ""), max_length=MAX_TITLE),
        "issued_on": lambda: _date("issued_on", fields.get("issued_on", ""), required=True),
        "expires_on": lambda: _date("expires_on", fields.get("expires_on", ""), required=False),
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidInput as exc:
            errors.update(exc.errors)
    category = fields.get("category", "").strip()
    if category not in CATEGORIES:
        errors["category"] = "choisissez une catégorie : " + ", ".join(CATEGORIES)
    try:
        values["council_id"] = await _council_id(fields.get("council", ""))
    except InvalidInput as exc:
        errors.update(exc.errors)
    issued, expires = values.get("issued_on"), values.get("expires_on")
    if issued and expires and expires < issued:
        errors["expires_on"] = "l'expiration ne peut pas précéder la date du document"
    if errors:
        raise InvalidInput(errors)
    return _Fields(values["title"], category, values["council_id"], issued, expires)


async def check_permission(viewer: FacilitatorView, fields: dict[str, str]) -> None:
    """Before a file is read: may this viewer write in the council the form names? (A
    council that does not exist is left to the full check.)"""
    try:
        council_id = await _council_id(fields.get("council", ""))
    except InvalidInput:
        return
    _require_manage(viewer, council_id)


async def _announce(*council_ids: int | None) -> None:
    """Council pages show documents: every process renders them afresh (a rare edit)."""
    for council_id in dict.fromkeys(council_ids):
        await changes.council_changed(council_id or 0)


# ---------------------------------------------------------------- writing

SEARCH_KIND = "document"


async def index_document(
    document_id: int, council_id: int | None, title: str, file_id: int
) -> None:
    """The document in the full-text search: its title and its PDF's text (extracted once,
    when the file was stored), in the write transaction."""
    await search.index(SEARCH_KIND, document_id, council_id, title, await files.text_of(file_id))


async def create(
    viewer: FacilitatorView, fields: dict[str, str], upload: Incoming | None
) -> DocumentView:
    """A new document from the form's fields and its received file. The fields and the
    permission are checked before the file is opened; the file is checked (a real,
    unencrypted PDF) and stored before the short transaction that writes the rows."""
    checked_fields = await _checked(fields)
    _require_manage(viewer, checked_fields.council_id)
    if upload is None:
        raise InvalidInput({"file": "joignez le fichier PDF"})
    pdf = await upload.check()
    filename = files.readable_filename(upload.filename, checked_fields.title)
    upload.keep(pdf)
    async with write_transaction():
        file_id = await files.save(pdf)
        rows = await Document.insert(
            Document(
                council=checked_fields.council_id,
                title=checked_fields.title,
                category=checked_fields.category,
                file=file_id,
                filename=filename,
                issued_on=checked_fields.issued_on,
                expires_on=checked_fields.expires_on,
            )
        ).returning(Document.id)
        document_id = rows[0]["id"]
        await index_document(document_id, checked_fields.council_id, checked_fields.title, file_id)
        await audit.record(
            viewer, "document.create", "document", document_id,
            council_id=checked_fields.council_id, detail=f"{pdf.size} octets",
        )  # fmt: skip
        await _announce(checked_fields.council_id)
    return await get_document(document_id)


async def update(
    viewer: FacilitatorView,
    document_id: int,
    fields: dict[str, str],
    upload: Incoming | None = None,
) -> DocumentView:
    """Change a document's fields, and its file when a new one is sent."""
    current = await get_document(document_id)
    _require_manage(viewer, current.council_id)
    checked_fields = await _checked(fields)
    _require_manage(viewer, checked_fields.council_id)
    changes_: dict[Any, Any] = {
        Document.title: checked_fields.title,
        Document.category: checked_fields.category,
        Document.council: checked_fields.council_id,
        Document.issued_on: checked_fields.issued_on,
        Document.expires_on: checked_fields.expires_on,
        Document.updated_at: now_utc(),
    }
    pdf = None
    if upload is not None:
        pdf = await upload.check()
        changes_[Document.filename] = files.readable_filename(upload.filename, checked_fields.title)
        upload.keep(pdf)
    async with write_transaction():
        if pdf is not None:
            changes_[Document.file] = await files.save(pdf)
        updated = (
            await Document.update(changes_).where(Document.id == document_id).returning(Document.id)
        )
        if not updated:
            raise _not_found()
        await audit.record(
            viewer, "document.update", "document", document_id,
            council_id=checked_fields.council_id,
        )  # fmt: skip
        await _announce(current.council_id, checked_fields.council_id)
    return await get_document(document_id)


async def delete(viewer: FacilitatorView, document_id: int) -> None:
    """Remove a document from the library. Its file stays in the store (content-addressed,
    it may be another document's too); nothing serves it without a document."""
    current = await get_document(document_id)
    _require_manage(viewer, current.council_id)
    async with write_transaction():
        deleted = await Document.delete().where(Document.id == document_id).returning(Document.id)
        if not deleted:
            raise _not_found()
        await search.unindex(SEARCH_KIND, document_id)
        await audit.record(
            viewer, "document.delete", "document", document_id, council_id=current.council_id
        )
        await _announce(current.council_id)


def grouped(found: list[DocumentView]) -> list[tuple[str, str, list[DocumentView]]]:
    """(category, heading, documents) in the library's order, empty categories left out."""
    return [
        (category, label, [d for d in found if d.category == category])
        for category, label in CATEGORIES.items()
        if any(d.category == category for d in found)
    ]
