"""Extension points: how a feature shows what a feature built on it owns, without an import
upwards.

A lower feature declares a `Slot` where it shows other features' contributions (the meeting
page's sections: a meeting's agenda from proposals, its minutes from minutes); a higher
feature, which may import the lower one, contributes a function when the application is
assembled (its `Feature.register`). The lower feature only ever calls `collect`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
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


class BatchSlot(Generic[Subject, Item]):
    """A place where contributors add items about many subjects at once: a calendar feed
    holds thousands of meetings, so a contributor answers for all of them in a few queries
    (never one per subject)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._contributors: list[
            Callable[[Sequence[Subject]], Awaitable[Mapping[Subject, Item]]]
        ] = []

    def contribute(
        self, contributor: Callable[[Sequence[Subject]], Awaitable[Mapping[Subject, Item]]]
    ) -> Callable[[Sequence[Subject]], Awaitable[Mapping[Subject, Item]]]:
        """Add `async contributor(subjects) -> {subject: item}` (idempotent)."""
        if contributor not in self._contributors:
            self._contributors.append(contributor)
        return contributor

    def withdraw(
        self, contributor: Callable[[Sequence[Subject]], Awaitable[Mapping[Subject, Item]]]
    ) -> None:
        if contributor in self._contributors:
            self._contributors.remove(contributor)

    async def collect(self, subjects: Sequence[Subject]) -> dict[Subject, list[Item]]:
        """Each subject's items from every contributor, in the order they were added; a
        subject no one has anything about is left out."""
        found: dict[Subject, list[Item]] = {}
        if not subjects:
            return found
        for contributor in self._contributors:
            for subject, item in (await contributor(subjects)).items():
                found.setdefault(subject, []).append(item)
        return found
