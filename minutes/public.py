"""The residents' side of the minutes (comptes rendus): what anyone may read. Every public
page, feed and API answer about minutes reads through here, and here only published
minutes exist: a draft is never listed, shown, searched, served nor put in a calendar.

Minutes belong to a meeting (shown on that meeting's page, their own address redirects
there), or are a month's bundle of a council or of every council (`council` null: the
agglomeration's monthly PDF), which has its own page. A council's list holds its own
minutes and the bundles of every council, as the agglomeration's page does.

The writing side (`minutes` services of the back-office and API) announces each change
with `changes.changed("minutes", id, council_id or EVERY_COUNCIL, meeting_id=...)`; the
lists and feeds here are cached until such a change (`conseils.web.page_cache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from piccolo.columns.combination import WhereRaw

from conseils import richtext, search
from conseils.db import MAX_ID, ids_in
from conseils.errors import InvalidInput, NotFound
from conseils.settings import get_settings
from conseils.timefmt import to_paris
from meetings.slots import CalendarNote
from meetings.tables import Council
from minutes import files
from minutes.tables import Minutes, MinutesMeeting, MinutesProposal
from proposals.services.common import PUBLIC_STATUSES, STATUS_LABELS

KIND = "minutes"  # the kind of change and of search entry
PUBLISHED = "published"
SECTION_TITLE = "Compte rendu"
ANCHOR = "compte-rendu"
PER_PAGE = 20  # search results per page
MAX_QUERY = 500  # characters of a search query
MAX_PAGE = 50  # search result pages (beyond: refine the query)
FEED_ENTRIES = 50
MIN_YEAR, MAX_YEAR = 2000, 2100
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def month_label(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class DiscussedProposal:
    id: int
    title: str
    status: str  # the status given at the meeting ("" none)
    note: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "")

    @property
    def url(self) -> str:
        return f"/propositions/{self.id}"


@dataclass(frozen=True, slots=True)
class CoveredMeeting:
    id: int
    title: str
    starts_at: datetime
    council_name: str

    @property
    def url(self) -> str:
        return f"/reunions/{self.id}"


@dataclass(frozen=True, slots=True)
class MinutesView:
    id: int
    title: str
    council_id: int | None  # the meeting's council for a meeting's minutes; None: every one
    council_slug: str | None
    council_name: str | None
    meeting_id: int | None
    meeting_title: str | None
    meeting_starts_at: datetime | None
    month: date | None
    summary: str
    body: str
    decisions_text: str
    attendance: int | None
    filename: str
    file_id: int | None
    size: int | None
    pages: int | None
    published_at: datetime
    updated_at: datetime
    proposals: tuple[DiscussedProposal, ...] = ()
    covered: tuple[CoveredMeeting, ...] = field(default=())

    @property
    def day(self) -> date:
        """What it is filed under: its meeting's day, or its month's first day."""
        if self.meeting_starts_at is not None:
            return to_paris(self.meeting_starts_at).date()
        if self.month is not None:
            return self.month
        return to_paris(self.published_at).date()

    @property
    def period(self) -> str:
        if self.meeting_starts_at is None and self.month is not None:
            return month_label(self.month)
        day = self.day
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"

    @property
    def url(self) -> str:
        """Its page: the meeting's (the minutes' section), or a bundle's own page."""
        if self.meeting_id is not None:
            return f"/reunions/{self.meeting_id}#{ANCHOR}"
        return f"/comptes-rendus/{self.id}"

    @property
    def own_url(self) -> str:
        return f"/comptes-rendus/{self.id}"

    @property
    def pdf_url(self) -> str | None:
        if self.file_id is None:
            return None
        return f"/comptes-rendus/{self.id}/{quote(self.filename or 'compte-rendu.pdf')}"

    @property
    def format_label(self) -> str | None:
        """ "PDF – 665 Ko", as the agglomeration's page writes it."""
        return None if self.size is None else f"PDF – {files.size_label(self.size)}"

    @property
    def body_html(self) -> Markup:
        return richtext.render(self.body) if self.body.strip() else Markup("")

    @property
    def decisions(self) -> list[str]:
        return [line.strip() for line in self.decisions_text.splitlines() if line.strip()]

    @property
    def scope(self) -> str:
        return self.council_name or "Tous les conseils citoyens"


