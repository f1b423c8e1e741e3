"""Back-office pages of the minutes (`/animation/comptes-rendus`): the list, a meeting's
minutes or a month's bundle to create, the edit page (text, PDF, proposals discussed),
publish, the "mise à jour" email, delete a draft. Thin: every rule is in
`minutes.services`. The PDF form is read as a stream and checks its own CSRF token, as the
documents' forms do."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import Conflict, InvalidInput
from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from conseils.web.csrf import OWN_CSRF_CHECK
from meetings.services import councils
from meetings.services.meetings import MeetingView
from meetings.slots import OfficeLink
from minutes.controllers.backoffice import require_form_token
from minutes.files import MAX_MEGABYTES
from minutes.services import common, editing, publishing
from minutes.tables import Minutes
from minutes.uploads import MAX_BODY, Upload, read_form
from proposals.services.common import FOLLOW_UP_STATUSES, STATUS_LABELS

HOME = "/animation/comptes-rendus"
DONE = {
    "cree": "Le compte rendu est créé : complétez-le, puis publiez-le.",
    "deja": "Ce compte rendu existait déjà : le voici.",
    "modif": "Le compte rendu est enregistré.",
    "pdf": "Le PDF est joint.",
    "propositions": "Les propositions discutées sont enregistrées.",
    "publie": "Le compte rendu est publié : les personnes concernées le reçoivent par courriel.",
    "retire": "Le compte rendu n'est plus publié.",
    "maj": "La mise à jour est envoyée aux personnes concernées.",
    "maj-deja": "Cette mise à jour était déjà envoyée : rien de plus n'est parti.",
    "suppr": "Le brouillon est supprimé.",
}


def _see(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _values(found: common.MinutesView) -> dict[str, str]:
    return {
        "title": found.title,
        "summary": found.summary,
        "body": found.body,
        "decisions": found.decisions,
        "attendance": "" if found.attendance is None else str(found.attendance),
    }


async def meeting_link(meeting: MeetingView) -> OfficeLink | None:
    """ "Rédiger le compte rendu" on a published meeting's back-office page once it started
    (or the way to its minutes)."""
    if meeting.status != "published" or meeting.starts_at > now_utc():
        return None
    found = await Minutes.select(Minutes.id).where(Minutes.meeting == meeting.id).first()
    if found is not None:
        return OfficeLink("Compte rendu", f"{HOME}/{found['id']}")
    return OfficeLink("Rédiger le compte rendu", f"{HOME}/nouveau?reunion={meeting.id}")


class MinutesPages(Controller):
    path = "/comptes-rendus"

    async def _edit_page(
        self,
        viewer: FacilitatorView,
        found: common.MinutesView,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        flash: str | None = None,
    ) -> Template:
        concerned = await common.councils_concerned(found.council_id)
        return backoffice.page(
            "animation/minutes/edit.html",
            viewer,
            status_code=400 if errors else 200,
            flash=flash,
            minutes=found,
            values=values or _values(found),
            errors=errors or {},
            max_megabytes=MAX_MEGABYTES,
            candidates=await common.published_proposals_of(concerned),
            chosen={p.proposal_id: p for p in found.proposals},
            statuses={s: STATUS_LABELS[s] for s in FOLLOW_UP_STATUSES},
        )

    @get("/")
    async def list_page(
        self, viewer: NamedDependency[FacilitatorView], fait: FromQuery[str | None] = None
    ) -> Template:
        return backoffice.page(
            "animation/minutes/list.html",
            viewer,
            flash=DONE.get(fait or ""),
            found=await common.list_for(viewer),
        )

    @get("/nouveau")
    async def new(
        self, viewer: NamedDependency[FacilitatorView], reunion: FromQuery[int | None] = None
    ) -> Template:
        meeting = await common.meeting_row(reunion) if reunion is not None else None
        if meeting is not None:
            common.require_write(viewer, meeting["council"])
        every = await councils.list_councils()
        return backoffice.page(
            "animation/minutes/new.html",
            viewer,
            meeting=meeting,
            councils=[c for c in every if viewer.may_write(c.id)],
            values={"form_key": secrets.token_urlsafe(24), "month": now_utc().strftime("%Y-%m")},
            errors={},
        )

    @post("/nouveau", status_code=HTTP_303_SEE_OTHER)
    async def create(
        self, viewer: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        """A draft. The form's hidden random key makes a second click find the first."""
        values = {
            name: form_text(data, name, 200) for name in ("meeting", "month", "council", "form_key")
        }
        try:
            made, created = await editing.create(
                viewer, values, form_key=values["form_key"] or secrets.token_urlsafe(24)
            )
        except (InvalidInput, Conflict) as exc:
            errors = exc.errors if isinstance(exc, InvalidInput) else {"meeting": exc.message}
            meeting = None
            if values["meeting"].isdigit():
                meeting = await common.meeting_row(int(values["meeting"]))
            every = await councils.list_councils()
            return backoffice.page(
                "animation/minutes/new.html",
                viewer,
                status_code=409 if isinstance(exc, Conflict) else 400,
                meeting=meeting,
                councils=[c for c in every if viewer.may_write(c.id)],
                values=values,
                errors=errors,
            )
        return _see(f"{HOME}/{made.id}?fait={'cree' if created else 'deja'}")

    @get("/{minutes_id:int}")
    async def edit(
        self,
        viewer: NamedDependency[FacilitatorView],
        minutes_id: FromPath[int],
        fait: FromQuery[str | None] = None,
    ) -> Template:
        found = await common.get_own(viewer, minutes_id)
        return await self._edit_page(viewer, found, flash=DONE.get(fait or ""))

    @post("/{minutes_id:int}", status_code=HTTP_303_SEE_OTHER)
    async def save(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        values = {name: form_text(data, name) for name in editing.FIELDS}
        try:
            await editing.update(viewer, minutes_id, values)
        except InvalidInput as exc:
            found = await common.get_own(viewer, minutes_id)
            return await self._edit_page(viewer, found, values=values, errors=exc.errors)
        return _see(f"{HOME}/{minutes_id}?fait=modif")

    @post(
        "/{minutes_id:int}/pdf",
        status_code=HTTP_303_SEE_OTHER,
        opt=OWN_CSRF_CHECK,
        request_max_body_size=MAX_BODY,
    )
    async def upload_pdf(
        self, request: Request, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Redirect | Template:
        found = await common.get_own(viewer, minutes_id)
        upload = Upload()

        async def before_file(fields: dict[str, str]) -> None:
            require_form_token(request, fields)
            await editing.check_permission(viewer, minutes_id)

        try:
            async with read_form(request, upload, before_file=before_file):
                require_form_token(request, upload.fields)
                await editing.attach(viewer, minutes_id, upload.file)
        except InvalidInput as exc:
            return await self._edit_page(viewer, found, errors=exc.errors)
        return _see(f"{HOME}/{minutes_id}?fait=pdf")

    @post("/{minutes_id:int}/propositions", status_code=HTTP_303_SEE_OTHER)
    async def proposals(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        """`discussed` (ids ticked), and for each `status_{id}` and `note_{id}`."""
        ticked = data.get("discussed", [])
        ticked = ticked if isinstance(ticked, list) else [ticked]
        items = []
        for value in ticked[: editing.MAX_PROPOSALS + 1]:
            if isinstance(value, str) and value.isdigit() and len(value) < 12:
                proposal_id = int(value)
                items.append(
                    (
                        proposal_id,
                        form_text(data, f"status_{proposal_id}", 20),
                        form_text(data, f"note_{proposal_id}", 1_000),
                    )
                )
        try:
            await editing.set_proposals(viewer, minutes_id, items)
        except InvalidInput as exc:
            found = await common.get_own(viewer, minutes_id)
            return await self._edit_page(viewer, found, errors=exc.errors)
        return _see(f"{HOME}/{minutes_id}?fait=propositions")

    @post("/{minutes_id:int}/publier", status_code=HTTP_303_SEE_OTHER)
    async def publish(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Redirect | Template:
        try:
            await publishing.publish(viewer, minutes_id)
        except InvalidInput as exc:
            found = await common.get_own(viewer, minutes_id)
            return await self._edit_page(viewer, found, errors=exc.errors)
        return _see(f"{HOME}/{minutes_id}?fait=publie")

    @post("/{minutes_id:int}/retirer", status_code=HTTP_303_SEE_OTHER)
    async def unpublish(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Redirect:
        await publishing.unpublish(viewer, minutes_id)
        return _see(f"{HOME}/{minutes_id}?fait=retire")

    @get("/{minutes_id:int}/mise-a-jour")
    async def confirm_update(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Template:
        found = await common.get_own(viewer, minutes_id)
        return backoffice.page("animation/minutes/update.html", viewer, minutes=found)

    @post("/{minutes_id:int}/mise-a-jour", status_code=HTTP_303_SEE_OTHER)
    async def send_update(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int], data: Form
    ) -> Redirect:
        expected = form_text(data, "expected", 12)
        _, sent = await publishing.send_update(
            viewer, minutes_id, expected=int(expected) if expected.isdigit() else None
        )
        return _see(f"{HOME}/{minutes_id}?fait={'maj' if sent else 'maj-deja'}")

    @get("/{minutes_id:int}/supprimer")
    async def confirm_delete(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Template:
        found = await common.get_own(viewer, minutes_id)
        return backoffice.page("animation/minutes/delete.html", viewer, minutes=found)

    @post("/{minutes_id:int}/supprimer", status_code=HTTP_303_SEE_OTHER)
    async def delete(
        self, viewer: NamedDependency[FacilitatorView], minutes_id: FromPath[int]
    ) -> Redirect:
        await editing.delete(viewer, minutes_id)
        return _see(f"{HOME}?fait=suppr")
