"""Back-office pages of the documents library (`/animation/documents`): list, upload, edit,
delete. Thin: every rule is in `minutes.documents`.

The upload forms are read as a stream (`minutes.uploads`), so Litestar's CSRF middleware,
which would read the whole body to find the token, is off on them: the handler checks the
token itself, from the form's first field, before a byte of the file is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.utils.scope.state import ScopeState

from conseils import backoffice
from conseils.errors import Forbidden, InvalidInput
from conseils.settings import get_settings
from conseils.viewer import FacilitatorView
from conseils.web.csrf import OWN_CSRF_CHECK, token_matches
from meetings.services import councils
from minutes import documents
from minutes.files import MAX_MEGABYTES
from minutes.uploads import MAX_BODY, Upload, read_form

HOME = "/animation/documents"
FORM = "animation/documents/form.html"
DONE = {
    "ajout": "Le document est ajouté.",
    "modif": "Le document est enregistré.",
    "suppr": "Le document est supprimé.",
}


def _values(document: documents.DocumentView) -> dict[str, str]:
    return {
        "title": document.title,
        "category": document.category,
        "council": document.council_slug or "",
        "issued_on": document.issued_on.isoformat(),
        "expires_on": document.expires_on.isoformat() if document.expires_on else "",
    }


def require_form_token(request: Request, fields: dict[str, str]) -> None:
    token = fields.get("_csrf_token", "")
    if not token_matches(request, token, get_settings()):
        raise Forbidden(
            "Ce formulaire a expiré ou ne vient pas du site : rechargez la page.",
            code="csrf",
        )
    ScopeState.from_scope(request.scope).csrf_token = token  # the form shown again has it


@contextlib.asynccontextmanager
async def _upload(
    request: Request, viewer: FacilitatorView, upload: Upload
) -> AsyncIterator[Upload]:
    async def before_file(fields: dict[str, str]) -> None:
        require_form_token(request, fields)
        await documents.check_permission(viewer, fields)

    async with read_form(request, upload, before_file=before_file):
        require_form_token(request, upload.fields)
        yield upload


class DocumentPages(Controller):
    path = "/documents"

    async def _form(
        self,
        viewer: FacilitatorView,
        values: dict[str, Any],
        *,
        document: documents.DocumentView | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        every = await councils.list_councils()
        mine = [c for c in every if viewer.may_write(c.id)]
        return backoffice.page(
            FORM,
            viewer,
            status_code=400 if errors else 200,
            document=document,
            values=values,
            errors=errors or {},
            councils=mine,
            categories=documents.CATEGORIES,
            max_megabytes=MAX_MEGABYTES,
        )

    @get("/")
    async def list_page(
        self, viewer: NamedDependency[FacilitatorView], fait: FromQuery[str | None] = None
    ) -> Template:
        found = await documents.documents_for(viewer)
        return backoffice.page(
            "animation/documents/list.html",
            viewer,
            flash=DONE.get(fait or ""),
            documents=found,
            today=documents.today(),
            may_manage={d.id: documents.may_manage(viewer, d.council_id) for d in found},
        )

    @get("/nouveau")
    async def new(self, viewer: NamedDependency[FacilitatorView]) -> Template:
        first = next(iter(sorted(viewer.council_ids)), None)
        council = ""
        if first is not None and not viewer.is_admin:
            council = next((c.slug for c in await councils.list_councils() if c.id == first), "")
        return await self._form(
            viewer,
            {
                "category": "autre",
                "council": council,
                "issued_on": documents.today().isoformat(),
            },
        )

    @post(
        "/nouveau",
        status_code=HTTP_303_SEE_OTHER,
        opt=OWN_CSRF_CHECK,
        request_max_body_size=MAX_BODY,
    )
    async def create(
        self, request: Request, viewer: NamedDependency[FacilitatorView]
    ) -> Redirect | Template:
        upload = Upload()
        try:
            async with _upload(request, viewer, upload):
                await documents.create(viewer, upload.fields, upload.file)
        except InvalidInput as exc:
            return await self._form(viewer, upload.fields, errors=exc.errors)
        return Redirect(f"{HOME}?fait=ajout", status_code=HTTP_303_SEE_OTHER)

    @get("/{document_id:int}")
    async def edit(
        self, viewer: NamedDependency[FacilitatorView], document_id: FromPath[int]
    ) -> Template:
        document = await documents.get_document(document_id)
        if not documents.may_manage(viewer, document.council_id):
            raise Forbidden("Vous ne gérez pas ce document.", code="not_your_council")
        return await self._form(viewer, _values(document), document=document)

    @post(
        "/{document_id:int}",
        status_code=HTTP_303_SEE_OTHER,
        opt=OWN_CSRF_CHECK,
        request_max_body_size=MAX_BODY,
    )
    async def save(
        self,
        request: Request,
        viewer: NamedDependency[FacilitatorView],
        document_id: FromPath[int],
    ) -> Redirect | Template:
        document = await documents.get_document(document_id)
        if not documents.may_manage(viewer, document.council_id):
            raise Forbidden("Vous ne gérez pas ce document.", code="not_your_council")
        upload = Upload()
        try:
            async with _upload(request, viewer, upload):
                await documents.update(viewer, document_id, upload.fields, upload.file)
        except InvalidInput as exc:
            return await self._form(viewer, upload.fields, document=document, errors=exc.errors)
        return Redirect(f"{HOME}?fait=modif", status_code=HTTP_303_SEE_OTHER)

    @get("/{document_id:int}/supprimer")
    async def confirm_delete(
        self, viewer: NamedDependency[FacilitatorView], document_id: FromPath[int]
    ) -> Template:
        document = await documents.get_document(document_id)
        if not documents.may_manage(viewer, document.council_id):
            raise Forbidden("Vous ne gérez pas ce document.", code="not_your_council")
        return backoffice.page("animation/documents/delete.html", viewer, document=document)

    @post("/{document_id:int}/supprimer", status_code=HTTP_303_SEE_OTHER)
    async def delete(
        self, viewer: NamedDependency[FacilitatorView], document_id: FromPath[int]
    ) -> Redirect:
        await documents.delete(viewer, document_id)
        return Redirect(f"{HOME}?fait=suppr", status_code=HTTP_303_SEE_OTHER)
