"""The facilitators' meeting pages under /animation/reunions: the list of their councils'
meetings, the form (create, edit, duplicate), the preview of a draft, publish, cancel with
a reason, delete a draft. Thin: every rule is the meetings service's, which also writes the
audit log line of each action in its transaction.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, MediaType, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import Conflict, Forbidden, InvalidInput
from conseils.timefmt import now_utc, to_paris
from conseils.viewer import FacilitatorView
from meetings.controllers import meeting_form
from meetings.controllers.pages import meeting_page_context
from meetings.services import councils, meetings
from meetings.services.common import KIND_LABELS
from meetings.services.local_time import offset_label
from meetings.services.meetings import MAX_CANCELLATION_REASON, MeetingView
from meetings.slots import OFFICE_MEETING_LINKS

LIST = "/animation/reunions"
# After a successful POST the browser is sent to a page (post/redirect/get) that says what
# was done: `?fait=<code>`, one of these.
DONE = {
    "creee": "La réunion est enregistrée comme brouillon : prévisualisez-la, puis publiez-la.",
    "deja": "Ce formulaire avait déjà été envoyé : la réunion n'est enregistrée qu'une fois.",
    "modifiee": "Les modifications sont enregistrées.",
    "publiee": "La réunion est publiée : les personnes abonnées au conseil en sont prévenues.",
    "annulee": "La réunion est annulée : les inscrits et les abonnés sont prévenus, avec le motif.",
    "supprimee": "Le brouillon est supprimé.",
}
Done = Annotated[str | None, QueryParameter(name="fait", max_length=20, required=False)]


def _url(meeting_id: int, action: str = "") -> str:
    return f"{LIST}/{meeting_id}" + (f"/{action}" if action else "")


def _see(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


async def _my_councils(viewer: FacilitatorView) -> list[councils.CouncilView]:
    return [council for council in await councils.list_councils() if viewer.may_write(council.id)]


def _form_page(
    viewer: FacilitatorView,
    *,
    values: dict[str, str],
    choices: list[councils.CouncilView],
    meeting: MeetingView | None = None,
    source: MeetingView | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    return backoffice.page(
        "animation/meetings/form.html",
        viewer,
        status_code=status_code,
        values=values,
        errors=errors or {},
        refusal=refusal,
        offsets=meeting_form.offsets(values),
        councils=choices,
        kinds=KIND_LABELS,
        meeting=meeting,
        source=source,
        max_description=meetings.MAX_DESCRIPTION,
    )


def _duplicate_shift(source: MeetingView, day: date | None) -> int | None:
    """Days from the source's (Paris) date to the new one: the picked date, else one week
    later if that is still to come, else None (the form's dates left empty)."""
    start = to_paris(source.starts_at).date()
    if day is not None:
        return (day - start).days
    if source.starts_at + timedelta(days=7) > now_utc():
        return 7
    return None


class MeetingPages(Controller):
    path = "/reunions"

    # ------------------------------------------------------------ reading

    @get("/")
    async def list_page(
        self,
        viewer: NamedDependency[FacilitatorView],
        conseil: Annotated[str | None, QueryParameter(max_length=80, required=False)] = None,
        fait: Done = None,
    ) -> Template:
        """My councils' meetings: upcoming, drafts, past; filtered by one council."""
        choices = await _my_councils(viewer)
        chosen = next((c for c in choices if c.slug == conseil), None) if conseil else None
        if conseil and chosen is None:
            raise InvalidInput({"conseil": "vous n'animez pas ce conseil, ou il n'existe pas"})
        council_id = chosen.id if chosen else None
        return backoffice.page(
            "animation/meetings/list.html",
            viewer,
            flash=DONE.get(fait or ""),
            councils=choices,
            chosen=chosen,
            now=now_utc(),
            upcoming=await meetings.of_my_councils(viewer, "upcoming", council_id=council_id),
            drafts=await meetings.of_my_councils(viewer, "drafts", council_id=council_id),
            past=await meetings.of_my_councils(viewer, "past", council_id=council_id, limit=50),
        )

    @get("/{meeting_id:int}")
    async def detail(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int], fait: Done = None
    ) -> Template:
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        week_later = to_paris(meeting.starts_at).date() + timedelta(days=7)
        return backoffice.page(
            "animation/meetings/detail.html",
            viewer,
            flash=DONE.get(fait or ""),
            meeting=meeting,
            offset=offset_label(meeting.starts_at),
            duplicate_day=week_later.isoformat() if week_later > now_utc().date() else "",
            office_links=await OFFICE_MEETING_LINKS.collect(meeting),
        )

    @get("/{meeting_id:int}/apercu")
    async def preview(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        """The page residents will see, from the public page's own template and context,
        under a banner; never cached (the back-office answers no-store) nor indexed."""
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        return Template(
            "animation/meetings/preview.html",
            context=await meeting_page_context(meeting, now_utc()),
            media_type=MediaType.HTML,
            headers={"X-Robots-Tag": "noindex, nofollow"},
        )

    # ------------------------------------------------------------ the form

    @get("/nouvelle")
    async def new_form(
        self,
        viewer: NamedDependency[FacilitatorView],
        conseil: Annotated[str | None, QueryParameter(max_length=80, required=False)] = None,
    ) -> Template:
        choices = await _my_councils(viewer)
        values = meeting_form.raw_values({"kind": "council"})
        values["council"] = conseil or (choices[0].slug if len(choices) == 1 else "")
        values["form_key"] = secrets.token_urlsafe(24)
        return _form_page(viewer, values=values, choices=choices)

    @get("/{meeting_id:int}/dupliquer")
    async def duplicate_form(
        self,
        viewer: NamedDependency[FacilitatorView],
        meeting_id: FromPath[int],
        date_: Annotated[str | None, QueryParameter(name="date", max_length=20)] = None,
    ) -> Template:
        """The creation form filled from this meeting, its times on the date picked."""
        source = await meetings.get_own_meeting(viewer, meeting_id)
        day = None
        if date_:
            try:
                day = date.fromisoformat(date_)
            except ValueError:
                raise InvalidInput({"date": "date invalide : aaaa-mm-jj"}) from None
        values = meeting_form.values_of(source, shift_days=_duplicate_shift(source, day))
        values["form_key"] = secrets.token_urlsafe(24)
        return _form_page(viewer, values=values, choices=await _my_councils(viewer), source=source)

    @post("/nouvelle", status_code=HTTP_303_SEE_OTHER)
    async def create(
        self, viewer: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        """A draft. The form's hidden random key is the service's idempotency key: a second
        click on "Enregistrer" finds the first meeting instead of making another."""
        values = meeting_form.raw_values(data)
        if not values["form_key"]:
            values["form_key"] = secrets.token_urlsafe(24)
        try:
            fields = meeting_form.parse(values, creating=True)
            meeting, created = await meetings.create_meeting(
                viewer, fields, idempotency_key=values["form_key"]
            )
        except (InvalidInput, Forbidden, Conflict) as exc:
            return self._refused(viewer, values, exc, await _my_councils(viewer))
        return _see(_url(meeting.id) + ("?fait=creee" if created else "?fait=deja"))

    @get("/{meeting_id:int}/modifier")
    async def edit_form(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        values = meeting_form.values_of(meeting)
        return _form_page(viewer, values=values, choices=[], meeting=meeting)

    @post("/{meeting_id:int}/modifier", status_code=HTTP_303_SEE_OTHER)
    async def update(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        values = meeting_form.raw_values(data)
        values["council"] = meeting.council_slug
        try:
            fields = meeting_form.parse(values, creating=False)
            await meetings.update_meeting(viewer, meeting_id, fields)
        except (InvalidInput, Conflict) as exc:
            return self._refused(viewer, values, exc, [], meeting=meeting)
        return _see(_url(meeting_id) + "?fait=modifiee")

    @staticmethod
    def _refused(
        viewer: FacilitatorView,
        values: dict[str, str],
        exc: InvalidInput | Forbidden | Conflict,
        choices: list[councils.CouncilView],
        meeting: MeetingView | None = None,
    ) -> Template:
        """The form again, with the reasons beside the fields (400), or the refusal on top."""
        refusal = None
        if isinstance(exc, InvalidInput):
            errors, status = meeting_form.form_errors(exc), 400
        elif isinstance(exc, Forbidden):
            errors, status = {"council": "vous n'animez pas ce conseil citoyen"}, 403
        else:
            errors, status, refusal = {}, 409, exc.message
        return _form_page(
            viewer,
            values=values,
            choices=choices,
            meeting=meeting,
            errors=errors,
            refusal=refusal,
            status_code=status,
        )

    # ------------------------------------------------------------ actions

    @post("/{meeting_id:int}/publier", status_code=HTTP_303_SEE_OTHER)
    async def publish(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Redirect:
        await meetings.get_own_meeting(viewer, meeting_id)
        await meetings.publish_meeting(viewer, meeting_id)
        return _see(_url(meeting_id) + "?fait=publiee")

    @get("/{meeting_id:int}/annuler")
    async def cancel_form(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        return self._cancel_page(viewer, meeting, "", {})

    @post("/{meeting_id:int}/annuler", status_code=HTTP_303_SEE_OTHER)
    async def cancel(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        """Cancel with a reason. Required here: the people who registered and the
        subscribers read it in their email, and a cancellation without a word leaves them
        guessing; the API keeps it optional for the scripts that cancel without one."""
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        reason = form_text(data, "reason", MAX_CANCELLATION_REASON + 100).strip()
        errors: dict[str, str] = {}
        if meeting.status == "draft":
            errors["reason"] = "un brouillon ne s'annule pas : supprimez-le"
        elif not reason:
            errors["reason"] = "indiquez le motif : il figure dans le courriel d'annulation"
        elif len(reason) > MAX_CANCELLATION_REASON:
            errors["reason"] = f"{MAX_CANCELLATION_REASON} caractères au plus"
        if not errors:
            try:
                await meetings.cancel_meeting(viewer, meeting_id, reason)
            except InvalidInput as exc:
                errors = meeting_form.form_errors(exc)
        if errors:
            return self._cancel_page(viewer, meeting, reason, errors, status_code=400)
        return _see(_url(meeting_id) + "?fait=annulee")

    @staticmethod
    def _cancel_page(
        viewer: FacilitatorView,
        meeting: MeetingView,
        reason: str,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return backoffice.page(
            "animation/meetings/cancel.html",
            viewer,
            status_code=status_code,
            meeting=meeting,
            reason=reason,
            errors=errors,
            max_reason=MAX_CANCELLATION_REASON,
        )

    @get("/{meeting_id:int}/supprimer")
    async def delete_form(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Template:
        meeting = await meetings.get_own_meeting(viewer, meeting_id)
        return backoffice.page("animation/meetings/delete.html", viewer, meeting=meeting)

    @post("/{meeting_id:int}/supprimer", status_code=HTTP_303_SEE_OTHER)
    async def delete(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: FromPath[int]
    ) -> Redirect:
        """The confirmation page's button: a draft goes (the service refuses a published
        meeting but to an admin; cancel it instead)."""
        await meetings.get_own_meeting(viewer, meeting_id)
        await meetings.delete_meeting(viewer, meeting_id)
        return _see(f"{LIST}?fait=supprimee")


# ---------------------------------------------------------------- dashboard

PANEL_SIZE = 10


async def upcoming_panel(viewer: FacilitatorView) -> dict[str, Any]:
    """The next meetings of my councils with their seats and waiting lists: two queries
    whatever their number (the meetings, then every waiting list grouped)."""
    found = await meetings.of_my_councils(viewer, "upcoming", limit=PANEL_SIZE)
    return {"meetings": found, "now": now_utc()}


async def drafts_panel(viewer: FacilitatorView) -> dict[str, Any]:
    """My councils' drafts, soonest first: one query."""
    found = await meetings.of_my_councils(viewer, "drafts", limit=PANEL_SIZE)
    return {"meetings": found, "now": now_utc()}


PANELS = (
    backoffice.Panel(
        "reunions-prochaines", 10, "animation/meetings/panel_upcoming.html", upcoming_panel
    ),
    backoffice.Panel(
        "reunions-brouillons", 20, "animation/meetings/panel_drafts.html", drafts_panel
    ),
)
MENU = backoffice.MenuEntry("Réunions", LIST, 10)
