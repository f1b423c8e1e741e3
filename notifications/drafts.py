"""An email to queue: what the outbox stores and the relay sends, at any retry."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Draft:
    """An email to queue: what the relay needs to build and send it, at any retry."""

    key: str
    kind: str
    recipient: str
    subject: str
    text_body: str
    html_body: str = ""
    calendar: str = ""
    calendar_method: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    council_id: int | None = None
    meeting_id: int | None = None
