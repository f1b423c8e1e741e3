"""What anyone may read of the proposals: lists, pages, similar ones, the accountability
figures and the feed's entries. Only public proposals (`PUBLIC_STATUSES`) ever leave here,
and never an address; the author's name only if they ticked "show my name". A merged
proposal keeps a page of its own that points to the survivor.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from conseils import db, search
from conseils.errors import InvalidInput, NotFound
from conseils.timefmt import now_utc
from meetings.services.councils import CouncilView, get_council
from meetings.tables import Meeting
from proposals.services.common import (
    PUBLIC_STATUSES,
    SEARCH_KIND,
    STATUS_LABELS,
    THEMES,
    HistoryLine,
    history,
    public_author,
)
from proposals.tables import Proposal, ProposalMeeting

Sort = Literal["soutiens", "recentes", "reponses"]
SORTS: dict[str, str] = {
    "soutiens": "Les plus soutenues",
    "recentes": "Les plus récentes",
    "reponses": "Réponses les plus récentes",
}
PER_PAGE = 20
MAX_PAGE_SIZE = 100
SIMILAR_LIMIT = 5
STATS_WINDOW = timedelta(days=365)
FEED_ENTRIES = 50


@dataclass(frozen=True, slots=True)
class ProposalSummary:
    id: int
    title: str
    theme: str
    status: str
    supports: int
    author: str
    published_at: datetime | None
    answered_at: datetime | None

    @property
    def theme_label(self) -> str:
        return THEMES.get(self.theme, self.theme)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class LinkedMeeting:
    id: int
    title: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class ProposalPage:
    id: int
    council_id: int
    council_slug: str
    council_name: str
    title: str
    body: str
    theme: str
    status: str
    supports: int
    author: str
    published_at: datetime | None
    answer: str
    answer_role: str
    answered_at: datetime | None
    merged_into: int | None
    meetings: tuple[LinkedMeeting, ...]
    timeline: tuple[HistoryLine, ...]

    @property
    def theme_label(self) -> str:
        return THEMES.get(self.theme, self.theme)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def supportable(self) -> bool:
        return self.status in PUBLIC_STATUSES


@dataclass(frozen=True, slots=True)
class Accountability:
    """The council's record over the last twelve months (by date received)."""

    received: int  # that reached moderation (confirmed online, or typed in at a café)
    answered: int  # with an official answer
    accepted: int  # retained (accepted or done)
    done: int
    median_days: float | None  # from received to answered, for those answered in the window


@dataclass(frozen=True, slots=True)
class Similar:
    id: int
    title: str
    status: str
    supports: int
    snippet: Any  # Markup: the matching passage, escaped, with <mark>

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _summary(row: dict[str, Any]) -> ProposalSummary:
    return ProposalSummary(
        id=row["id"],
        title=row["title"],
        theme=row["theme"],
        status=row["status"],
        supports=row["supports"],
        author=public_author(row),
        published_at=row["published_at"],
        answered_at=row["answered_at"],
    )


_SUMMARY_COLUMNS = (
    Proposal.id,
    Proposal.title,
    Proposal.theme,
    Proposal.status,
    Proposal.supports,
    Proposal.author_name,
    Proposal.show_name,
    Proposal.origin,
    Proposal.published_at,
    Proposal.answered_at,
)


def _filters(council_id: int, status: str | None, theme: str | None) -> Any:
    if status is not None and status not in PUBLIC_STATUSES:
        raise InvalidInput({"statut": "statut inconnu"})
    if theme is not None and theme not in THEMES:
        raise InvalidInput({"theme": "thème inconnu"})
    where = (Proposal.council == council_id) & (
        Proposal.status == status if status else Proposal.status.is_in(list(PUBLIC_STATUSES))
    )
    if theme:
        where = where & (Proposal.theme == theme)
    return where


async def list_proposals(
    council: CouncilView,
    *,
    status: str | None = None,
    theme: str | None = None,
    sort: str = "soutiens",
    limit: int = PER_PAGE,
    offset: int = 0,
) -> tuple[list[ProposalSummary], int]:
    """A council's public proposals, filtered and sorted; and how many match in all."""
    if sort not in SORTS:
        raise InvalidInput({"tri": "tri inconnu"})
    limit = min(max(1, limit), MAX_PAGE_SIZE)
    offset = min(max(0, offset), db.MAX_ID)
    where = _filters(council.id, status, theme)
    query = Proposal.select(*_SUMMARY_COLUMNS).where(where)
    if sort == "soutiens":
        query = query.order_by(Proposal.supports, ascending=False)
    elif sort == "reponses":
        query = query.where(Proposal.answered_at.is_not_null()).order_by(
            Proposal.answered_at, ascending=False
        )
        where = where & Proposal.answered_at.is_not_null()
    query = query.order_by(Proposal.published_at, ascending=False).order_by(
        Proposal.id, ascending=False
    )
    rows = await query.limit(limit).offset(offset)
    total = await Proposal.count().where(where)
    return [_summary(row) for row in rows], total


