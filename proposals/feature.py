"""The proposals app as the application sees it: pages, API, back-office and what it
contributes to the other apps' extension points."""

from __future__ import annotations

from conseils.features import Feature


def register() -> None:
    """Event handlers, keepers, panels and slot contributions (idempotent)."""


FEATURE = Feature(
    name="proposals",
    pages=[],
    api=[],
    backoffice=[],
    register=register,
)
