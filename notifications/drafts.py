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
    # Caused by whoever typed the address (a sign-up, a cancellation, a link asked for): the
    # outbox sends at most REPEAT_CAP such messages of one kind about one object to one
    # address a day, so that no one can make us bomb someone else's inbox.
    capped: bool = False
