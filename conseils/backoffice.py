"""What the back-office (`/animation/`) is made of, as apps contribute it.

The dashboard shows panels from several apps (the next meetings, the failed emails, …) and
its menu links to each app's pages; no app imports another to do so. Each app registers its
panels and menu entries from its feature's `register`; the accounts app, which serves the
dashboard, reads them here. Forms of every app's pages read their fields the same way
(`Form`, `form_text`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import MediaType
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from conseils.viewer import FacilitatorView

# A back-office form as posted (a field sent twice comes as a list).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PanelLoader = Callable[[FacilitatorView], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Panel:
    """A block of the dashboard: `template` rendered with what `load` returns."""

    name: str
    order: int
    template: str
    load: PanelLoader


@dataclass(frozen=True, slots=True)
class MenuEntry:
    label: str
    href: str
    order: int
    admin_only: bool = False


_panels: dict[str, Panel] = {}
_menu: dict[str, MenuEntry] = {}


def add_panel(panel: Panel) -> None:
    _panels[panel.name] = panel


def add_menu_entry(entry: MenuEntry) -> None:
    _menu[entry.href] = entry


def menu_for(viewer: FacilitatorView) -> list[MenuEntry]:
    entries = sorted(_menu.values(), key=lambda entry: entry.order)
    return [entry for entry in entries if viewer.is_admin or not entry.admin_only]


async def panels_for(viewer: FacilitatorView) -> list[tuple[Panel, dict[str, Any]]]:
    """Every panel with its data for this facilitator, in order."""
    panels = sorted(_panels.values(), key=lambda panel: panel.order)
    return [(panel, await panel.load(viewer)) for panel in panels]


def page(
    template: str,
    viewer: FacilitatorView | None,
    *,
    status_code: int = 200,
    flash: str | None = None,
    **context: Any,
) -> Template:
    """A back-office page: the template with the viewer and their menu (the back-office's
    router marks every answer `no-store`)."""
    return Template(
        template,
        context={
            "viewer": viewer,
            "menu": menu_for(viewer) if viewer is not None else [],
            "flash": flash,
            **context,
        },
        status_code=status_code,
        media_type=MediaType.HTML,
    )


def form_text(form: dict[str, Any], name: str, limit: int | None = None) -> str:
    """A text field of a posted form: "" when absent or not text, the first value of a field
    sent twice, cut at `limit` characters (the services then say what is wrong with it)."""
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str):
        return ""
    return value if limit is None else value[:limit]
