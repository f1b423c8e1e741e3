"""The OpenAPI document tells the truth about errors: every error an API operation answers is
provoked here over HTTP, as a client would, and checked against the document.

ROWS is the table: (operation id, status, code, how). Each row is provoked; its answer must
have that status and code, its body must match the schema the document gives for that
status of that operation (the `Error` component), and the document must list the status
and mention the code. The rows of one operation run in one test, in the table's order, on
one set of data (an error changes nothing, so they do not disturb each other); every row
that fails is reported. The other way, every error status the document lists, and every code
it lists under it, must have a row. A new error without a row, or a row the document does
not list, fails the test.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from accounts import services as accounts_services
from conseils.app import create_app
from conseils.timefmt import now_utc
from conseils.web import health
from meetings.services.councils import get_council
from meetings.tables import Meeting, Registration
from minutes.demo import demo_pdf
from minutes.tables import Minutes
from minutes.uploads import MAX_BODY
from notifications.tables import OutboxMessage
from proposals.services import agenda
from proposals.tables import Proposal, ProposalMeeting
from tests.proposals.office_support import proposal as make_proposal
from tests.support.facilitator_support import PASSWORD, make_facilitator
from tests.support.limits_support import with_limits
from tests.support.registration_support import MEETING, person, published_meeting

BAD_TOKEN = {"Authorization": "Bearer not-a-token"}
UNKNOWN_ID = 987_654


@dataclass
class World:
    """What the rows act on: facilitators' tokens and objects in every state."""

    client: httpx.AsyncClient
    tamaris: dict[str, str]  # a facilitator of Tamaris
    other: dict[str, str]  # a facilitator of Rive Droite
    admin: dict[str, str]
    lonely: dict[str, str]  # a facilitator of no council
    draft: int  # Tamaris's, titled and timed as MEETING
    published: int  # Tamaris's, with a registration
    cancelled: int
    past: int
    not_open: int
    closed: int
    others_draft: int  # Rive Droite's
    others_published: int
    registration: int
    failed_message: int
    sent_message: int
    proposal: int = 0  # Tamaris's, pending
    public_proposal: int = 0  # Tamaris's, published
    merged_proposal: int = 0  # Tamaris's, merged into public_proposal
    others_proposal: int = 0  # Rive Droite's, published
    documents: dict[str, int] = field(default_factory=dict)  # Tamaris's, a shared one
    # Tamaris's draft ("tamaris", "empty": nothing to publish), published one, all councils'
    minutes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Op:
    method: str
    path: Callable[[World], str]
    body: Any = None  # a valid body, for rows about something else
    auth: str | None = "tamaris"  # the World's token the op is called with by default


