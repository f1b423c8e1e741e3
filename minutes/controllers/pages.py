"""Public pages of the documents library: `/documents` and each document's file; the
section of a council's page (contributed to the meetings app's `COUNCIL_PAGE` slot)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup

from conseils.web.templating import template_environment
from meetings.services.councils import CouncilView
from meetings.slots import PageSection
from minutes import documents
from minutes.files import pdf_response

_environment = None


def _section_template():
    global _environment
    if _environment is None:
        _environment = template_environment()
    return _environment.get_template("pages/_council_documents.html")


async def council_documents(council: CouncilView) -> PageSection | None:
    """The documents of a council's page: its own and the shared ones."""
    found = await documents.public_documents(council_id=council.id)
    if not found:
        return None
    html = _section_template().render(groups=documents.grouped(found))
    return PageSection(title="Documents", html=Markup(html), anchor="documents")  # noqa: S704


class DocumentPages(Controller):
    path = "/documents"
    include_in_schema = False

    @get("/")
    async def library(self) -> Template:
        found = await documents.public_documents(every_council=True)
        return Template("pages/documents.html", context={"groups": documents.grouped(found)})

    @get("/{document_id:int}/{name:str}")
    async def file(
        self, request: Request, document_id: FromPath[int], name: FromPath[str]
    ) -> Response:
        """The PDF (the name in the address is for people; the id finds the document)."""
        info, filename = await documents.download(document_id)
        return pdf_response(request, info, filename)
