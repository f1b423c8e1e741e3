"""The facilitators' proposal pages under /animation/propositions: the moderation queue and a
council's proposals, one proposal (its whole history, moderation, status, official answer,
typo edit, merge, agenda), the café quick entry, the CSV export. Thin: every rule and audit
line is the services'.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import Conflict, InvalidInput
from conseils.viewer import FacilitatorView
from meetings.services import councils, meetings
from proposals.services import agenda, common, editing, entry, export, moderation

LIST = "/animation/propositions"
DONE = {
    "publiee": "La proposition est publiée ; son auteur·e en est prévenu·e.",
    "refusee": "La proposition est refusée ; son auteur·e reçoit le motif.",
    "statut": "Le statut est changé ; l'auteur·e et les personnes qui suivent la proposition "
    "sont prévenues.",
    "reponse": "La réponse est enregistrée.",
    "reponse-publiee": "La réponse est publiée ; l'auteur·e et les personnes qui suivent la "
    "proposition la reçoivent.",
    "modifiee": "La correction est enregistrée ; l'original reste dans l'historique.",
    "fusionnee": "Les propositions sont fusionnées ; les soutiens sont réunis.",
    "ordre-du-jour": "L'ordre du jour est mis à jour.",
    "saisies": "Les propositions sont enregistrées et publiées.",
    "deja": "Ce formulaire avait déjà été envoyé : les propositions ne sont enregistrées "
    "qu'une fois.",
}
Done = Annotated[str | None, QueryParameter(name="fait", max_length=20, required=False)]
ENTRY_ROWS = 5
ENTRY_FIELDS = {"title": 200, "body": 6000, "theme": 40, "author_name": 150, "email": 300}


def _see(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _url(proposal_id: int, done: str = "") -> str:
    return f"{LIST}/{proposal_id}" + (f"?fait={done}" if done else "")


async def _my_councils(viewer: FacilitatorView) -> list[councils.CouncilView]:
    return [c for c in await councils.list_councils() if viewer.may_write(c.id)]


async def _detail(
    viewer: FacilitatorView,
    proposal: moderation.OfficeProposal,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    refusal: str | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Template:
    upcoming = await meetings.of_my_councils(
        viewer, "upcoming", council_id=proposal.council_id, limit=30
    )
    drafts = await meetings.of_my_councils(
        viewer, "drafts", council_id=proposal.council_id, limit=30
    )
    return backoffice.page(
        "animation/proposals/detail.html",
        viewer,
        status_code=status_code,
        flash=flash,
        proposal=proposal,
        history=await common.history(proposal.id, public_only=False, private_notes=True),
        on_agendas=await agenda.meetings_of(proposal.id),
        agenda_choices=[*upcoming, *drafts],
        errors=errors or {},
        values=values or {},
        refusal=refusal,
        themes=common.THEMES,
        labels=common.STATUS_LABELS,
        council=next(
            (c for c in await councils.list_councils() if c.id == proposal.council_id), None
        ),
    )


class ProposalPages(Controller):
    path = "/propositions"

    @get("/")
    async def list_page(
        self,
        viewer: NamedDependency[FacilitatorView],
        conseil: Annotated[str | None, QueryParameter(max_length=80, required=False)] = None,
        statut: Annotated[str | None, QueryParameter(max_length=20, required=False)] = None,
        fait: Done = None,
    ) -> Template:
        """The moderation queue of my councils, then one council's proposals."""
        choices = await _my_councils(viewer)
        chosen = None
        if conseil:
            chosen = next((c for c in choices if c.slug == conseil), None)
            if chosen is None:
                raise InvalidInput({"conseil": "vous n'animez pas ce conseil, ou il n'existe pas"})
        elif len(choices) == 1:
            chosen = choices[0]
        if statut and statut not in common.STATUS_LABELS:
            raise InvalidInput({"statut": "statut inconnu"})
        found: list[moderation.OfficeProposal] = []
        total = 0
        if chosen is not None:
            found, total = await moderation.of_council(viewer, chosen.id, status=statut or None)
        return backoffice.page(
            "animation/proposals/list.html",
            viewer,
            flash=DONE.get(fait or ""),
            queue=await moderation.queue(viewer),
            councils=choices,
            chosen=chosen,
            statut=statut or "",
            proposals=found,
            total=total,
            labels=common.STATUS_LABELS,
        )

    @get("/conseils/{council_id:int}/export.csv")
    async def export_csv(
        self, viewer: NamedDependency[FacilitatorView], council_id: FromPath[int]
    ) -> Response[bytes]:
        body = await export.council_csv(viewer, council_id)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="propositions-{council_id}.csv"'
            },
        )

    # ------------------------------------------------------------ one proposal

    @get("/{proposal_id:int}")
    async def detail(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: FromPath[int],
        fait: Done = None,
    ) -> Template:
        proposal = await moderation.get_for(viewer, proposal_id)
        return await _detail(viewer, proposal, flash=DONE.get(fait or ""))

    async def _refused(
        self,
        viewer: FacilitatorView,
        proposal_id: int,
        exc: InvalidInput | Conflict,
        values: dict[str, str],
    ) -> Template:
        """The page again: the reasons beside the fields (400), or the refusal on top (409)."""
        proposal = await moderation.get_for(viewer, proposal_id)
        if isinstance(exc, InvalidInput):
            return await _detail(
                viewer, proposal, errors=exc.errors, values=values, status_code=400
            )
        return await _detail(viewer, proposal, refusal=exc.message, values=values, status_code=409)

    @post("/{proposal_id:int}/publier", status_code=HTTP_303_SEE_OTHER)
    async def publish(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int]
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        try:
            await moderation.publish(viewer, proposal_id)
        except Conflict as exc:
            return await self._refused(viewer, proposal_id, exc, {})
        return _see(_url(proposal_id, "publiee"))

    @post("/{proposal_id:int}/refuser", status_code=HTTP_303_SEE_OTHER)
    async def reject(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        reason = form_text(data, "reason", common.REASON_MAX + 100)
        try:
            await moderation.reject(viewer, proposal_id, reason)
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, {"reason": reason})
        return _see(_url(proposal_id, "refusee"))

    @post("/{proposal_id:int}/statut", status_code=HTTP_303_SEE_OTHER)
    async def change_status(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        status = form_text(data, "status", 20)
        try:
            await moderation.change_status(viewer, proposal_id, status)
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, {"status": status})
        return _see(_url(proposal_id, "statut"))

    @post("/{proposal_id:int}/reponse", status_code=HTTP_303_SEE_OTHER)
    async def answer(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        values = {
            "answer": form_text(data, "answer", common.ANSWER_MAX + 100),
            "answer_role": form_text(data, "answer_role", moderation.ROLE_MAX + 100),
            "answered_on": form_text(data, "answered_on", 20).strip(),
        }
        publish = form_text(data, "publish", 10) == "1"
        try:
            day = None
            if values["answered_on"]:
                try:
                    day = date.fromisoformat(values["answered_on"])
                except ValueError:
                    raise InvalidInput({"answered_on": "date invalide : aaaa-mm-jj"}) from None
            await moderation.write_answer(
                viewer,
                proposal_id,
                text=values["answer"],
                role=values["answer_role"],
                publish=publish,
                answered_on=day,
            )
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, values)
        return _see(_url(proposal_id, "reponse-publiee" if publish else "reponse"))

    @post("/{proposal_id:int}/modifier", status_code=HTTP_303_SEE_OTHER)
    async def edit(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        values = {
            "title": form_text(data, "title", common.TITLE_MAX + 100),
            "body": form_text(data, "body", common.BODY_MAX + 100),
            "theme": form_text(data, "theme", 40),
        }
        try:
            await editing.edit(viewer, proposal_id, **values)
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, values)
        return _see(_url(proposal_id, "modifiee"))

    @post("/{proposal_id:int}/fusionner", status_code=HTTP_303_SEE_OTHER)
    async def merge(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        """Fold this proposal into the one numbered in `into` (the survivor)."""
        await moderation.get_for(viewer, proposal_id)
        into = form_text(data, "into", 20).strip().lstrip("n°").strip()
        try:
            if not into.isdecimal() or len(into) > 9:
                raise InvalidInput({"into": "indiquez le numéro de la proposition qui reste"})
            await moderation.get_for(viewer, int(into))
            await editing.merge(viewer, proposal_id, int(into))
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, {"into": into})
        return _see(_url(int(into), "fusionnee"))

    @post("/{proposal_id:int}/ordre-du-jour", status_code=HTTP_303_SEE_OTHER)
    async def put_on_agenda(
        self, viewer: NamedDependency[FacilitatorView], proposal_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await moderation.get_for(viewer, proposal_id)
        meeting = form_text(data, "meeting", 20).strip()
        try:
            if not meeting.isdecimal() or len(meeting) > 9:
                raise InvalidInput({"meeting": "choisissez une réunion"})
            await agenda.put_on(viewer, int(meeting), proposal_id)
        except (InvalidInput, Conflict) as exc:
            return await self._refused(viewer, proposal_id, exc, {"meeting": meeting})
        return _see(_url(proposal_id, "ordre-du-jour"))

    @post(
        "/{proposal_id:int}/ordre-du-jour/{meeting_id:int}/retirer",
        status_code=HTTP_303_SEE_OTHER,
    )
    async def take_off_agenda(
        self,
        viewer: NamedDependency[FacilitatorView],
        proposal_id: FromPath[int],
        meeting_id: FromPath[int],
    ) -> Redirect:
        await moderation.get_for(viewer, proposal_id)
        await agenda.take_off(viewer, meeting_id, proposal_id)
        return _see(_url(proposal_id, "ordre-du-jour"))

    # ------------------------------------------------------------ quick entry

    @staticmethod
    async def _entry_page(
        viewer: FacilitatorView,
        *,
        values: dict[str, Any],
        rows: int,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        choices = [
            *await meetings.of_my_councils(viewer, "past", limit=30),
            *await meetings.of_my_councils(viewer, "upcoming", limit=30),
        ]
        return backoffice.page(
            "animation/proposals/entry.html",
            viewer,
            status_code=status_code,
            values=values,
            rows=range(1, rows + 1),
            errors=errors or {},
            meetings=choices,
            themes=common.THEMES,
            max_rows=entry.MAX_ROWS,
        )

    @get("/saisie")
    async def entry_form(
        self,
        viewer: NamedDependency[FacilitatorView],
        reunion: Annotated[int | None, QueryParameter(ge=1, required=False)] = None,
        lignes: Annotated[
            int | None, QueryParameter(ge=1, le=entry.MAX_ROWS, required=False)
        ] = None,
    ) -> Template:
        values = {"meeting": str(reunion or ""), "form_key": secrets.token_urlsafe(24)}
        return await self._entry_page(viewer, values=values, rows=lignes or ENTRY_ROWS)

    @post("/saisie", status_code=HTTP_303_SEE_OTHER)
    async def enter(
        self, viewer: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        """Several proposals of one café at once; the hidden form key makes a second click
        find the first sending's proposals instead of creating them again."""
        count = form_text(data, "rows", 3)
        rows = int(count) if count.isdecimal() and 1 <= int(count) <= entry.MAX_ROWS else ENTRY_ROWS
        values: dict[str, Any] = {
            "meeting": form_text(data, "meeting", 20).strip(),
            "form_key": form_text(data, "form_key", entry.MAX_FORM_KEY + 10),
        }
        typed = []
        for n in range(1, rows + 1):
            row: dict[str, Any] = {
                name: form_text(data, f"{name}-{n}", limit) for name, limit in ENTRY_FIELDS.items()
            }
            row["show_name"] = form_text(data, f"show_name-{n}", 5) == "1"
            values.update({f"{name}-{n}": value for name, value in row.items()})
            typed.append(entry.EntryRow(**row))
        try:
            if not values["meeting"].isdecimal() or len(values["meeting"]) > 9:
                raise InvalidInput({"meeting": "choisissez la réunion du recueil"})
            ids, created = await entry.collect(
                viewer, int(values["meeting"]), typed, form_key=values["form_key"]
            )
        except InvalidInput as exc:
            return await self._entry_page(
                viewer, values=values, rows=rows, errors=exc.errors, status_code=400
            )
        council = (await moderation.get_for(viewer, ids[0])).council_id
        slug = next((c.slug for c in await _my_councils(viewer) if c.id == council), "")
        return _see(f"{LIST}?conseil={slug}&fait={'saisies' if created else 'deja'}")


# ---------------------------------------------------------------- dashboard


async def pending_panel(viewer: FacilitatorView) -> dict[str, Any]:
    return {"pending": await moderation.pending_count(viewer)}


PANEL = backoffice.Panel(
    "propositions-a-moderer", 15, "animation/proposals/panel_pending.html", pending_panel
)
MENU = backoffice.MenuEntry("Propositions", LIST, 20)
