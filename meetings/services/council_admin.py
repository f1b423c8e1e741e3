"""Administering councils and quartiers (site admins only): create, edit, and what an edit
must reach at once — every process's cached pages and feeds, the feeds' Last-Modified, the
audit log.

A slug is part of public addresses: the council's page, its calendar feed (pasted into
calendar apps) and links in emails already sent. So a council's slug may change only while
it has never shown a meeting to the public (published or cancelled), and a quartier's while
its feed has never held one: after that, changing it would break addresses that residents
hold, without any way to tell them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from conseils import audit, changes
from conseils.collation import french_key
from conseils.db import MAX_ID, locked, write_transaction
from conseils.errors import Forbidden, InvalidInput, NotFound
from conseils.validation import normalise_email, require_text
from conseils.viewer import FacilitatorView
from meetings.services import feed_clock
from meetings.services.common import PUBLIC_STATUSES
from meetings.services.councils import CouncilView, get_council
from meetings.tables import Council, CouncilQuartier, Meeting, Quartier

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_LENGTH = 80
SLUG_RULE = (
    "ne doit contenir que des lettres minuscules sans accent, des chiffres et des traits "
    "d'union (ex. ales-tamaris)"
)
MAX_DESCRIPTION = 10_000
COUNCIL_FIELDS = (
    "name", "slug", "description", "contact_email", "agglomeration_wide", "quartiers",
)  # fmt: skip
QUARTIER_FIELDS = ("name", "slug", "commune")
COUNCIL_SLUG_FIXED = (
    "ne peut plus changer : ce conseil a déjà publié des réunions, et son adresse est dans "
    "les agendas et les courriels des habitants"
)
QUARTIER_SLUG_FIXED = (
    "ne peut plus changer : l'agenda de ce quartier a déjà montré des réunions, et son "
    "adresse est dans les agendas des habitants"
)


@dataclass(frozen=True, slots=True)
class QuartierRow:
    id: int
    name: str
    slug: str
    commune: str


def _require_admin(viewer: FacilitatorView) -> None:
    if not viewer.is_admin:
        raise Forbidden("Réservé aux administrateurs du site.", code="admin_only")


def _council_not_found() -> NotFound:
    return NotFound("Ce conseil citoyen n'existe pas.", code="council_not_found")


def _quartier_not_found() -> NotFound:
    return NotFound("Ce quartier n'existe pas.", code="quartier_not_found")


# ---------------------------------------------------------------- reading


async def list_quartiers() -> list[QuartierRow]:
    rows = await Quartier.select(Quartier.id, Quartier.name, Quartier.slug, Quartier.commune)
    quartiers = [QuartierRow(**row) for row in rows]
    return sorted(quartiers, key=lambda q: (french_key(q.commune), french_key(q.name)))


async def council_by_id(council_id: int) -> CouncilView:
    row = None
    if 1 <= council_id <= MAX_ID:
        row = await Council.select(Council.slug).where(Council.id == council_id).first()
    if row is None:
        raise _council_not_found()
    return await get_council(row["slug"])


async def quartier_by_id(quartier_id: int) -> QuartierRow:
    row = None
    if 1 <= quartier_id <= MAX_ID:
        row = (
            await Quartier.select(Quartier.id, Quartier.name, Quartier.slug, Quartier.commune)
            .where(Quartier.id == quartier_id)
            .first()
        )
    if row is None:
        raise _quartier_not_found()
    return QuartierRow(**row)


async def council_id_of(slug: str) -> int:
    row = None
    if "\x00" not in slug:
        row = await Council.select(Council.id).where(Council.slug == slug).first()
    if row is None:
        raise _council_not_found()
    return row["id"]


async def quartier_id_of(slug: str) -> int:
    row = None
    if "\x00" not in slug:
        row = await Quartier.select(Quartier.id).where(Quartier.slug == slug).first()
    if row is None:
        raise _quartier_not_found()
    return row["id"]


async def council_slug_fixed(council_id: int) -> bool:
    """Has this council shown a meeting to the public? Its slug is fixed then."""
    return await _has_public_meetings([council_id])


async def quartier_slug_fixed(quartier_id: int) -> bool:
    """Has this quartier's feed held a meeting? Its slug is fixed then."""
    return await _has_public_meetings(await _councils_in_quartier_feed(quartier_id))


# ---------------------------------------------------------------- checking


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({"slug": "ne doit pas être vide"})
    value = value.strip()
    if len(value) > SLUG_LENGTH:
        raise InvalidInput({"slug": f"ne doit pas dépasser {SLUG_LENGTH} caractères"})
    if not SLUG.fullmatch(value):
        raise InvalidInput({"slug": SLUG_RULE})
    return value