OPS: dict[str, Op] = {
    "createToken": Op(
        "POST", lambda w: "/api/v1/auth/token",
        {"email": "anim.tamaris@ales.fr", "password": PASSWORD}, auth=None,
    ),
    "revokeToken": Op("DELETE", lambda w: "/api/v1/auth/token"),
    "listCouncils": Op("GET", lambda w: "/api/v1/councils", auth=None),
    "getCouncil": Op("GET", lambda w: "/api/v1/councils/ales-tamaris", auth=None),
    "createCouncil": Op(
        "POST", lambda w: "/api/v1/councils",
        {"name": "Conseil de l'API", "slug": "conseil-api", "contact_email": "c@ales.fr",
         "quartiers": ["ales-tamaris"]},
        auth="admin",
    ),
    "updateCouncil": Op(
        "PATCH", lambda w: "/api/v1/councils/ales-tamaris", {"description": "Nouvelle"},
        auth="admin",
    ),
    "listQuartiers": Op("GET", lambda w: "/api/v1/quartiers", auth=None),
    "createQuartier": Op(
        "POST", lambda w: "/api/v1/quartiers",
        {"name": "Quartier de l'API", "slug": "quartier-api", "commune": "Alès"}, auth="admin",
    ),
    "updateQuartier": Op(
        "PATCH", lambda w: "/api/v1/quartiers/ales-tamaris", {"name": "Tamaris"}, auth="admin"
    ),
    "listMeetings": Op("GET", lambda w: "/api/v1/meetings", auth=None),
    "getMeeting": Op("GET", lambda w: f"/api/v1/meetings/{w.published}", auth=None),
    "createMeeting": Op(
        "POST", lambda w: "/api/v1/meetings", {**MEETING, "title": "Une autre réunion"}
    ),
    "updateMeeting": Op(
        "PATCH", lambda w: f"/api/v1/meetings/{w.draft}", {"title": "Nouveau titre"}
    ),
    "publishMeeting": Op("POST", lambda w: f"/api/v1/meetings/{w.draft}/publish"),
    "cancelMeeting": Op("POST", lambda w: f"/api/v1/meetings/{w.draft}/cancel", {}),
    "deleteMeeting": Op("DELETE", lambda w: f"/api/v1/meetings/{w.draft}"),
    "registerForMeeting": Op(
        "POST", lambda w: f"/api/v1/meetings/{w.published}/registrations", person(7), auth=None
    ),
    "listRegistrations": Op("GET", lambda w: f"/api/v1/meetings/{w.published}/registrations"),
    "exportRegistrationsCsv": Op(
        "GET", lambda w: f"/api/v1/meetings/{w.published}/registrations.csv"
    ),
    "recordAttendance": Op(
        "POST", lambda w: f"/api/v1/registrations/{w.registration}/attendance",
        {"attended": True},
    ),
    "cancelRegistration": Op(
        "POST", lambda w: f"/api/v1/registrations/{w.registration}/cancel", {}
    ),
    "deleteRegistration": Op("DELETE", lambda w: f"/api/v1/registrations/{w.registration}"),
    "subscribeToCouncil": Op(
        "POST", lambda w: "/api/v1/councils/ales-tamaris/subscriptions",
        {"email": "abonne@example.org"}, auth=None,
    ),
    # The World's first proposal is a published one of Tamaris (see `world`).
    "listCouncilProposals": Op(
        "GET", lambda w: "/api/v1/councils/ales-tamaris/proposals", auth=None
    ),
    "getProposal": Op("GET", lambda w: "/api/v1/proposals/1", auth=None),
    "submitProposal": Op(
        "POST", lambda w: "/api/v1/councils/ales-tamaris/proposals",
        {"title": "Des bancs", "body": "Pour s'asseoir.", "theme": "autre",
         "email": "habitante@example.org"}, auth=None,
    ),
    "supportProposal": Op(
        "POST", lambda w: "/api/v1/proposals/1/supports", {"email": "soutien@example.org"},
        auth=None,
    ),
    "listOutboxMessages": Op("GET", lambda w: "/api/v1/outbox"),
    "retryOutboxMessage": Op("POST", lambda w: f"/api/v1/outbox/{w.failed_message}/retry"),
    "getHealth": Op("GET", lambda w: "/healthz", auth=None),
    "listCouncilProposalsForModeration": Op(
        "GET", lambda w: "/api/v1/councils/ales-tamaris/proposals/all"
    ),
    "exportProposalsCsv": Op("GET", lambda w: "/api/v1/councils/ales-tamaris/proposals.csv"),
    "getProposalForModeration": Op("GET", lambda w: f"/api/v1/proposals/{w.proposal}/moderation"),
    "editProposal": Op(
        "PATCH", lambda w: f"/api/v1/proposals/{w.proposal}/moderation", {"title": "Des bancs"}
    ),
    "publishProposal": Op("POST", lambda w: f"/api/v1/proposals/{w.proposal}/publish"),
    "rejectProposal": Op(
        "POST", lambda w: f"/api/v1/proposals/{w.proposal}/reject", {"reason": "Hors champ."}
    ),
    "setProposalStatus": Op(
        "POST", lambda w: f"/api/v1/proposals/{w.proposal}/status", {"status": "published"}
    ),
    "writeProposalAnswer": Op(
        "PUT", lambda w: f"/api/v1/proposals/{w.public_proposal}/answer",
        {"answer": "Oui.", "answer_role": "Le bureau"},
    ),
    "mergeProposal": Op(
        "POST", lambda w: f"/api/v1/proposals/{w.proposal}/merge", {"into": 1}
    ),
    "putProposalOnAgenda": Op(
        "PUT", lambda w: f"/api/v1/meetings/{w.published}/agenda/{w.public_proposal}", {}
    ),
    "takeProposalOffAgenda": Op(
        "DELETE", lambda w: f"/api/v1/meetings/{w.published}/agenda/{w.public_proposal}"
    ),
    "collectProposals": Op(
        "POST", lambda w: f"/api/v1/meetings/{w.published}/collected-proposals",
        {"proposals": [{"title": "Un banc", "theme": "autre"}]},
    ),
    "listDocuments": Op("GET", lambda w: "/api/v1/documents", auth=None),
    "createDocument": Op("POST", lambda w: "/api/v1/documents"),
    "deleteDocument": Op("DELETE", lambda w: f"/api/v1/documents/{w.documents['tamaris']}"),
    "listMinutes": Op("GET", lambda w: "/api/v1/minutes", auth=None),
    "getMinutes": Op("GET", lambda w: f"/api/v1/minutes/{UNKNOWN_ID}", auth=None),
    "createMinutes": Op("POST", lambda w: "/api/v1/minutes",
                        {"month": "2024-05", "council": "ales-tamaris"}),
    "getMinutesForEditing": Op("GET", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}/editing"),
    "updateMinutes": Op("PATCH", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}",
                        {"title": "Compte rendu"}),
    "uploadMinutesFile": Op("POST", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}/file"),
    "setMinutesProposals": Op(
        "PUT", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}/proposals", []
    ),
    "publishMinutes": Op("POST", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}/publish"),
    "sendMinutesUpdate": Op(
        "POST", lambda w: f"/api/v1/minutes/{w.minutes['published']}/update-email", {}
    ),
    "deleteMinutes": Op("DELETE", lambda w: f"/api/v1/minutes/{w.minutes['tamaris']}"),
}  # fmt: skip