def absolute(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def not_found() -> NotFound:
    return NotFound("Ce compte rendu n'existe pas.", code="minutes_not_found")


def _columns() -> list[Any]:
    return [
        Minutes.id,
        Minutes.title,
        Minutes.council.id.as_alias("own_council_id"),
        Minutes.council.slug.as_alias("own_council_slug"),
        Minutes.council.name.as_alias("own_council_name"),
        Minutes.meeting.id.as_alias("meeting_id"),
        Minutes.meeting.title.as_alias("meeting_title"),
        Minutes.meeting.starts_at.as_alias("meeting_starts_at"),
        Minutes.meeting.status.as_alias("meeting_status"),
        Minutes.meeting.council.id.as_alias("meeting_council_id"),
        Minutes.meeting.council.slug.as_alias("meeting_council_slug"),
        Minutes.meeting.council.name.as_alias("meeting_council_name"),
        Minutes.month,
        Minutes.summary,
        Minutes.body,
        Minutes.decisions,
        Minutes.attendance,
        Minutes.filename,
        Minutes.file.id.as_alias("file_id"),
        Minutes.file.size.as_alias("size"),
        Minutes.file.pages.as_alias("pages"),
        Minutes.published_at,
        Minutes.updated_at,
    ]


def _published() -> Any:
    return Minutes.status == PUBLISHED


def _view(row: dict[str, Any], **more: Any) -> MinutesView:
    by_meeting = row["meeting_id"] is not None
    prefix = "meeting_council" if by_meeting else "own_council"
    return MinutesView(
        id=row["id"],
        title=row["title"],
        council_id=row[f"{prefix}_id"],
        council_slug=row[f"{prefix}_slug"],
        council_name=row[f"{prefix}_name"],
        meeting_id=row["meeting_id"],
        meeting_title=row["meeting_title"],
        meeting_starts_at=row["meeting_starts_at"],
        month=row["month"],
        summary=row["summary"],
        body=row["body"],
        decisions_text=row["decisions"],
        attendance=row["attendance"],
        filename=row["filename"],
        file_id=row["file_id"],
        size=row["size"],
        pages=row["pages"],
        published_at=row["published_at"] or row["updated_at"],
        updated_at=row["updated_at"],
        **more,
    )


def _visible(row: dict[str, Any]) -> bool:
    """A meeting's minutes show while their meeting is public (not a draft again)."""
    return row["meeting_id"] is None or row["meeting_status"] in ("published", "cancelled")


def _newest_first(found: list[MinutesView]) -> list[MinutesView]:
    return sorted(found, key=lambda m: (m.day, m.published_at, m.id), reverse=True)


# ---------------------------------------------------------------- reading


async def _discussed(minutes_id: int) -> tuple[DiscussedProposal, ...]:
    rows = (
        await MinutesProposal.select(
            MinutesProposal.proposal.id.as_alias("id"),
            MinutesProposal.proposal.title.as_alias("title"),
            MinutesProposal.proposal.status.as_alias("current"),
            MinutesProposal.status,
            MinutesProposal.note,
        )
        .where(MinutesProposal.minutes == minutes_id)
        .order_by(MinutesProposal.id)
    )
    return tuple(
        DiscussedProposal(row["id"], row["title"], row["status"], row["note"])
        for row in rows
        if row["current"] in PUBLIC_STATUSES  # a link that answers, never a hidden one
    )


async def _covered(minutes_id: int) -> tuple[CoveredMeeting, ...]:
    rows = (
        await MinutesMeeting.select(
            MinutesMeeting.meeting.id.as_alias("id"),
            MinutesMeeting.meeting.title.as_alias("title"),
            MinutesMeeting.meeting.starts_at.as_alias("starts_at"),
            MinutesMeeting.meeting.status.as_alias("status"),
            MinutesMeeting.meeting.council.name.as_alias("council_name"),
        )
        .where(MinutesMeeting.minutes == minutes_id)
        .order_by(MinutesMeeting.meeting.starts_at)
    )
    return tuple(
        CoveredMeeting(row["id"], row["title"], row["starts_at"], row["council_name"])
        for row in rows
        if row["status"] in ("published", "cancelled")
    )


async def get_minutes(minutes_id: int) -> MinutesView:
    """Published minutes with everything their page shows; NotFound otherwise."""
    if not 1 <= minutes_id <= MAX_ID:
        raise not_found()
    row = await Minutes.select(*_columns()).where((Minutes.id == minutes_id) & _published()).first()
    if row is None or not _visible(row):
        raise not_found()
    return _view(row, proposals=await _discussed(minutes_id), covered=await _covered(minutes_id))


async def download(minutes_id: int) -> tuple[files.FileInfo, str]:
    """The published minutes' PDF and the name of its download."""
    found = await get_minutes(minutes_id)
    if found.file_id is None:
        raise NotFound("Ce compte rendu n'a pas de PDF.", code="minutes_not_found")
    return await files.file_info(found.file_id), found.filename or "compte-rendu.pdf"


async def of_meeting(meeting_id: int) -> MinutesView | None:
    """A meeting's published minutes (the newest if several), with their proposals."""
    rows = await of_meetings([meeting_id])
    found = rows.get(meeting_id)
    if found is None:
        return None
    return await get_minutes(found.id)


async def of_meetings(meeting_ids: Sequence[int]) -> dict[int, MinutesView]:
    """Each meeting's published minutes (its own, else a bundle covering it), in two
    queries however many meetings (the calendar feeds ask for thousands)."""
    if not meeting_ids:
        return {}
    wanted = sorted({int(m) for m in meeting_ids})
    found: dict[int, MinutesView] = {}
    # One parameter for the ids, however many (an IN list stops at 32,767 on PostgreSQL).
    clause, ids = ids_in('"minutes"."meeting"', wanted)
    own = await Minutes.select(*_columns()).where(WhereRaw(clause, ids) & _published())
    for row in sorted(own, key=lambda r: r["id"]):
        if _visible(row):
            found[row["meeting_id"]] = _view(row)
    clause, ids = ids_in("mm.meeting", wanted)
    links = await MinutesMeeting.raw(
        "SELECT mm.meeting AS meeting_id, mm.minutes AS minutes_id FROM "  # noqa: S608
        f"minutes_covered_meeting mm JOIN minutes m ON m.id = mm.minutes WHERE {clause} "
        f"AND m.status = '{PUBLISHED}' ORDER BY mm.minutes",
        ids,
    )
    bundle_ids = sorted({link["minutes_id"] for link in links})
    if bundle_ids:
        bundles = {
            row["id"]: _view(row)
            for row in await Minutes.select(*_columns()).where(
                WhereRaw(*ids_in('"minutes"."id"', bundle_ids))
            )
        }
        for link in links:
            if link["meeting_id"] not in found and link["minutes_id"] in bundles:
                found[link["meeting_id"]] = bundles[link["minutes_id"]]
    return found


async def list_published(
    *, council_id: int | None = None, year: int | None = None, limit: int | None = None
) -> list[MinutesView]:
    """Published minutes, newest first: every council's (`council_id` None), or one
    council's own and the bundles of every council; of one `year` if given."""
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput({"year": f"une année entre {MIN_YEAR} et {MAX_YEAR}"})
    query = Minutes.select(*_columns()).where(_published())
    if council_id is not None:
        query = query.where(
            (Minutes.meeting.council == council_id)
            | ((Minutes.meeting.is_null()) & (Minutes.council == council_id))
            | ((Minutes.meeting.is_null()) & (Minutes.council.is_null()))
        )
    found = [_view(row) for row in await query if _visible(row)]
    if year is not None:
        found = [m for m in found if m.day.year == year]
    found = _newest_first(found)
    return found if limit is None else found[:limit]


async def council_id_of(slug: str) -> int:
    """The id of the council a query names by slug (a French 400 when there is none)."""
    row = (
        None
        if "\x00" in slug
        else await Council.select(Council.id).where(Council.slug == slug).first()
    )
    if row is None:
        raise InvalidInput({"conseil": "conseil citoyen inconnu"})
    return row["id"]


def by_year_and_month(
    found: list[MinutesView],
) -> list[tuple[int, list[tuple[str, list[MinutesView]]]]]:
    """[(year, [(month label, minutes of that month)])], newest first (input's order)."""
    years: dict[int, dict[str, list[MinutesView]]] = {}
    for minutes in found:
        label = MONTHS[minutes.day.month - 1].capitalize()
        years.setdefault(minutes.day.year, {}).setdefault(label, []).append(minutes)
    return [(year, list(months.items())) for year, months in years.items()]


# ---------------------------------------------------------------- searching


@dataclass(frozen=True, slots=True)
class Result:
    minutes: MinutesView
    passage: Markup  # escaped, the matching words in <mark>


def checked_query(query: str) -> str:
    if len(query) > MAX_QUERY:
        raise InvalidInput({"q": f"la recherche est trop longue ({MAX_QUERY} caractères au plus)"})
    return query.replace("\x00", " ").strip()


async def search_minutes(
    query: str, *, council_id: int | None = None, page: int = 1
) -> tuple[list[Result], bool]:
    """Published minutes matching every word of `query` (French stemming), best first,
    with their matching passage; and whether a next page exists."""
    query = checked_query(query)
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput({"page": f"une page entre 1 et {MAX_PAGE}"})
    if not query:
        return [], False
    hits = await search.search(
        query,
        kinds=[KIND],
        council_id=council_id,
        match="all",
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
    )
    more = len(hits) > PER_PAGE
    hits = hits[:PER_PAGE]
    ids = [hit.object_id for hit in hits]
    rows = (
        await Minutes.select(*_columns()).where(Minutes.id.is_in(ids) & _published()) if ids else []
    )
    views = {row["id"]: _view(row) for row in rows if _visible(row)}
    return [Result(views[h.object_id], h.snippet) for h in hits if h.object_id in views], more


# ---------------------------------------------------------------- calendar events


async def calendar_notes(meeting_ids: Sequence[int]) -> dict[int, CalendarNote]:
    """The "Compte rendu" lines of the calendar events of meetings with published minutes
    (a meeting's own, else the bundle covering it): the link to read them and their PDF.
    The event's LAST-MODIFIED follows the minutes' last change; its SEQUENCE stays."""
    notes = {}
    for meeting_id, minutes in (await of_meetings(meeting_ids)).items():
        lines = [f"{minutes.title} : {absolute(minutes.url)}"]
        if minutes.pdf_url is not None:
            lines.append(f"{minutes.format_label} : {absolute(minutes.pdf_url)}")
        changed_at = max(minutes.published_at, minutes.updated_at)
        notes[meeting_id] = CalendarNote(SECTION_TITLE, tuple(lines), changed_at)
    return notes
