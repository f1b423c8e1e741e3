"""A meeting's registrants in the back-office (`/animation/reunions/{id}/…`): the list with
cancel and "indésirable", walk-ins, attendance in one submit, the CSV by a plain link, the
attendance sheet (page to print, and PDF), and a message to the registrants.

Thin: every rule is in `meetings.services` (registrations, attendance_sheet, messages),
which the API calls too. After a successful POST the answer is a 303 to the list, whose
`fait` and `n` query parameters choose a fixed message (never text from the request).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.backoffice import form_text
from conseils.db import MAX_ID
from conseils.errors import Conflict, InvalidInput, NotFound
from conseils.timefmt import to_paris
from conseils.viewer import FacilitatorView
from conseils.web.csrf import BACKOFFICE
from meetings import sheet_pdf
from meetings.controllers.registrations import registrations_csv
from meetings.services import attendance_sheet, messages, registrants
from meetings.services.registrants import MeetingHead, RegistrationView
from meetings.services.registrations import ATTENDING_AS

TEMPLATES = "animation/registrants"
MAX_PRESENT_FIELDS = 10_000


def list_url(meeting_id: int, done: str | None = None, n: int | None = None) -> str:
    url = f"{BACKOFFICE}/reunions/{meeting_id}/inscriptions"
    if done:
        url += f"?fait={done}" + (f"&n={n}" if n is not None else "")
    return url


def _plural(n: int, one: str, many: str) -> str:
    return one.format(n) if n <= 1 else many.format(n)


def flash_for(done: str | None, n: int | None) -> str | None:
    """The message of a done action, from a fixed list."""
    n = max(0, min(n or 0, MAX_ID))
    match done:
        case "presences":
            if n == 0:
                return "Aucun présent enregistré."
            return _plural(n, "{} présent enregistré.", "{} présents enregistrés.")
        case "annulee":
            return (
                "Inscription annulée : la personne en est prévenue par courriel, et la liste "
                "d'attente avance."
            )
        case "indesirable":
            return "Inscription supprimée comme indésirable, sans courriel à l'adresse."
        case "sur-place":
            return "Personne ajoutée sur place, marquée présente."
        case "deja-inscrite":
            return "Cette adresse était déjà inscrite : la personne est marquée présente."
        case "message":
            return _plural(n, "Message envoyé à {} personne.", "Message envoyé à {} personnes.")
        case "message-deja":
            return "Ce message était déjà parti : il n'est pas envoyé une seconde fois."
    return None


def counts(items: list[RegistrationView]) -> dict[str, int]:
    confirmed = [item for item in items if item.status == "confirmed"]
    return {
        "confirmed": len(confirmed),
        "waitlisted": sum(1 for item in items if item.status == "waitlisted"),
        "cancelled": sum(1 for item in items if item.status == "cancelled"),
        "walk_ins": sum(1 for item in confirmed if item.walk_in),
        "present": sum(1 for item in items if item.attended),
    }


def file_name(meeting: MeetingHead, what: str, extension: str) -> str:
    """`emargement-2026-12-03-cafe-citoyen-des-tamaris.pdf`: ASCII, readable."""
    ascii_title = (
        unicodedata.normalize("NFKD", meeting.title).encode("ascii", "ignore").decode().lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60].rstrip("-") or "reunion"
    return f"{what}-{to_paris(meeting.starts_at):%Y-%m-%d}-{slug}.{extension}"


def _download(body: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _ids(values: list[Any]) -> set[int]:
    """Registration ids from check-boxes: anything but a plausible id refuses the form."""
    if len(values) > MAX_PRESENT_FIELDS:
        raise InvalidInput({"presences": "trop de cases cochées"})
    ids = set()
    for value in values:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise InvalidInput({"presences": "la liste envoyée n'est pas valable"})
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise InvalidInput({"presences": "la liste envoyée n'est pas valable"})
        ids.add(number)
    return ids


class RegistrantsPages(Controller):
    path = "/reunions/{meeting_id:int}"

    async def _list_page(
        self,
        viewer: FacilitatorView,
        meeting_id: int,
        *,
        status_code: int = 200,
        flash: str | None = None,
        walk_in: dict[str, str] | None = None,
        walk_in_errors: dict[str, str] | None = None,
        attendance_errors: dict[str, str] | None = None,
        refusal: str | None = None,
    ) -> Template:
        meeting, items = await registrants.registrants_of(viewer, meeting_id)
        return backoffice.page(
            f"{TEMPLATES}/list.html",
            viewer,
            status_code=status_code,
            flash=flash,
            meeting=meeting,
            items=items,
            counts=counts(items),
            attending_as=ATTENDING_AS,
            walk_in=walk_in or {},
            walk_in_errors=walk_in_errors or {},
            attendance_errors=attendance_errors or {},
            refusal=refusal,
        )

    @get("/inscriptions")
    async def registrants(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        fait: FromQuery[str | None] = None,
        n: FromQuery[int | None] = None,
    ) -> Template:
        return await self._list_page(viewer, meeting_id, flash=flash_for(fait, n))

    @get("/inscriptions.csv")
    async def export_csv(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Response[bytes]:
        """The API's CSV (same code), by a plain link: the session is the credential."""
        meeting, items = await registrants.registrants_of(viewer, meeting_id)
        return _download(
            registrations_csv(items),
            "text/csv",  # Litestar adds "; charset=utf-8"
            file_name(meeting, "inscriptions", "csv"),
        )

    @post("/inscriptions/sur-place", status_code=HTTP_303_SEE_OTHER)
    async def add_walk_in(
        self, request: Request, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Redirect | Template:
        form = await request.form()
        fields = {name: form_text(form, name) for name in ("name", "attending_as", "email")}
        try:
            _, seated = await registrants.add_walk_in(viewer, meeting_id, fields)
        except InvalidInput as exc:
            return await self._list_page(
                viewer, meeting_id, status_code=400, walk_in=fields, walk_in_errors=exc.errors
            )
        except Conflict as exc:
            return await self._list_page(
                viewer, meeting_id, status_code=409, walk_in=fields, refusal=exc.message
            )
        done = "sur-place" if seated else "deja-inscrite"
        return Redirect(list_url(meeting_id, done), status_code=HTTP_303_SEE_OTHER)

    @post("/inscriptions/presences", status_code=HTTP_303_SEE_OTHER)
    async def attendance(
        self, request: Request, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Redirect | Template:
        """Every check-box of the list in one submit, one transaction (`listed`: the rows the
        facilitator saw, so that a sign-up arrived meanwhile is not marked absent)."""
        form = await request.form()
        try:
            present = _ids(form.getall("present", []))
            listed = _ids(form.getall("listed", []))
            count = await registrants.record_attendance(
                viewer, meeting_id, present, listed | present
            )
        except InvalidInput as exc:
            return await self._list_page(
                viewer, meeting_id, status_code=400, attendance_errors=exc.errors
            )
        return Redirect(list_url(meeting_id, "presences", count), status_code=HTTP_303_SEE_OTHER)

    async def _confirm_page(
        self, viewer: FacilitatorView, meeting_id: int, registration_id: int, action: str
    ) -> Template:
        meeting, items = await registrants.registrants_of(viewer, meeting_id)
        item = next((i for i in items if i.id == registration_id), None)
        if item is None:
            raise NotFound("Cette inscription n'existe pas.", code="registration_not_found")
        return backoffice.page(
            f"{TEMPLATES}/confirm.html", viewer, meeting=meeting, item=item, action=action
        )

    @get("/inscriptions/{registration_id:int}/annuler")
    async def confirm_cancel(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        registration_id: FromPath[int],
    ) -> Template:
        return await self._confirm_page(viewer, meeting_id, registration_id, "annuler")

    @post("/inscriptions/{registration_id:int}/annuler", status_code=HTTP_303_SEE_OTHER)
    async def cancel(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        registration_id: FromPath[int],
    ) -> Redirect:
        """The usual cancellation: the person gets the CANCEL, the waiting list moves up."""
        await registrants.cancel_for(viewer, registration_id, meeting_id=meeting_id)
        return Redirect(list_url(meeting_id, "annulee"), status_code=HTTP_303_SEE_OTHER)

    @get("/inscriptions/{registration_id:int}/indesirable")
    async def confirm_spam(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        registration_id: FromPath[int],
    ) -> Template:
        return await self._confirm_page(viewer, meeting_id, registration_id, "indesirable")

    @post("/inscriptions/{registration_id:int}/indesirable", status_code=HTTP_303_SEE_OTHER)
    async def spam(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        registration_id: FromPath[int],
    ) -> Redirect:
        """Spam: deleted, and the address hears nothing (someone else typed it)."""
        await registrants.delete_for(viewer, registration_id, spam=True, meeting_id=meeting_id)
        return Redirect(list_url(meeting_id, "indesirable"), status_code=HTTP_303_SEE_OTHER)

    @get("/emargement")
    async def sheet(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        sheet = await attendance_sheet.sheet_of(viewer, meeting_id)
        return backoffice.page(f"{TEMPLATES}/sheet.html", viewer, sheet=sheet)

    @get("/emargement.pdf")
    async def sheet_pdf(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Response[bytes]:
        sheet = await attendance_sheet.sheet_of(viewer, meeting_id)
        # fpdf2 reads and subsets the font: a few tenths of a second, off the event loop
        body = await anyio.to_thread.run_sync(sheet_pdf.render, sheet)
        return _download(
            body,
            "application/pdf",
            file_name(sheet.meeting, "emargement", "pdf"),
        )

    async def _message_page(
        self,
        viewer: FacilitatorView,
        meeting_id: int,
        *,
        status_code: int = 200,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        refusal: str | None = None,
    ) -> Template:
        meeting = await registrants.meeting_for(viewer, meeting_id)
        confirmed, waiting = await messages.count_recipients(viewer, meeting_id)
        form = form or {}
        return backoffice.page(
            f"{TEMPLATES}/message.html",
            viewer,
            status_code=status_code,
            meeting=meeting,
            confirmed=confirmed,
            waiting=waiting,
            form=form,
            # the same key again after an error: the message has not gone yet
            form_key=form.get("form_key") or messages.new_form_key(),
            errors=errors or {},
            refusal=refusal,
            max_subject=messages.MAX_SUBJECT,
            max_text=messages.MAX_TEXT,
        )

    @get("/message")
    async def message_form(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        return await self._message_page(viewer, meeting_id)

    @post("/message", status_code=HTTP_303_SEE_OTHER)
    async def send_message(
        self, request: Request, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Redirect | Template:
        form = await request.form()
        fields: dict[str, Any] = {
            name: form_text(form, name) for name in ("subject", "text", "form_key")
        }
        fields["waitlist"] = form.get("waitlist") == "oui"
        try:
            sent = await messages.message_registrants(
                viewer,
                meeting_id,
                subject=fields["subject"],
                text=fields["text"],
                form_key=fields["form_key"],
                waitlist=fields["waitlist"],
            )
        except InvalidInput as exc:
            if "form_key" in exc.errors:
                fields["form_key"] = ""  # a new one: this one was not ours
            return await self._message_page(
                viewer, meeting_id, status_code=400, form=fields, errors=exc.errors
            )
        except Conflict as exc:
            return await self._message_page(
                viewer, meeting_id, status_code=409, form=fields, refusal=exc.message
            )
        done = "message-deja" if sent.repeated else "message"
        return Redirect(list_url(meeting_id, done, sent.recipients), status_code=HTTP_303_SEE_OTHER)
