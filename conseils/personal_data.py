"""Residents' rights over what the service holds about their email address (RGPD: access,
portability, erasure), as an extension point of the core.

Every app that keeps data about an address registers a `Keeper` when the application is
assembled (its `Feature.register`): `export(email)` gives that app's records as JSON-ready
dicts, `erase(email)` deletes or anonymises them inside the caller's write transaction, so
that an erasure across apps commits whole or not at all. The privacy app (the `/mes-donnees`
pages) and the `conseils privacy` command only ever call `export` and `erase` here; an app
added later (proposals, supports) is covered by registering its keeper.

`AccessLinkRequested` lets a lower app (the manage page of a registration, which knows an
address through its own capability) ask for the `/mes-donnees` link to be sent to that
address, without knowing who sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conseils import db

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Keeper:
    """What one app holds about an address, and how it is exported and erased."""

    name: str  # its key in the JSON export ("registrations")
    title: str  # its heading on the /mes-donnees page, in French
    export: Callable[[str], Awaitable[list[Record]]]  # the address is already normalised
    erase: Callable[[str], Awaitable[int]]  # inside the caller's write transaction
    # The fields the page shows, with their French labels, in order (the export has them all).
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessLinkRequested:
    """The holder of a capability of this address asked for its personal-data link: it goes
    by email to the address, and only there."""

    email: str


_keepers: dict[str, Keeper] = {}


def keep(keeper: Keeper) -> None:
    """Register `keeper` (idempotent: the application may be assembled more than once)."""
    _keepers[keeper.name] = keeper


def keepers() -> tuple[Keeper, ...]:
    return tuple(_keepers.values())


async def export(email: str) -> dict[str, list[Record]]:
    """Everything held about `email` (normalised), by keeper, in registration order."""
    return {keeper.name: await keeper.export(email) for keeper in _keepers.values()}


async def holds(email: str) -> bool:
    """Whether anything at all is held about `email`."""
    for keeper in _keepers.values():
        if await keeper.export(email):
            return True
    return False


async def erase(email: str) -> dict[str, int]:
    """Erase everything held about `email`, inside the caller's write transaction; how many
    records each keeper erased."""
    db.require_transaction("erasing personal data")
    return {keeper.name: await keeper.erase(email) for keeper in _keepers.values()}


def json_ready(value: Any) -> Any:
    """A column's value as JSON holds it (dates as ISO 8601 strings)."""
    return value.isoformat() if hasattr(value, "isoformat") else value
