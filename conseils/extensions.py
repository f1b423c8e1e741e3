"""Extension points: how a feature shows what a feature built on it owns, without an import
upwards.

A lower feature declares a `Slot` where it shows other features' contributions (the meeting
page's sections: a meeting's agenda from proposals, its minutes from minutes); a higher
feature, which may import the lower one, contributes a function when the application is
assembled (its `Feature.register`). The lower feature only ever calls `collect`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Subject = TypeVar("Subject")
Item = TypeVar("Item")


class Slot(Generic[Subject, Item]):
    """A named place where contributors add items about a subject (a meeting, say)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._contributors: list[Callable[[Subject], Awaitable[Item | None]]] = []

    def contribute(
        self, contributor: Callable[[Subject], Awaitable[Item | None]]
    ) -> Callable[[Subject], Awaitable[Item | None]]:
        """Add `async contributor(subject) -> item or None` (idempotent)."""
        if contributor not in self._contributors:
            self._contributors.append(contributor)
        return contributor

    def withdraw(self, contributor: Callable[[Subject], Awaitable[Item | None]]) -> None:
        if contributor in self._contributors:
            self._contributors.remove(contributor)

    async def collect(self, subject: Subject) -> list[Item]:
        """Every contributor's item about `subject`, in the order they were added."""
        items = []
        for contributor in self._contributors:
            item = await contributor(subject)
            if item is not None:
                items.append(item)
        return items