async def call(
    w: World,
    op_id: str,
    *,
    path: str | None = None,
    auth: dict[str, str] | str | None = "default",
    body: Any = "default",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """Call an operation as a client would: its valid body and token unless told otherwise."""
    op = OPS[op_id]
    if auth == "default":
        auth = op.auth
    sent = dict(getattr(w, auth) if isinstance(auth, str) else auth or {})
    sent.update(headers or {})
    json = op.body if body == "default" else body
    if content is None and json is not None:
        content = httpx.Request("POST", "/", json=json).content
        sent.setdefault("Content-Type", "application/json")
    return await w.client.request(
        op.method, path or op.path(w), content=content, headers=sent, params=params
    )


Act = Callable[[World], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Row:
    operation: str
    status: int
    code: str | None  # None: a body that is not an `Error` (the health check's)
    how: str
    act: Act

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.status}-{self.code}"


async def _rate_limited(w: World, op_id: str) -> httpx.Response:
    async with with_limits(RATE_LIMIT_PER_MINUTE="1"):
        await call(w, op_id)
        return await call(w, op_id)


async def _throttled(w: World) -> httpx.Response:
    """Wrong passwords until the account is blocked; then even the right one waits."""
    wrong = {"email": "anim.tamaris@ales.fr", "password": "pas le bon mot de passe"}
    for _ in range(accounts_services.FREE_ACCOUNT_FAILURES + 1):
        if (await call(w, "createToken", body=wrong)).status_code == 429:
            break
    return await call(w, "createToken")


async def _busy(w: World) -> httpx.Response:
    """Every turn to check a password taken (by a flood), and no time left to wait."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(accounts_services._checks, asyncio.get_running_loop(), asyncio.Semaphore(0))
        patch.setattr(accounts_services, "CHECK_WAIT_S", 0.05)
        return await call(w, "createToken")


async def _database_down(w: World) -> httpx.Response:
    async def no_answer() -> bool:
        return False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(health, "ping", no_answer)
        return await call(w, "getHealth")


PROPOSAL_OFFICE_OPS = [
    "listCouncilProposalsForModeration", "exportProposalsCsv", "getProposalForModeration",
    "editProposal", "publishProposal", "rejectProposal", "setProposalStatus",
    "writeProposalAnswer", "mergeProposal", "putProposalOnAgenda", "takeProposalOffAgenda",
    "collectProposals",
]  # fmt: skip
BODY_OPS = [op_id for op_id, op in OPS.items() if op.body is not None]
MINUTES_OPS = [  # the operations on one minutes: 403 and 404 alike
    "getMinutesForEditing", "updateMinutes", "uploadMinutesFile", "setMinutesProposals",
    "publishMinutes", "sendMinutesUpdate", "deleteMinutes",
]  # fmt: skip
BEARER_OPS = [
    "revokeToken", "createCouncil", "updateCouncil", "createQuartier", "updateQuartier",
    "createMeeting", "updateMeeting", "publishMeeting", "cancelMeeting", "deleteMeeting",
    "listRegistrations", "exportRegistrationsCsv", "recordAttendance", "cancelRegistration",
    "deleteRegistration", "listOutboxMessages", "retryOutboxMessage",
    *PROPOSAL_OFFICE_OPS,
    "deleteRegistration", "listOutboxMessages", "retryOutboxMessage", "createDocument",
    "deleteDocument", *MINUTES_OPS, "createMinutes",
]  # fmt: skip
OPTIONAL_BEARER_OPS = ["listMeetings", "getMeeting"]
ADMIN_OPS = ["createCouncil", "updateCouncil", "createQuartier", "updateQuartier"]
HUGE = b'{"name": "' + b"a" * 1_100_000 + b'"}'


def _generic_rows() -> Iterator[Row]:
    """What every operation of a kind answers: a bad body, a missing or bad token."""
    for op in BODY_OPS:
        yield Row(
            op,
            400,
            "invalid",
            "an unknown field in the body",
            lambda w, op=op: call(w, op, body={"champ_inconnu": 1}),
        )
        yield Row(
            op,
            400,
            "http_400",
            "malformed JSON",
            lambda w, op=op: call(
                w, op, content=b'{"name": ', headers={"Content-Type": "application/json"}
            ),
        )
        yield Row(
            op,
            400,
            "http_400",
            "invalid UTF-8 in a JSON string",
            lambda w, op=op: call(
                w, op, content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"}
            ),
        )
        yield Row(
            op,
            400,
            "too_deep",
            "JSON nested 100,000 deep",
            lambda w, op=op: call(
                w, op, content=b"[" * 100_000, headers={"Content-Type": "application/json"}
            ),
        )
        yield Row(
            op,
            413,
            "http_413",
            "a body over 1 MB",
            lambda w, op=op: call(
                w, op, content=HUGE, headers={"Content-Type": "application/json"}
            ),
        )
        yield Row(
            op,
            415,
            "unsupported_media_type",
            "a text/plain body",
            lambda w, op=op: call(
                w, op, content=b"title=x", headers={"Content-Type": "text/plain"}
            ),
        )
    for op in BEARER_OPS:
        yield Row(
            op,
            401,
            "auth_required",
            "no Authorization header",
            lambda w, op=op: call(w, op, auth=None),
        )
    for op in [*BEARER_OPS, *OPTIONAL_BEARER_OPS]:
        yield Row(
            op,
            401,
            "bad_token",
            "a token that was never issued",
            lambda w, op=op: call(w, op, auth=BAD_TOKEN),
        )
    for op in ADMIN_OPS:
        yield Row(
            op,
            403,
            "admin_only",
            "a facilitator who is not an administrator",
            lambda w, op=op: call(w, op, auth="tamaris"),
        )
    for op in [
        "registerForMeeting",
        "subscribeToCouncil",
        "createToken",
        "submitProposal",
        "supportProposal",
    ]:
        yield Row(op, 429, "too_many_requests", "a second write in a minute, limit 1",
                  lambda w, op=op: _rate_limited(w, op))  # fmt: skip


def _meeting(w: World, op: str, meeting: str, auth: str | None = "tamaris") -> Any:
    """`op` on another of the World's meetings than its usual one."""
    other = getattr(w, meeting)
    path = OPS[op].path(replace(w, draft=other, published=other))
    return call(w, op, path=path, auth=auth)


DOCUMENT_FIELDS = {"title": "Fiche projet", "category": "fph", "council": "ales-tamaris",
                   "issued_on": "2026-01-15"}  # fmt: skip


def _upload(w: World, auth: str = "tamaris", **fields: str) -> Awaitable[httpx.Response]:
    """createDocument as a client sends it: a multipart form with a real PDF."""
    form = httpx.Request(
        "POST", "/", data={**DOCUMENT_FIELDS, **fields},
        files={"file": ("fiche.pdf", demo_pdf(["Fiche projet"]), "application/pdf")},
    )  # fmt: skip
    return call(w, "createDocument", auth=auth, content=form.read(),
                headers={"Content-Type": form.headers["Content-Type"]})  # fmt: skip


def _registration(w: World, op: str, registration: int, auth: str = "tamaris") -> Any:
    return call(w, op, path=OPS[op].path(replace(w, registration=registration)), auth=auth)


def _proposal(w: World, op: str, proposal: int, auth: str = "tamaris", **kw: Any) -> Any:
    """`op` on another proposal than its usual one (the pending one, or the published one)."""
    path = OPS[op].path(replace(w, proposal=proposal, public_proposal=proposal))
    return call(w, op, path=path, auth=auth, **kw)


async def _agenda_full(w: World) -> httpx.Response:
    """The closed meeting's agenda filled with 100 published proposals, then one more."""
    council = await Proposal.select(Proposal.council).where(Proposal.id == w.proposal).first()
    for n in range(agenda.MAX_ITEMS):
        made = await Proposal.insert(
            Proposal(council=council["council"], title=f"Point {n}", theme="autre",
                     status="published", created_at=now_utc(), updated_at=now_utc())
        ).returning(Proposal.id)  # fmt: skip
        await ProposalMeeting.insert(
            ProposalMeeting(proposal=made[0]["id"], meeting=w.closed,
                            key=f"{w.closed}:{made[0]['id']}", position=n + 1,
                            added_at=now_utc())
        )  # fmt: skip
    return await call(w, "putProposalOnAgenda", path=OPS["putProposalOnAgenda"].path(
        replace(w, published=w.closed)))  # fmt: skip


ON_A_PROPOSAL = ("getProposalForModeration", "editProposal", "publishProposal", "rejectProposal",
                 "setProposalStatus", "writeProposalAnswer", "mergeProposal")  # fmt: skip


def _minutes_path(w: World, op: str, which: str | int) -> str:
    """The operation's path on other minutes (by name in the World, or an id)."""
    found = w.minutes[which] if isinstance(which, str) else which
    return OPS[op].path(replace(w, minutes={**w.minutes, "tamaris": found, "published": found}))


def _minutes_upload(w: World, path: str | None = None, auth: str = "tamaris") -> Any:
    form = httpx.Request(
        "POST", "/", files={"file": ("cr.pdf", demo_pdf(["Compte rendu"]), "application/pdf")}
    )
    return call(w, "uploadMinutesFile", path=path, auth=auth, content=form.read(),
                headers={"Content-Type": form.headers["Content-Type"]})  # fmt: skip


def _minutes_call(w: World, op: str, which: str | int, auth: str = "tamaris") -> Any:
    path = _minutes_path(w, op, which)
    if op == "uploadMinutesFile":
        return _minutes_upload(w, path, auth)
    return call(w, op, path=path, auth=auth)


def _minutes_rows() -> Iterator[Row]:
    for op in MINUTES_OPS:
        yield Row(op, 403, "not_your_council", "Tamaris's, by Rive Droite's",
                  lambda w, op=op: _minutes_call(w, op, "tamaris", auth="other"))  # fmt: skip
        yield Row(op, 403, "admin_only", "every council's, by a facilitator",
                  lambda w, op=op: _minutes_call(w, op, "all"))  # fmt: skip
        yield Row(op, 404, "minutes_not_found", "unknown minutes",
                  lambda w, op=op: _minutes_call(w, op, UNKNOWN_ID))  # fmt: skip


ROWS: list[Row] = [
    *_generic_rows(),
    *_minutes_rows(),
    # auth
    Row("createToken", 401, "bad_credentials", "a wrong password",
        lambda w: call(w, "createToken", body={"email": "anim.tamaris@ales.fr",
                                              "password": "pas le bon"})),
    Row("createToken", 429, "login_busy", "every password check taken, none freed in time",
        _busy),
    Row("createToken", 429, "login_throttled", "wrong passwords, then the right one",
        _throttled),
    # councils and quartiers
    Row("getCouncil", 404, "council_not_found", "an unknown slug",
        lambda w: call(w, "getCouncil", path="/api/v1/councils/inconnu")),
    Row("updateCouncil", 404, "council_not_found", "an unknown slug",
        lambda w: call(w, "updateCouncil", path="/api/v1/councils/inconnu")),
    Row("updateQuartier", 404, "quartier_not_found", "an unknown slug",
        lambda w: call(w, "updateQuartier", path="/api/v1/quartiers/inconnu")),
    # meetings
    Row("listMeetings", 400, "invalid", "limit=0",
        lambda w: call(w, "listMeetings", params={"limit": "0"})),
    Row("getMeeting", 404, "meeting_not_found", "another council's draft",
        lambda w: _meeting(w, "getMeeting", "others_draft")),
    Row("createMeeting", 403, "not_your_council", "for another council",
        lambda w: call(w, "createMeeting", body={**MEETING, "council": "ales-rive-droite"})),
    Row("createMeeting", 409, "duplicate_meeting", "the title and start of the draft again",
        lambda w: call(w, "createMeeting", body=MEETING)),
    *(Row(op, 403, "not_your_council", "another council's published meeting",
          lambda w, op=op: _meeting(w, op, "others_published"))
      for op in ("updateMeeting", "publishMeeting", "cancelMeeting", "deleteMeeting",
                 "listRegistrations", "exportRegistrationsCsv")),
    *(Row(op, 404, "meeting_not_found", "another council's draft",
          lambda w, op=op: _meeting(w, op, "others_draft"))
      for op in ("updateMeeting", "publishMeeting", "cancelMeeting", "deleteMeeting",
                 "listRegistrations", "exportRegistrationsCsv")),
    Row("updateMeeting", 409, "meeting_cancelled", "a cancelled meeting",
        lambda w: _meeting(w, "updateMeeting", "cancelled")),
    Row("publishMeeting", 409, "meeting_cancelled", "a cancelled meeting",
        lambda w: _meeting(w, "publishMeeting", "cancelled")),
    Row("deleteMeeting", 403, "cancel_instead", "a published meeting, by a facilitator",
        lambda w: _meeting(w, "deleteMeeting", "published")),
    # registrations
    Row("registerForMeeting", 404, "meeting_not_found", "a draft",
        lambda w: _meeting(w, "registerForMeeting", "draft", auth=None)),
    Row("registerForMeeting", 409, "meeting_cancelled", "a cancelled meeting",
        lambda w: _meeting(w, "registerForMeeting", "cancelled", auth=None)),
    Row("registerForMeeting", 409, "meeting_past", "a meeting that is over",
        lambda w: _meeting(w, "registerForMeeting", "past", auth=None)),
    Row("registerForMeeting", 409, "registration_not_open", "before registration opens",
        lambda w: _meeting(w, "registerForMeeting", "not_open", auth=None)),
    Row("registerForMeeting", 409, "registration_closed", "after registration closed",
        lambda w: _meeting(w, "registerForMeeting", "closed", auth=None)),
    *(Row(op, 403, "not_your_council", "a registration of Tamaris, by Rive Droite's",
          lambda w, op=op: _registration(w, op, w.registration, auth="other"))
      for op in ("recordAttendance", "cancelRegistration", "deleteRegistration")),
    *(Row(op, 404, "registration_not_found", "an unknown registration",
          lambda w, op=op: _registration(w, op, UNKNOWN_ID))
      for op in ("recordAttendance", "cancelRegistration", "deleteRegistration")),
    Row("deleteRegistration", 400, "invalid", "spam=peut-être",
        lambda w: call(w, "deleteRegistration", params={"spam": "peut-être"})),
    # subscriptions
    Row("subscribeToCouncil", 404, "council_not_found", "an unknown council",
        lambda w: call(w, "subscribeToCouncil", path="/api/v1/councils/inconnu/subscriptions")),
    # proposals
    Row("listCouncilProposals", 400, "invalid", "a status that is not public",
        lambda w: call(w, "listCouncilProposals", params={"status": "pending"})),
    Row("listCouncilProposals", 404, "council_not_found", "an unknown council",
        lambda w: call(w, "listCouncilProposals", path="/api/v1/councils/inconnu/proposals")),
    Row("getProposal", 404, "proposal_not_found", "an unknown proposal",
        lambda w: call(w, "getProposal", path=f"/api/v1/proposals/{UNKNOWN_ID}")),
    Row("submitProposal", 404, "council_not_found", "an unknown council",
        lambda w: call(w, "submitProposal", path="/api/v1/councils/inconnu/proposals")),
    Row("supportProposal", 404, "proposal_not_found", "an unknown proposal",
        lambda w: call(w, "supportProposal", path=f"/api/v1/proposals/{UNKNOWN_ID}/supports")),
    # outbox
    Row("listOutboxMessages", 400, "invalid", "limit=0",
        lambda w: call(w, "listOutboxMessages", params={"limit": "0"})),
    Row("retryOutboxMessage", 403, "no_council", "a facilitator of no council",
        lambda w: call(w, "retryOutboxMessage", auth="lonely")),
    Row("retryOutboxMessage", 404, "message_not_found", "an unknown message",
        lambda w: call(w, "retryOutboxMessage", path=f"/api/v1/outbox/{UNKNOWN_ID}/retry")),
    Row("retryOutboxMessage", 409, "message_not_failed", "a message that was sent",
        lambda w: call(w, "retryOutboxMessage", path=f"/api/v1/outbox/{w.sent_message}/retry")),
    # proposals, as their council's facilitators handle them
    *(Row(op, 403, "not_your_council", "Tamaris's, by Rive Droite's",
          lambda w, op=op: call(w, op, auth="other"))
      for op in (*PROPOSAL_OFFICE_OPS,)),
    *(Row(op, 404, "council_not_found", "an unknown slug",
          lambda w, op=op: call(w, op, path=OPS[op].path(w).replace("ales-tamaris", "inconnu")))
      for op in ("listCouncilProposalsForModeration", "exportProposalsCsv")),
    Row("listCouncilProposalsForModeration", 400, "invalid", "status=perdue",
        lambda w: call(w, "listCouncilProposalsForModeration", params={"status": "perdue"})),
    *(Row(op, 404, "proposal_not_found", "an unknown proposal",
          lambda w, op=op: _proposal(w, op, UNKNOWN_ID))
      for op in ON_A_PROPOSAL),
    Row("editProposal", 409, "proposal_merged", "a merged proposal",
        lambda w: _proposal(w, "editProposal", w.merged_proposal)),
    Row("publishProposal", 409, "invalid_transition", "a merged proposal",
        lambda w: _proposal(w, "publishProposal", w.merged_proposal)),
    Row("rejectProposal", 409, "invalid_transition", "a published proposal",
        lambda w: _proposal(w, "rejectProposal", w.public_proposal)),
    Row("setProposalStatus", 409, "invalid_transition", "a pending proposal to done",
        lambda w: call(w, "setProposalStatus", body={"status": "done"})),
    Row("writeProposalAnswer", 409, "not_answerable", "a pending proposal",
        lambda w: _proposal(w, "writeProposalAnswer", w.proposal)),
    Row("mergeProposal", 409, "not_mergeable", "into a merged proposal",
        lambda w: call(w, "mergeProposal", body={"into": w.merged_proposal})),
    Row("mergeProposal", 409, "other_council_proposal", "into Rive Droite's, by an admin",
        lambda w: call(w, "mergeProposal", body={"into": w.others_proposal}, auth="admin")),
    *(Row(op, 404, "meeting_not_found", "an unknown meeting",
          lambda w, op=op: call(w, op, path=OPS[op].path(replace(w, published=UNKNOWN_ID))))
      for op in ("putProposalOnAgenda", "takeProposalOffAgenda", "collectProposals")),
    Row("putProposalOnAgenda", 404, "proposal_not_found", "an unknown proposal",
        lambda w: _proposal(w, "putProposalOnAgenda", UNKNOWN_ID)),
    Row("putProposalOnAgenda", 409, "other_council_meeting", "Rive Droite's, by an admin",
        lambda w: _proposal(w, "putProposalOnAgenda", w.others_proposal, auth="admin")),
    Row("putProposalOnAgenda", 409, "not_on_agenda_yet", "a pending proposal",
        lambda w: _proposal(w, "putProposalOnAgenda", w.proposal)),
    Row("putProposalOnAgenda", 409, "agenda_full", "an agenda of 100 proposals",
        _agenda_full),
    # health
    Row("getHealth", 503, None, "the database does not answer", _database_down),
    # documents
    Row("listDocuments", 400, "invalid", "an unknown council",
        lambda w: call(w, "listDocuments", params={"council": "nulle-part"})),
    Row("createDocument", 400, "invalid", "a JSON body instead of a multipart form",
        lambda w: call(w, "createDocument", body=DOCUMENT_FIELDS)),
    Row("createDocument", 403, "not_your_council", "for Tamaris, by Rive Droite's",
        lambda w: _upload(w, auth="other")),
    Row("createDocument", 403, "admin_only", "a shared document, by a facilitator",
        lambda w: _upload(w, council="")),
    Row("createDocument", 413, "http_413", "a body over 20 MB",
        lambda w: call(w, "createDocument", content=b"0" * (MAX_BODY + 1),
                       headers={"Content-Type": "multipart/form-data; boundary=x"})),
    Row("deleteDocument", 403, "not_your_council", "Tamaris's, by Rive Droite's",
        lambda w: call(w, "deleteDocument", auth="other")),
    Row("deleteDocument", 403, "admin_only", "a shared one, by a facilitator",
        lambda w: call(w, "deleteDocument",
                       path=f"/api/v1/documents/{w.documents['shared']}")),
    # minutes
    Row("createMinutes", 403, "not_your_council", "for Tamaris, by Rive Droite's",
        lambda w: call(w, "createMinutes", auth="other")),
    Row("createMinutes", 403, "admin_only", "every council's, by a facilitator",
        lambda w: call(w, "createMinutes", body={"month": "2024-05", "council": ""})),
    Row("createMinutes", 409, "minutes_exist", "a second bundle of a month",
        lambda w: call(w, "createMinutes", body={"month": "2026-01", "council": "ales-tamaris"})),
    Row("uploadMinutesFile", 400, "invalid", "a JSON body instead of a multipart form",
        lambda w: call(w, "uploadMinutesFile", body={"file": "x"})),
    Row("uploadMinutesFile", 413, "http_413", "a body over 20 MB",
        lambda w: call(w, "uploadMinutesFile", content=b"0" * (MAX_BODY + 1),
                       headers={"Content-Type": "multipart/form-data; boundary=x"})),
    Row("publishMinutes", 400, "invalid", "nothing written yet",
        lambda w: _minutes_call(w, "publishMinutes", "empty")),
    Row("sendMinutesUpdate", 409, "minutes_not_published", "a draft",
        lambda w: call(w, "sendMinutesUpdate",
                       path=f"/api/v1/minutes/{w.minutes['tamaris']}/update-email")),
    Row("deleteMinutes", 409, "minutes_published", "published minutes",
        lambda w: _minutes_call(w, "deleteMinutes", "published")),
    Row("deleteDocument", 404, "document_not_found", "an unknown document",
        lambda w: call(w, "deleteDocument", path=f"/api/v1/documents/{UNKNOWN_ID}")),
    # minutes (published ones only: a draft's id answers the same 404)
    Row("listMinutes", 400, "invalid", "an unknown council",
        lambda w: call(w, "listMinutes", params={"council": "nulle-part"})),
    Row("listMinutes", 400, "invalid", "a year out of range",
        lambda w: call(w, "listMinutes", params={"year": "1789"})),
    Row("getMinutes", 404, "minutes_not_found", "unknown or not published minutes",
        lambda w: call(w, "getMinutes")),
]  # fmt: skip


# ---------------------------------------------------------------- the document


@functools.cache
def _the_document() -> dict[str, Any]:
    return create_app().openapi_schema.to_schema()


def _document() -> dict[str, Any]:
    """The application's OpenAPI document (built once: it depends on the code only)."""
    return _the_document()


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(document: dict[str, Any], schema: dict[str, Any], value: Any, at: str = "$"):
    """Where `value` breaks `schema`: the JSON Schema that Litestar writes (type, properties,
    required, items, enum, const, oneOf, anyOf, allOf, $ref), no more (jsonschema is not
    installed, and this is all the document uses)."""
    schema = _resolve(document, schema)
    errors: list[str] = []
    if "allOf" in schema:
        for part in schema["allOf"]:
            errors += schema_errors(document, part, value, at)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            matching = [p for p in schema[key] if not schema_errors(document, p, value, at)]
            if not matching or (key == "oneOf" and len(matching) > 1):
                errors.append(f"{at}: {len(matching)} of {key} match")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            return [*errors, f"{at}: {value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} is not {schema['const']!r}")
    if isinstance(value, dict) and "properties" in schema:
        errors += [f"{at}.{name}: missing" for name in schema.get("required", [])
                   if name not in value]  # fmt: skip
        for name, item in value.items():
            if name in schema["properties"]:
                errors += schema_errors(document, schema["properties"][name], item, f"{at}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{at}.{name}: not allowed")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(document, schema["items"], item, f"{at}[{i}]")
    return errors


def test_the_validator_sees_a_wrong_body() -> None:
    document = _document()
    error = {"$ref": "#/components/schemas/Error"}
    good = {
        "status_code": 400,
        "code": "invalid",
        "detail": "…",
        "extra": [{"key": "a", "message": "b"}],
    }
    assert schema_errors(document, error, good) == []
    assert schema_errors(document, error, {**good, "code": 3})
    assert schema_errors(document, error, {"status_code": 400, "detail": "…"})
    assert schema_errors(document, error, {**good, "extra": [{"key": "a"}]})
    assert schema_errors(document, error, {**good, "extra": {"key": "a", "message": "b"}})


# ---------------------------------------------------------------- the tests


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    tamaris_auth: dict[str, str],
    admin_auth: dict[str, str],
) -> World:
    other = await make_facilitator("anim.rive-droite@ales.fr", "ales-rive-droite")
    lonely = await make_facilitator("sans.conseil@ales.fr")
    created = await client.post("/api/v1/meetings", json=MEETING, headers=tamaris_auth)
    assert created.status_code == 201, created.text

    async def meeting(title: str, auth: dict[str, str] = tamaris_auth, **kw: Any) -> int:
        body = {**MEETING, "title": title, **kw}
        if auth is other:
            body["council"] = "ales-rive-droite"
        return (await published_meeting(client, auth, **body))["id"]

    published = await meeting("Publiée")
    signed = await client.post(f"/api/v1/meetings/{published}/registrations", json=person(1))
    assert signed.status_code == 202, signed.text
    await client.post(f"/api/v1/meetings/{published}/registrations", json=person(2))
    cancelled = await meeting("Annulée")
    cancelling = await client.post(f"/api/v1/meetings/{cancelled}/cancel", headers=tamaris_auth)
    assert cancelling.status_code == 200, cancelling.text
    past, closed = await meeting("Passée"), await meeting("Close")
    later = (now_utc() + timedelta(days=3)).isoformat()
    not_open = await meeting("Pas encore ouverte", registration_opens_at=later)
    an_hour_ago = now_utc() - timedelta(hours=1)
    await Meeting.update(
        {Meeting.starts_at: an_hour_ago - timedelta(hours=2), Meeting.ends_at: an_hour_ago}
    ).where(Meeting.id == past)
    await Meeting.update({Meeting.registration_closes_at: an_hour_ago}).where(Meeting.id == closed)
    others_published = await meeting("De Rive Droite", other)
    others_draft = await client.post(
        "/api/v1/meetings",
        json={**MEETING, "council": "ales-rive-droite", "title": "Brouillon de Rive Droite"},
        headers=other,
    )
    registration = (
        await Registration.select(Registration.id)
        .where(Registration.meeting == published)
        .order_by(Registration.id)
        .first()
    )
    messages = (
        await OutboxMessage.select(OutboxMessage.id)
        .where(OutboxMessage.meeting_id == published)
        .order_by(OutboxMessage.id)
    )
    assert len(messages) >= 2, messages
    failed, sent = messages[0]["id"], messages[1]["id"]
    first_proposal = await Proposal.insert(
        Proposal(council=(await get_council("ales-tamaris")).id, title="Des bancs",
                 theme="autre", status="published")
    ).returning(Proposal.id)  # fmt: skip
    assert first_proposal[0]["id"] == 1  # OPS name it
    await OutboxMessage.update({OutboxMessage.status: "failed"}).where(OutboxMessage.id == failed)
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(OutboxMessage.id == sent)
    public_proposal = await make_proposal(status="published", title="Des bancs au square")
    proposals = {
        "proposal": await make_proposal(title="Des bnacs"),
        "public_proposal": public_proposal,
        "merged_proposal": await make_proposal(status="merged", merged_into=public_proposal),
        "others_proposal": await make_proposal(slug="ales-rive-droite", status="published"),
    }
    documents = {}
    for name, auth, council in (
        ("tamaris", tamaris_auth, "ales-tamaris"),
        ("shared", admin_auth, ""),
    ):
        form = {**DOCUMENT_FIELDS, "council": council}
        pdf = ("fiche.pdf", demo_pdf([name]), "application/pdf")
        added = await client.post("/api/v1/documents", data=form, files={"file": pdf}, headers=auth)
        assert added.status_code == 201, added.text
        documents[name] = added.json()["id"]
    tamaris_id = (await get_council("ales-tamaris")).id
    minutes = {}
    for name, council, month, status, summary in (
        ("tamaris", tamaris_id, "2026-01-01", "draft", "Résumé"),
        ("empty", tamaris_id, "2026-02-01", "draft", ""),
        ("published", tamaris_id, "2026-03-01", "published", "Résumé"),
        ("all", None, "2026-01-01", "draft", "Résumé"),
    ):
        rows = await Minutes.insert(
            Minutes(council=council, month=date.fromisoformat(month), title=f"CR {name}",
                    summary=summary, status=status)
        ).returning(Minutes.id)  # fmt: skip
        minutes[name] = rows[0]["id"]
    return World(
        client, tamaris_auth, other, admin_auth, lonely, **proposals, minutes=minutes,
        draft=created.json()["id"], published=published, cancelled=cancelled, past=past,
        not_open=not_open, closed=closed, others_draft=others_draft.json()["id"],
        others_published=others_published, registration=registration["id"],
        failed_message=failed, sent_message=sent, documents=documents,
    )  # fmt: skip


