"""Councils and their quartiers: read-only for now (the demo and admins fill them)."""

from __future__ import annotations

from dataclasses import dataclass

from conseils.collation import french_key
from conseils.errors import NotFound
from meetings.tables import Council, CouncilQuartier


@dataclass(frozen=True, slots=True)
class QuartierView:
    name: str
    slug: str
    commune: str


@dataclass(frozen=True, slots=True)
class CouncilView:
    id: int
    name: str
    slug: str
    description: str
    agglomeration_wide: bool
    contact_email: str
    quartiers: tuple[QuartierView, ...]


async def _quartiers_by_council(council_ids: list[int]) -> dict[int, list[QuartierView]]:
    found: dict[int, list[QuartierView]] = {cid: [] for cid in council_ids}
    if not council_ids:
        return found
    rows = await CouncilQuartier.select(
        CouncilQuartier.council,
        CouncilQuartier.quartier.name.as_alias("name"),
        CouncilQuartier.quartier.slug.as_alias("slug"),
        CouncilQuartier.quartier.commune.as_alias("commune"),
    ).where(CouncilQuartier.council.is_in(council_ids))
    for row in sorted(rows, key=lambda row: french_key(row["name"])):
        found[row["council"]].append(QuartierView(row["name"], row["slug"], row["commune"]))
    return found


def _view(row: dict, quartiers: list[QuartierView]) -> CouncilView:
    return CouncilView(
        id=row["id"],
        name=row["name"],
        slug=row["slug"],
        description=row["description"],
        agglomeration_wide=row["agglomeration_wide"],
        contact_email=row["contact_email"],
        quartiers=tuple(quartiers),
    )


async def list_councils() -> list[CouncilView]:
    """All councils: the agglomeration-wide one first, then by name as French sorts it
    (a database's collation puts « Couronne Nord » after Tamaris)."""
    rows = sorted(
        await Council.select(),
        key=lambda row: (not row["agglomeration_wide"], french_key(row["name"])),
    )
    quartiers = await _quartiers_by_council([row["id"] for row in rows])
    return [_view(row, quartiers[row["id"]]) for row in rows]


async def get_council(slug: str) -> CouncilView:
    # NUL never names a council, and PostgreSQL refuses it in a query parameter.
    row = None if "\x00" in slug else await Council.select().where(Council.slug == slug).first()
    if row is None:
        raise NotFound("Ce conseil citoyen n'existe pas.", code="council_not_found")
    quartiers = await _quartiers_by_council([row["id"]])
    return _view(row, quartiers[row["id"]])
