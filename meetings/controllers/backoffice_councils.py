"""Back-office pages of the councils and quartiers (site admins only): list, create, edit.

Thin: every rule (slugs, addresses, coverage, caches, audit) is in
`meetings.services.council_admin`, which the JSON API calls too.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from conseils import backoffice
from conseils.backoffice import Form, form_text
from conseils.errors import InvalidInput
from conseils.viewer import FacilitatorView
from meetings.services import council_admin, councils

HOME = "/animation/conseils"
DONE = {"conseil": "Le conseil est enregistré.", "quartier": "Le quartier est enregistré."}
COUNCIL_FORM = "animation/councils/council_form.html"
QUARTIER_FORM = "animation/councils/quartier_form.html"


def _council_fields(form: dict[str, Any]) -> dict[str, Any]:
    quartiers = form.get("quartiers", [])
    return {
        "name": form_text(form, "name"),
        "slug": form_text(form, "slug"),
        "description": form_text(form, "description"),
        "contact_email": form_text(form, "contact_email"),
        "agglomeration_wide": bool(form_text(form, "agglomeration_wide")),
        "quartiers": [q for q in (quartiers if isinstance(quartiers, list) else [quartiers])],
    }


def _quartier_fields(form: dict[str, Any]) -> dict[str, Any]:
    return {name: form_text(form, name) for name in council_admin.QUARTIER_FIELDS}


def _council_values(council: councils.CouncilView) -> dict[str, Any]:
    return {
        "name": council.name,
        "slug": council.slug,
        "description": council.description,
        "contact_email": council.contact_email,
        "agglomeration_wide": council.agglomeration_wide,
        "quartiers": [q.slug for q in council.quartiers],
    }


class CouncilAdminPages(Controller):
    path = "/conseils"

    @get("/")
    async def list_page(
        self, admin: NamedDependency[FacilitatorView], fait: FromQuery[str | None] = None
    ) -> Template:
        return backoffice.page(
            "animation/councils/list.html",
            admin,
            flash=DONE.get(fait or ""),
            councils=await councils.list_councils(),
            quartiers=await council_admin.list_quartiers(),
        )

    # ------------------------------------------------------------ councils

    async def _council_form(
        self,
        admin: FacilitatorView,
        values: dict[str, Any],
        *,
        council_id: int | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        return backoffice.page(
            COUNCIL_FORM,
            admin,
            status_code=400 if errors else 200,
            council_id=council_id,
            values=values,
            errors=errors or {},
            slug_fixed=council_id is not None
            and await council_admin.council_slug_fixed(council_id),
            quartiers=await council_admin.list_quartiers(),
        )

    @get("/nouveau")
    async def new_council(self, admin: NamedDependency[FacilitatorView]) -> Template:
        return await self._council_form(admin, {"quartiers": []})

    @post("/nouveau", status_code=HTTP_303_SEE_OTHER)
    async def create_council(
        self, admin: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        fields = _council_fields(data)
        try:
            await council_admin.create_council(admin, fields)
        except InvalidInput as exc:
            return await self._council_form(admin, fields, errors=exc.errors)
        return Redirect(f"{HOME}?fait=conseil", status_code=HTTP_303_SEE_OTHER)

    @get("/{council_id:int}")
    async def edit_council(
        self, admin: NamedDependency[FacilitatorView], council_id: FromPath[int]
    ) -> Template:
        council = await council_admin.council_by_id(council_id)
        return await self._council_form(admin, _council_values(council), council_id=council.id)

    @post("/{council_id:int}", status_code=HTTP_303_SEE_OTHER)
    async def update_council(
        self, admin: NamedDependency[FacilitatorView], council_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await council_admin.council_by_id(council_id)  # 404 before any message
        fields = _council_fields(data)
        try:
            await council_admin.update_council(admin, council_id, fields)
        except InvalidInput as exc:
            return await self._council_form(admin, fields, council_id=council_id, errors=exc.errors)
        return Redirect(f"{HOME}?fait=conseil", status_code=HTTP_303_SEE_OTHER)

    # ------------------------------------------------------------ quartiers

    def _quartier_form(
        self,
        admin: FacilitatorView,
        values: dict[str, Any],
        *,
        quartier_id: int | None = None,
        slug_fixed: bool = False,
        errors: dict[str, str] | None = None,
    ) -> Template:
        return backoffice.page(
            QUARTIER_FORM,
            admin,
            status_code=400 if errors else 200,
            quartier_id=quartier_id,
            values=values,
            errors=errors or {},
            slug_fixed=slug_fixed,
        )

    @get("/quartiers/nouveau")
    async def new_quartier(self, admin: NamedDependency[FacilitatorView]) -> Template:
        return self._quartier_form(admin, {})

    @post("/quartiers/nouveau", status_code=HTTP_303_SEE_OTHER)
    async def create_quartier(
        self, admin: NamedDependency[FacilitatorView], data: Form
    ) -> Redirect | Template:
        fields = _quartier_fields(data)
        try:
            await council_admin.create_quartier(admin, fields)
        except InvalidInput as exc:
            return self._quartier_form(admin, fields, errors=exc.errors)
        return Redirect(f"{HOME}?fait=quartier", status_code=HTTP_303_SEE_OTHER)

    @get("/quartiers/{quartier_id:int}")
    async def edit_quartier(
        self, admin: NamedDependency[FacilitatorView], quartier_id: FromPath[int]
    ) -> Template:
        quartier = await council_admin.quartier_by_id(quartier_id)
        return self._quartier_form(
            admin,
            {"name": quartier.name, "slug": quartier.slug, "commune": quartier.commune},
            quartier_id=quartier.id,
            slug_fixed=await council_admin.quartier_slug_fixed(quartier.id),
        )

    @post("/quartiers/{quartier_id:int}", status_code=HTTP_303_SEE_OTHER)
    async def update_quartier(
        self, admin: NamedDependency[FacilitatorView], quartier_id: FromPath[int], data: Form
    ) -> Redirect | Template:
        await council_admin.quartier_by_id(quartier_id)
        fields = _quartier_fields(data)
        try:
            await council_admin.update_quartier(admin, quartier_id, fields)
        except InvalidInput as exc:
            return self._quartier_form(
                admin,
                fields,
                quartier_id=quartier_id,
                slug_fixed=await council_admin.quartier_slug_fixed(quartier_id),
                errors=exc.errors,
            )
        return Redirect(f"{HOME}?fait=quartier", status_code=HTTP_303_SEE_OTHER)
