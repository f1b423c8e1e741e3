"""The reason codes the meetings app's API answers, as its OpenAPI document lists them
(`conseils.web.api_spec`): one `Reason` per (status, code), with when it happens."""

from __future__ import annotations

from conseils.web.api_spec import Reason

NOT_YOUR_COUNCIL = Reason(
    403, "not_your_council", "the council is not one of yours (administrators run them all)"
)
CANCEL_INSTEAD = Reason(
    403,
    "cancel_instead",
    "the meeting is public: cancel it; only an administrator may delete it",
)
MEETING_NOT_FOUND = Reason(
    404,
    "meeting_not_found",
    "no such meeting, or a draft of a council you do not run",
)
COUNCIL_NOT_FOUND = Reason(404, "council_not_found", "no council has this slug")
QUARTIER_NOT_FOUND = Reason(404, "quartier_not_found", "no quartier has this slug")
REGISTRATION_NOT_FOUND = Reason(404, "registration_not_found", "no such registration")
DUPLICATE_MEETING = Reason(
    409,
    "duplicate_meeting",
    "the council already has a meeting (not cancelled) of this title at this start; send "
    "an `Idempotency-Key` to make a retry harmless",
)
CANCELLED_NOT_CHANGED = Reason(
    409, "meeting_cancelled", "the meeting is cancelled: it is not changed any more"
)
CANCELLED_NOT_PUBLISHED = Reason(
    409, "meeting_cancelled", "the meeting is cancelled: it cannot be published"
)
# Why a meeting takes no sign-up now (meetings.services.registrations.refusal).
REGISTRATION_REFUSED = (
    Reason(409, "meeting_cancelled", "the meeting is cancelled"),
    Reason(409, "meeting_past", "the meeting is over"),
    Reason(409, "registration_not_open", "registration has not opened yet (`detail` says when)"),
    Reason(
        409,
        "registration_closed",
        "registration is closed (`registration_closes_at`, or else the start, has passed)",
    ),
)
