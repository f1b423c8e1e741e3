"""Who is asking: the signed-in facilitator as every feature's permission checks see them.

Defined in the core so that features check permissions without importing the accounts app
(which itself builds on the meetings app's councils); the accounts app produces it from a
token, and the application provides it to handlers as the `viewer` and `maybe_viewer`
dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FacilitatorView:
    id: int
    email: str
    display_name: str
    is_admin: bool
    council_ids: frozenset[int]

    def may_write(self, council_id: int) -> bool:
        return self.is_admin or council_id in self.council_ids