def _text(limit: int, *, required: bool = True, multiline: bool = False) -> Any:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidInput({name: "doit être un texte"})
        return require_text(name, value, max_length=limit, required=required, multiline=multiline)

    return check


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput({name: "doit valoir vrai ou faux"})
    return value


def _slugs(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput({name: "doit être une liste d'identifiants de quartiers"})
    return tuple(sorted(set(value)))


_COUNCIL_CHECKS: dict[str, Any] = {
    "name": _text(160),
    "slug": lambda _name, value: _slug(value),
    "description": _text(MAX_DESCRIPTION, required=False, multiline=True),
    "contact_email": lambda name, value: normalise_email(
        value if isinstance(value, str) else "", name
    ),
    "agglomeration_wide": _flag,
    "quartiers": _slugs,
}
_QUARTIER_CHECKS: dict[str, Any] = {
    "name": _text(120),
    "slug": lambda _name, value: _slug(value),
    "commune": _text(120),
}


def _clean(
    fields: dict[str, Any], checks: dict[str, Any], required: tuple[str, ...]
) -> dict[str, Any]:
    """Every field checked, every fault reported at once (a form shows them all)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(checks)):
        errors[name] = "ce champ ne peut pas être modifié"
    for name in required:
        if fields.get(name) is None:
            errors[name] = "champ obligatoire"
    for name, check in checks.items():
        if name in fields and name not in errors:
            try:
                cleaned[name] = check(name, fields[name])
            except InvalidInput as exc:
                errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _check_coverage(agglomeration_wide: bool, quartiers: tuple[str, ...]) -> None:
    """A council is either agglomeration-wide (no quartier) or covers quartiers."""
    if agglomeration_wide and quartiers:
        raise InvalidInput(
            {"quartiers": "un conseil de toute l'agglomération ne se rattache à aucun quartier"}
        )
    if not agglomeration_wide and not quartiers:
        raise InvalidInput(
            {"quartiers": "cochez au moins un quartier, ou « toute l'agglomération »"}
        )


async def _quartier_ids(slugs: tuple[str, ...]) -> list[int]:
    if not slugs:
        return []
    rows = await Quartier.select(Quartier.id, Quartier.slug).where(Quartier.slug.is_in(list(slugs)))
    unknown = sorted(set(slugs) - {row["slug"] for row in rows})
    if unknown:
        raise InvalidInput({"quartiers": f"quartier inconnu : {', '.join(unknown)}"})
    return sorted(row["id"] for row in rows)


async def _lock_all(table: type[Council] | type[Quartier]) -> None:
    """Admins' edits of one table, one at a time (PostgreSQL: every row locked; SQLite: the
    write transaction is exclusive), so no two can take the same slug unseen."""
    await locked(table.select(table.id).order_by(table.id))


async def _has_public_meetings(council_ids: list[int]) -> bool:
    if not council_ids:
        return False
    return await Meeting.exists().where(
        Meeting.council.is_in(council_ids) & Meeting.status.is_in(list(PUBLIC_STATUSES))
    )


async def _councils_in_quartier_feed(quartier_id: int) -> list[int]:
    """The councils whose meetings a quartier's feed holds: its own and the agglomeration's."""
    linked = await CouncilQuartier.select(CouncilQuartier.council).where(
        CouncilQuartier.quartier == quartier_id
    )
    wide = await Council.select(Council.id).where(Council.agglomeration_wide.eq(True))
    return sorted({r["council"] for r in linked} | {r["id"] for r in wide})


def _changed_names(row: dict[str, Any], cleaned: dict[str, Any]) -> list[str]:
    return [name for name, value in cleaned.items() if row.get(name) != value]


# ---------------------------------------------------------------- councils


async def create_council(viewer: FacilitatorView, fields: dict[str, Any]) -> CouncilView:
    _require_admin(viewer)
    cleaned = _clean(fields, _COUNCIL_CHECKS, ("name", "slug", "contact_email"))
    quartiers = cleaned.pop("quartiers", ())
    cleaned.setdefault("description", "")
    cleaned.setdefault("agglomeration_wide", False)
    _check_coverage(cleaned["agglomeration_wide"], quartiers)
    async with write_transaction():
        await _lock_all(Council)
        quartier_ids = await _quartier_ids(quartiers)
        inserted = (
            await Council.insert(Council(**cleaned))
            .on_conflict(action="DO NOTHING")
            .returning(Council.id)
        )
        if not inserted:
            raise InvalidInput({"slug": "est déjà celle d'un autre conseil"})
        council_id = inserted[0]["id"]
        await _link(council_id, quartier_ids)
        # A new agglomeration-wide council joins every quartier's feed.
        await changes.council_changed(council_id)
        await audit.record(viewer, "council.create", "council", council_id, council_id=council_id)
    return await council_by_id(council_id)


async def _link(council_id: int, quartier_ids: list[int]) -> None:
    await CouncilQuartier.delete().where(CouncilQuartier.council == council_id)
    if quartier_ids:
        await CouncilQuartier.insert(
            *(CouncilQuartier(council=council_id, quartier=q) for q in quartier_ids)
        )


async def update_council(
    viewer: FacilitatorView, council_id: int, fields: dict[str, Any]
) -> CouncilView:
    """Change what is given; the slug only while the council never published (see top)."""
    _require_admin(viewer)
    cleaned = _clean(fields, _COUNCIL_CHECKS, ())
    async with write_transaction():
        await _lock_all(Council)
        row = None
        if 1 <= council_id <= MAX_ID:
            row = await Council.select().where(Council.id == council_id).first()
        if row is None:
            raise _council_not_found()
        current = await CouncilQuartier.select(
            CouncilQuartier.quartier.slug.as_alias("slug")
        ).where(CouncilQuartier.council == council_id)
        row["quartiers"] = tuple(sorted(r["slug"] for r in current))
        changed = _changed_names(row, cleaned)
        if "slug" in changed:
            if await council_slug_fixed(council_id):
                raise InvalidInput({"slug": COUNCIL_SLUG_FIXED})
            if await Council.exists().where(Council.slug == cleaned["slug"]):
                raise InvalidInput({"slug": "est déjà celle d'un autre conseil"})
        _check_coverage(
            cleaned.get("agglomeration_wide", row["agglomeration_wide"]),
            cleaned.get("quartiers", row["quartiers"]),
        )
        if not changed:
            return await council_by_id(council_id)
        if "quartiers" in changed:
            await _link(council_id, await _quartier_ids(cleaned["quartiers"]))
        columns = {name: cleaned[name] for name in changed if name != "quartiers"}
        if columns:
            await Council.update(columns).where(Council.id == council_id)
        await changes.council_changed(council_id)
        await feed_clock.advance(council_id)  # its feeds say its name: their dates move
        await audit.record(
            viewer,
            "council.update",
            "council",
            council_id,
            council_id=council_id,
            detail="champs : " + ", ".join(changed),
        )
    return await council_by_id(council_id)


# ---------------------------------------------------------------- quartiers


async def create_quartier(viewer: FacilitatorView, fields: dict[str, Any]) -> QuartierRow:
    _require_admin(viewer)
    cleaned = _clean(fields, _QUARTIER_CHECKS, QUARTIER_FIELDS)
    async with write_transaction():
        await _lock_all(Quartier)
        inserted = (
            await Quartier.insert(Quartier(**cleaned))
            .on_conflict(action="DO NOTHING")
            .returning(Quartier.id)
        )
        if not inserted:
            raise InvalidInput({"slug": "est déjà celle d'un autre quartier"})
        quartier_id = inserted[0]["id"]
        await audit.record(viewer, "quartier.create", "quartier", quartier_id)
    return await quartier_by_id(quartier_id)


async def update_quartier(
    viewer: FacilitatorView, quartier_id: int, fields: dict[str, Any]
) -> QuartierRow:
    _require_admin(viewer)
    cleaned = _clean(fields, _QUARTIER_CHECKS, ())
    async with write_transaction():
        await _lock_all(Quartier)
        row = None
        if 1 <= quartier_id <= MAX_ID:
            row = await Quartier.select().where(Quartier.id == quartier_id).first()
        if row is None:
            raise _quartier_not_found()
        changed = _changed_names(row, cleaned)
        if not changed:
            return QuartierRow(row["id"], row["name"], row["slug"], row["commune"])
        in_feed = await _councils_in_quartier_feed(quartier_id)
        if "slug" in changed:
            if await _has_public_meetings(in_feed):
                raise InvalidInput({"slug": QUARTIER_SLUG_FIXED})
            if await Quartier.exists().where(Quartier.slug == cleaned["slug"]):
                raise InvalidInput({"slug": "est déjà celle d'un autre quartier"})
        await Quartier.update({name: cleaned[name] for name in changed}).where(
            Quartier.id == quartier_id
        )
        # Its name shows on its councils' pages and in its feed's name.
        await changes.council_changed(0)
        if in_feed:
            await feed_clock.advance(in_feed[0])  # past every council's: its feed moves
        await audit.record(
            viewer,
            "quartier.update",
            "quartier",
            quartier_id,
            detail="champs : " + ", ".join(changed),
        )
    return await quartier_by_id(quartier_id)
