"""The documents library in the JSON API (/api/v1/documents): read by anyone, written by
facilitators with a bearer token. A document is created with `multipart/form-data` (the
PDF and its fields), read as a stream like the back-office's form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, RequestBody, Schema
from litestar.params import FromQuery, PathParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Struct

from conseils.settings import get_settings
from conseils.viewer import FacilitatorView
from conseils.web.abuse import UPLOAD
from conseils.web.api_spec import ADMIN_ONLY, BEARER, INVALID, ApiOperation, Reason, operation
from minutes import documents
from minutes.files import MAX_MEGABYTES
from minutes.uploads import MAX_BODY, Upload, read_form

Category = Literal["règlement", "fph", "plaquette", "autre"]
DocumentId = Annotated[int, PathParameter(description="Document id")]
BEARER_SECURITY = [{"bearer": []}]
NOT_YOUR_COUNCIL = Reason(
    403, "not_your_council", "the council is not one of yours (administrators run them all)"
)
SHARED_ADMIN_ONLY = Reason(
    ADMIN_ONLY.status, ADMIN_ONLY.code, "a shared document (no council): administrators only"
)
DOCUMENT_NOT_FOUND = Reason(404, "document_not_found", "no such document")
UPLOAD_TOO_LARGE = Reason(413, "http_413", f"the body is larger than {MAX_MEGABYTES} MB")


class DocumentOut(Struct):
    id: int
    title: str
    category: Category
    council: str | None  # the council's slug; null: shared by all councils
    filename: str
    issued_on: date
    expires_on: date | None
    size: int  # bytes
    pages: int
    url: str  # the PDF

    @classmethod
    def of(cls, d: documents.DocumentView) -> DocumentOut:
        return cls(
            id=d.id,
            title=d.title,
            category=d.category,  # type: ignore[arg-type]
            council=d.council_slug,
            filename=d.filename,
            issued_on=d.issued_on,
            expires_on=d.expires_on,
            size=d.size,
            pages=d.pages,
            url=get_settings().base_url.rstrip("/") + d.url,
        )


def _text(description: str, **more: object) -> Schema:
    return Schema(type="string", description=description, **more)  # type: ignore[arg-type]


UPLOAD_SCHEMA = Schema(
    type="object",  # type: ignore[arg-type]
    required=["title", "category", "issued_on", "file"],
    properties={
        "title": _text("Up to 200 characters", max_length=200),
        "category": _text("The library's heading", enum=list(documents.CATEGORIES)),
        "council": _text("The council's slug; empty or absent: shared by all (admins only)"),
        "issued_on": _text("The document's date", format="date"),
        "expires_on": _text("Optional: not shown to the public after this day", format="date"),
        "file": _text(
            f"The PDF, {MAX_MEGABYTES} MB at most, not encrypted; its name (without folders) "
            "names the download",
            format="binary",
        ),
    },
)


@dataclass
class UploadOperation(ApiOperation):
    """An operation whose body is a `multipart/form-data` form with a PDF (read as a
    stream, so Litestar cannot describe it from a `data` parameter)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=UPLOAD_SCHEMA)},
            required=True,
        )
        super().__post_init__()


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]

    @get("/", **operation("listDocuments", "List the documents", INVALID))
    async def list_documents(self, council: FromQuery[str | None] = None) -> list[DocumentOut]:
        """The library as the public sees it (anyone may call; expired documents left out),
        by category, newest first: every council's and the shared ones, or with `council`
        (a slug) that council's and the shared ones."""
        if council is None:
            found = await documents.public_documents(every_council=True)
        else:
            council_id = await documents.council_for_query(council)
            found = await documents.public_documents(council_id=council_id)
        return [DocumentOut.of(d) for d in found]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        security=BEARER_SECURITY,
        request_max_body_size=MAX_BODY,
        opt={UPLOAD: True},
        **{
            **operation(
                "createDocument",
                "Add a document",
                INVALID,
                *BEARER,
                NOT_YOUR_COUNCIL,
                SHARED_ADMIN_ONLY,
                UPLOAD_TOO_LARGE,
            ),
            "operation_class": UploadOperation,
        },
    )
    async def create_document(
        self, request: Request, viewer: NamedDependency[FacilitatorView]
    ) -> DocumentOut:
        """A new document of a council's library (its facilitators) or of the shared one
        (administrators), from a `multipart/form-data` form. The file must be a real PDF
        (opened and its pages counted), not encrypted, not empty, at most 20 MB: otherwise
        400 on `file`, with the reason in French (a body over the limit: 413, or 400 when
        it was refused while arriving). Its text is extracted for search."""
        upload = Upload()

        async def before_file(fields: dict[str, str]) -> None:
            await documents.check_permission(viewer, fields)

        async with read_form(request, upload, before_file=before_file):
            return DocumentOut.of(await documents.create(viewer, upload.fields, upload.file))

    @delete(
        "/{document_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER_SECURITY,
        **operation(
            "deleteDocument",
            "Delete a document",
            *BEARER,
            NOT_YOUR_COUNCIL,
            SHARED_ADMIN_ONLY,
            DOCUMENT_NOT_FOUND,
        ),
    )
    async def delete_document(
        self, viewer: NamedDependency[FacilitatorView], document_id: DocumentId
    ) -> None:
        """Remove a document from the library (its council's facilitators; a shared one:
        administrators). Its address stops answering."""
        await documents.delete(viewer, document_id)