async def _check(row: Row, response: httpx.Response) -> None:
    assert response.status_code == row.status, response.text[:300]
    body = response.json()
    document = _document()
    documented = _operations(document)[row.operation]["responses"].get(str(row.status))
    assert documented is not None, f"{row.operation} does not list {row.status}"
    schema = documented["content"]["application/json"]["schema"]
    assert schema_errors(document, schema, body) == [], body
    if row.code is not None:
        assert schema == {"$ref": "#/components/schemas/Error"}
        assert body["code"] == row.code, body
        assert body["status_code"] == row.status
        assert set(body) <= set(document["components"]["schemas"]["Error"]["properties"])
        assert f"`{row.code}`" in documented["description"], documented["description"]
    if row.status == 429:
        assert int(response.headers["retry-after"]) >= 1
        assert "Retry-After" in documented["headers"]
    if row.status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert "WWW-Authenticate" in documented["headers"]


@pytest.mark.parametrize("operation", sorted({row.operation for row in ROWS}))
async def test_each_error_is_answered_as_documented(world: World, operation: str) -> None:
    failures = []
    for row in (row for row in ROWS if row.operation == operation):
        try:
            await _check(row, await row.act(world))
        except AssertionError as exc:
            failures.append(f"{row.id} ({row.how}): {exc}")
    assert failures == [], "\n".join(failures)