async def accountability(council_id: int, now: datetime | None = None) -> Accountability:
    """One query (the list page shows it on every visit): the window's proposals' statuses
    and dates, counted here."""
    since = (now or now_utc()) - STATS_WINDOW
    rows = await Proposal.select(Proposal.status, Proposal.created_at, Proposal.answered_at).where(
        (Proposal.council == council_id)
        & (Proposal.status != "unconfirmed")
        & (Proposal.created_at >= since)
    )
    durations = [
        (row["answered_at"] - row["created_at"]).total_seconds() / 86_400
        for row in rows
        if row["answered_at"] is not None
    ]
    statuses = Counter(row["status"] for row in rows)
    return Accountability(
        received=len(rows),
        answered=len(durations),
        accepted=statuses["accepted"] + statuses["done"],
        done=statuses["done"],
        median_days=round(statistics.median(durations), 1) if durations else None,
    )


async def _meetings_of(proposal_id: int) -> tuple[LinkedMeeting, ...]:
    links = await ProposalMeeting.select(ProposalMeeting.meeting).where(
        ProposalMeeting.proposal == proposal_id
    )
    ids = [link["meeting"] for link in links]
    if not ids:
        return ()
    rows = await (
        Meeting.select(Meeting.id, Meeting.title, Meeting.starts_at)
        .where(Meeting.id.is_in(ids) & Meeting.status.is_in(["published", "cancelled"]))
        .order_by(Meeting.starts_at)
    )
    return tuple(LinkedMeeting(r["id"], r["title"], r["starts_at"]) for r in rows)


async def get_proposal(proposal_id: int) -> ProposalPage:
    """A public (or merged) proposal's page; any other is "not found", whatever it is."""
    row = (
        await Proposal.select(
            *_SUMMARY_COLUMNS,
            Proposal.council,
            Proposal.body,
            Proposal.answer,
            Proposal.answer_role,
            Proposal.merged_into,
            Proposal.council.slug.as_alias("council_slug"),
            Proposal.council.name.as_alias("council_name"),
        )
        .where((Proposal.id == proposal_id) & Proposal.status.is_in([*PUBLIC_STATUSES, "merged"]))
        .first()
        if 1 <= proposal_id <= db.MAX_ID
        else None
    )
    if row is None:
        raise NotFound("Cette proposition n'existe pas.", code="proposal_not_found")
    return ProposalPage(
        id=row["id"],
        council_id=row["council"],
        council_slug=row["council_slug"],
        council_name=row["council_name"],
        title=row["title"],
        body=row["body"],
        theme=row["theme"],
        status=row["status"],
        supports=row["supports"],
        author=public_author(row),
        published_at=row["published_at"],
        answer=row["answer"] if row["answered_at"] is not None else "",
        answer_role=row["answer_role"],
        answered_at=row["answered_at"],
        merged_into=row["merged_into"],
        meetings=await _meetings_of(row["id"]),
        timeline=tuple(await history(row["id"], public_only=True)),
    )


async def similar(council_id: int, text: str, *, limit: int = SIMILAR_LIMIT) -> list[Similar]:
    """Public proposals of the council that share words with `text` (a title being typed),
    those sharing the most first: to support one rather than send a duplicate."""
    hits = await search.search(
        text[: search.MAX_QUERY_CHARS],
        kinds=[SEARCH_KIND],
        council_id=council_id,
        match="any",
        limit=limit,
    )
    if not hits:
        return []
    rows = {
        row["id"]: row
        for row in await Proposal.select(
            Proposal.id, Proposal.title, Proposal.status, Proposal.supports
        ).where(
            Proposal.id.is_in([hit.object_id for hit in hits])
            & Proposal.status.is_in(list(PUBLIC_STATUSES))
        )
    }
    return [
        Similar(hit.object_id, row["title"], row["status"], row["supports"], hit.snippet)
        for hit in hits
        if (row := rows.get(hit.object_id)) is not None
    ]


# ---------------------------------------------------------------- the Atom feed


@dataclass(frozen=True, slots=True)
class FeedEntry:
    kind: Literal["proposal", "answer"]
    proposal_id: int
    title: str
    text: str  # Markdown: the proposal's text, or its answer
    author: str
    at: datetime


async def feed_entries(council_slug: str) -> tuple[CouncilView, list[FeedEntry]]:
    """The council's newest publications and answers, newest first."""
    council = await get_council(council_slug)
    public = (Proposal.council == council.id) & Proposal.status.is_in(list(PUBLIC_STATUSES))
    columns = (*_SUMMARY_COLUMNS, Proposal.body, Proposal.answer, Proposal.answer_role)
    published = await (
        Proposal.select(*columns)
        .where(public & Proposal.published_at.is_not_null())
        .order_by(Proposal.published_at, ascending=False)
        .limit(FEED_ENTRIES)
    )
    answered = await (
        Proposal.select(*columns)
        .where(public & Proposal.answered_at.is_not_null())
        .order_by(Proposal.answered_at, ascending=False)
        .limit(FEED_ENTRIES)
    )
    entries = [
        FeedEntry("proposal", r["id"], r["title"], r["body"], public_author(r), r["published_at"])
        for r in published
    ] + [
        FeedEntry(
            "answer",
            r["id"],
            f"Réponse : {r['title']}",
            r["answer"],
            r["answer_role"] or council.name,
            r["answered_at"],
        )
        for r in answered
    ]
    entries.sort(key=lambda e: (e.at, e.proposal_id, e.kind), reverse=True)
    return council, entries[:FEED_ENTRIES]