def test_every_documented_error_has_a_row() -> None:
    provoked = {(row.operation, row.status, row.code) for row in ROWS}
    missing = []
    for op_id, operation in _operations(_document()).items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            codes = re.findall(r"^- `([a-z0-9_]+)`", response["description"], re.MULTILINE)
            for code in codes or [None]:
                if (op_id, int(status), code) not in provoked:
                    missing.append((op_id, status, code))
    assert missing == [], f"documented, never provoked: {missing}"
    assert {row.operation for row in ROWS} <= set(_operations(_document()))


def test_every_operation_is_described() -> None:
    operations = [
        operation for item in _document()["paths"].values() for operation in item.values()
    ]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids)), ids
    assert set(ids) == set(OPS), set(ids) ^ set(OPS)  # a new operation needs its OPS entry
    for operation in operations:
        op_id = operation["operationId"]
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", op_id), op_id
        assert operation.get("summary", "").strip(), op_id
        assert len(operation.get("description", "")) > 40, op_id
        assert operation.get("tags"), op_id
        statuses = {int(status) for status in operation["responses"]}
        if operation.get("security") == [{"bearer": []}]:
            assert 401 in statuses, op_id


def test_every_example_matches_its_schema() -> None:
    document = _document()
    seen = 0
    for op_id, operation in _operations(document).items():
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                schema = media["schema"]
                values = [e["value"] for e in media.get("examples", {}).values()]
                values += schema.get("examples", [])
                for value in values:
                    seen += 1
                    assert schema_errors(document, schema, value) == [], (op_id, value)
    assert seen >= 60


def test_the_bearer_scheme_is_declared() -> None:
    document = _document()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    tags = {tag["name"] for tag in document["tags"]}
    assert tags >= {
        "meetings",
        "registrations",
        "councils",
        "subscriptions",
        "outbox",
        "auth",
        "moderation",
    }
