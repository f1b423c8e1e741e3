"""French full-text search over the objects of every feature (proposals, minutes, ...).

A feature calls `index` in the transaction that writes an object, `unindex` in the one that
deletes it, and `search` to find them again; a hit carries the matching passage, escaped,
its matches in `<mark>`.

**One normalisation, in Python** (`_words`): lower case, accents and ligatures removed
(`école` = `ecole`, `œuvre` = `oeuvre`), words split at everything that is not a letter or a
digit (hyphens: `Près-Saint-Jean` = `pres saint jean`; apostrophes: `l'école` = `l école`),
French stop words dropped (PostgreSQL's own list, accents removed: `l`, `d`, `qu`, `le`,
`été`, ...: the elided articles go with them). Then each engine stems the remaining words:

- **PostgreSQL** receives the normalised words and builds the stored tsvector with
  `to_tsvector('conseils_french', …)`: the `french` configuration (Snowball French stemmer)
  behind `unaccent`, created by the migration (the `unaccent` extension must be creatable by
  the database user, or created by an administrator). Queries use `plainto_tsquery` on the
  same normalised words: no user text is ever read as tsquery syntax.
- **SQLite**'s FTS5 has no French stemmer: the words are stemmed here with PyStemmer
  (Snowball French, the same algorithm as PostgreSQL's) and FTS5 indexes the stems; a query
  is its stems, each quoted as an FTS5 string, so no user text is ever read as FTS5 syntax.

Words holding a digit (`2024`, `12h30`) are not stemmed, as PostgreSQL's parser does not
stem them either. `terms()` is this pipeline, as SQLite's index sees text; the tests check
that PostgreSQL's configuration gives the same lexemes on the probes of the corpus.

**Ranking**: `all` keeps the entries holding every query word, best first (FTS5's bm25,
PostgreSQL's ts_rank on `lead`, the title and the first LEAD_CHARS of the body; the title
weighing more than the body); `any` keeps those holding one at least, the most words found
first, then by that rank, and its last word, if nothing follows it, may be a word being
typed: it also matches the stems it begins (`_typed_prefix`; FTS5 `"parta" *`, tsquery
`'parta':*`, both quoted). The kinds and council are filtered inside FTS5 (tokens of its
`scope` column) and through an index on PostgreSQL, so only the entries searched are
ranked. **Passages** are cut in Python
from the stored original text, for the returned page only: every word whose stem is a query
stem is marked, so both engines highlight the same words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import Stemmer
from markupsafe import Markup, escape
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from conseils.db import engine, require_transaction

# Text beyond this is neither searchable nor shown (a minutes' PDF of about 100 pages fits;
# PostgreSQL's tsvector is limited to 1 MB).
MAX_INDEXED_CHARS = 300_000
MAX_WORD_CHARS = 64  # longer "words" (hashes, garbage from a PDF) are not indexed
MAX_QUERY_TERMS = 16  # distinct stems of a query; the rest is ignored
MAX_QUERY_CHARS = 1_000  # a longer query is cut (a title typed, a search box)
MAX_LIMIT = 100
SNIPPET_CHARS = 240  # about the length of the passage shown
MIN_PREFIX_CHARS = 3  # a last word being typed, shorter, is only matched whole
LEAD_CHARS = 1_500  # PostgreSQL ranks on the title and this much of the body
SNIPPET_SCAN_CHARS = 100_000  # a match beyond this in a long text: the passage is its start
PG_CONFIG = "conseils_french"

# PostgreSQL's french.stop (tsearch_data), accents removed, plus the articles and
# determiners it lacks (`les`, `cette`, ...) and the elided forms of "jusque", "lorsque",
# "puisque", "quoique" (`jusqu'à` = `jusqu a`). PostgreSQL never sees these words either:
# they are dropped here, before to_tsvector.
_STOP_WORDS = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes
    moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi
    ton tu un une vos votre vous c d j l à m n s t y été étée étées étés étant étante étants
    étantes suis es est sommes êtes sont serai seras sera serons serez seront serais serait
    serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois
    soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes
    ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais
    aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie
    aies ait ayons ayez aient eusse eusses eût eussions eussiez eussent
    les cet cette leurs dont jusqu lorsqu puisqu quoiqu
    """.translate(str.maketrans("àéêû", "aeeu")).split()
)
# Letters NFKD does not decompose, as PostgreSQL's unaccent writes them.
_LETTERS = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i"}
)
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
_LAST_WORD = re.compile(r"[^\W_]+\Z")
_STEMMER = Stemmer.Stemmer("french")


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # "proposal", "minutes", ...
    object_id: int
    council_id: int | None
    rank: float  # higher is better
    snippet: Markup  # the matching passage of title+body, HTML-escaped, matches in <mark>…</mark>


# ---------------------------------------------------------------- normalisation


def _words(text: str) -> list[str]:
    """The words of `text` as searched, before stemming: lower case, no accents, split at
    everything but letters and digits, stop words and overlong words dropped."""
    return [
        word
        for word in _WORD.findall(_fold(text))
        if len(word) <= MAX_WORD_CHARS and word not in _STOP_WORDS
    ]


def _fold(text: str) -> str:
    """Lower case, accents and ligatures removed."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.lower().translate(_LETTERS)))


def _stems(words: list[str]) -> list[str]:
    """Snowball French stems of words made of letters; words with a digit as they are."""
    return [_STEMMER.stemWord(word) if word.isalpha() else word for word in words]


def terms(text: str) -> list[str]:
    """The normalised stems of `text` as the index sees them (accents removed, elisions l' d'
    qu' cut, hyphens split, French stop words dropped, Snowball French stem)."""
    return _stems(_words(text))


@functools.lru_cache(maxsize=65_536)
def _stems_of_form(form: str) -> frozenset[str]:
    """The stems of one word as written in a text (a passage's words: cached, since the same
    words come back in every passage)."""
    return frozenset(terms(form))


def _query_words(query: str) -> list[str]:
    """The query's words, one per distinct stem, at most MAX_QUERY_TERMS."""
    seen: dict[str, str] = {}
    for word in _words(query[:MAX_QUERY_CHARS]):
        stem = _stems([word])[0]
        if stem not in seen:
            seen[stem] = word
            if len(seen) == MAX_QUERY_TERMS:
                break
    return list(seen.values())


def _typed_prefix(query: str, stems: list[str]) -> str | None:
    """The last word of `query` if it may be a word being typed: the query ends with it (no
    space or punctuation after), it is not a stop word, has MIN_PREFIX_CHARS letters at
    least, and its stem is one of `stems`. Normalised (no accents), it then also matches
    the stems it begins (`parta` finds `partagés`, stem `partag`)."""
    folded = _fold(query[:MAX_QUERY_CHARS])
    last = _LAST_WORD.search(folded)
    if last is None:
        return None
    word = last.group()
    if (
        word in _STOP_WORDS
        or not MIN_PREFIX_CHARS <= len(word) <= MAX_WORD_CHARS
        or _stems([word])[0] not in stems
    ):
        return None
    return word


# ---------------------------------------------------------------- writing


async def index(kind: str, object_id: int, council_id: int | None, title: str, body: str) -> None:
    """Add or replace the entry (kind, object_id). Must run inside a write transaction
    (conseils.db)."""
    require_transaction("search.index")
    title = title.replace("\x00", " ")[:MAX_INDEXED_CHARS]
    body = body.replace("\x00", " ")[: max(0, MAX_INDEXED_CHARS - len(title))]
    db = engine()
    await unindex(kind, object_id)
    title_words, body_words = _words(title), _words(body)
    if isinstance(db, PostgresEngine):
        lead_words = _words(body[:LEAD_CHARS])
        await db.run_querystring(
            QueryString(
                "WITH v AS (SELECT setweight(to_tsvector('conseils_french', {}), 'A') AS title, "
                "to_tsvector('conseils_french', {}) AS body, "
                "to_tsvector('conseils_french', {}) AS lead) "
                "INSERT INTO search_entry "
                "(kind, object_id, council_id, title, body, document, lead) "
                "SELECT {}, {}, {}, {}, {}, v.title || setweight(v.body, 'D'), "
                "v.title || setweight(v.lead, 'D') FROM v",
                " ".join(title_words),
                " ".join(body_words),
                " ".join(lead_words),
                kind,
                object_id,
                council_id,
                title,
                body,
            )
        )
        return
    rows = await db.run_querystring(
        QueryString(
            "INSERT INTO search_entry (kind, object_id, council_id, title, body) "
            "VALUES ({}, {}, {}, {}, {}) RETURNING id",
            kind,
            object_id,
            council_id,
            title,
            body,
        )
    )
    await db.run_querystring(
        QueryString(
            "INSERT INTO search_entry_terms (rowid, title_terms, body_terms, scope) "
            "VALUES ({}, {}, {}, {})",
            rows[0]["id"],
            " ".join(_stems(title_words)),
            " ".join(_stems(body_words)),
            f"{_kind_token(kind)} {_council_token(council_id)}",
        )
    )


async def unindex(kind: str, object_id: int) -> None:
    """Remove it (inside a write transaction). SQLite's FTS rows go by trigger."""
    require_transaction("search.unindex")
    await engine().run_querystring(
        QueryString("DELETE FROM search_entry WHERE kind = {} AND object_id = {}", kind, object_id)
    )


def _kind_token(kind: str) -> str:
    """A kind as one FTS5 token of the `scope` column (as the migration writes it)."""
    return "k" + kind.encode().hex().upper()


def _council_token(council_id: int | None) -> str:
    return "cnone" if council_id is None else f"c{int(council_id)}"


# ---------------------------------------------------------------- searching


async def search(
    query: str,
    *,
    kinds: Sequence[str],
    council_id: int | None = None,
    match: Literal["all", "any"] = "all",
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """`all`: every query word must be found (a search page); `any`: ranked by how many are
    found (similar proposals while typing a title), the last word also matching as the
    start of a word (`jardin parta` finds `jardins partagés`). Empty or stop-word-only
    query: []."""
    if match not in ("all", "any"):
        raise ValueError(f"match must be 'all' or 'any', not {match!r}")
    if isinstance(kinds, str):  # a str is a Sequence[str] too: one kind, not its letters
        kinds = [kinds]
    words = _query_words(query)
    limit = min(max(0, int(limit)), MAX_LIMIT)
    if not words or not kinds or limit == 0:
        return []
    offset = max(0, int(offset))
    stems = _stems(words)
    prefix = _typed_prefix(query, stems) if match == "any" else None
    db = engine()
    if isinstance(db, PostgresEngine):
        sql, args = _postgres_query(words, stems, prefix, list(kinds), council_id, match)
    else:
        sql, args = _sqlite_query(stems, prefix, list(kinds), council_id, match)
    rows = await db.run_querystring(QueryString(sql, *args, limit, offset))
    prefixes = frozenset([prefix] if prefix else [])
    return [
        Hit(
            kind=row["kind"],
            object_id=row["object_id"],
            council_id=row["council_id"],
            rank=float(row["score"]),
            snippet=snippet(row["title"], row["body"], set(stems), prefixes),
        )
        for row in rows
    ]


def _tsquery_prefix(word: str) -> str:
    """`word` as a tsquery prefix lexeme (`'parta':*`), quoted: never tsquery syntax."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "':*"


_PAGE_TEXTS = (
    "SELECT e.kind, e.object_id, e.council_id, e.title, "  # noqa: S608 (no value in it)
    f"substr(e.body, 1, {SNIPPET_SCAN_CHARS}) AS body, page.score "
    "FROM page JOIN search_entry e ON e.id = page.id ORDER BY page.score DESC, e.id DESC"
)


def _postgres_query(
    words: list[str],
    stems: list[str],
    prefix: str | None,
    kinds: list[str],
    council_id: int | None,
    match: str,
) -> tuple[str, list[Any]]:
    """The page's rows, best first: matching on the whole `document` (GIN index), ranking
    on `lead` (title and start of the body: small, never detoasted), paging on ids, then
    the texts of the page alone. Each word is its own `plainto_tsquery` parameter, computed
    once (never per row); the typed prefix a quoted lexeme: never tsquery syntax."""
    one = f"plainto_tsquery('{PG_CONFIG}', {{}})"
    args: list[Any] = []
    if match == "all":
        q = f"SELECT {one} AS query"
        args.append(" ".join(words))
        score = "ts_rank(e.lead, q.query)"
        lateral = ""
    else:
        parts = []
        for word, stem in zip(words, stems, strict=True):
            if prefix is not None and _stems([prefix])[0] == stem:
                parts.append(f"({one} || CAST({{}}::text AS tsquery))")
                args.extend([word, _tsquery_prefix(prefix)])
            else:
                parts.append(one)
                args.append(word)
        names = [f"w{i}" for i in range(len(parts))]
        q = (
            f"SELECT {', '.join(names)}, {' || '.join(names)} AS query FROM (SELECT "  # noqa: S608
            + ", ".join(f"{part} AS {name}" for part, name in zip(parts, names, strict=True))
            + ") w"
        )
        # The words found, counted on one detoasted copy of the document (`|| ''`, kept by
        # OFFSET 0), not one detoasting per word.
        lateral = (
            "CROSS JOIN LATERAL (SELECT e.document || ''::tsvector AS d OFFSET 0) x "
            "CROSS JOIN LATERAL (SELECT ts_rank(e.lead, q.query) AS r OFFSET 0) rk "
        )
        found = " + ".join(f"(x.d @@ q.{name})::int" for name in names)
        score = f"({found}) + rk.r / (1 + rk.r)"
    where = "e.document @@ q.query AND e.kind = ANY({})"
    args.append(kinds)
    if council_id is not None:
        where += " AND e.council_id = {}"
        args.append(council_id)
    sql = (
        f"WITH q AS MATERIALIZED ({q}), "  # noqa: S608 (only placeholders)
        f"page AS (SELECT e.id, {score} AS score FROM search_entry e CROSS JOIN q {lateral}"
        f"WHERE {where} ORDER BY score DESC, e.id DESC LIMIT {{}} OFFSET {{}}) " + _PAGE_TEXTS
    )
    return sql, args


def _fts_string(stem: str) -> str:
    """A stem as an FTS5 string: whatever it holds is text, never syntax."""
    return '"' + stem.replace('"', '""') + '"'


def _sqlite_query(
    stems: list[str], prefix: str | None, kinds: list[str], council_id: int | None, match: str
) -> tuple[str, list[Any]]:
    """As `_postgres_query`, with FTS5: the words are looked for in the title and body
    columns only, and the kinds and council through the `scope` column's tokens, so that
    FTS5 itself keeps the entries searched and bm25 (lower is better, so negated; the title
    five times the body) ranks those only. `any`: one OR query, the words found counted
    with one set of rowids per word (of the same scope)."""
    kind_tokens = " OR ".join(_fts_string(_kind_token(kind)) for kind in kinds)
    scope = f"scope : ({kind_tokens})"
    if council_id is not None:
        scope += f" AND scope : {_fts_string(_council_token(council_id))}"
    terms = [_fts_string(stem) for stem in stems]
    if prefix is not None:
        last = _stems([prefix])[0]
        terms = [
            f"({term} OR {_fts_string(prefix)} *)" if stem == last else term
            for term, stem in zip(terms, stems, strict=True)
        ]
    bm25 = "-bm25(search_entry_terms, 5.0, 1.0, 0.0)"
    args: list[Any] = []  # in the order of the placeholders: the score's, then WHERE's
    if match == "all":
        score = bm25
        expression = " ".join(terms)
    else:
        one = (
            "(search_entry_terms.rowid IN (SELECT rowid FROM search_entry_terms "
            "WHERE search_entry_terms MATCH {}))"
        )
        score = f"({' + '.join([one] * len(terms))}) + {bm25} / (1 + {bm25})"
        args.extend(f"{{title_terms body_terms}} : {term} AND {scope}" for term in terms)
        expression = " OR ".join(terms)
    args.append(f"{{title_terms body_terms}} : ({expression}) AND {scope}")
    sql = (
        f"WITH page AS (SELECT search_entry_terms.rowid AS id, {score} AS score "  # noqa: S608
        "FROM search_entry_terms WHERE search_entry_terms MATCH {} "
        "ORDER BY score DESC, id DESC LIMIT {} OFFSET {}) " + _PAGE_TEXTS
    )
    return sql, args


# ---------------------------------------------------------------- passages


def snippet(
    title: str, body: str, stems: set[str], prefixes: frozenset[str] = frozenset()
) -> Markup:
    """The passage of `title` + `body` holding the most distinct query stems (the earliest
    among equals), about SNIPPET_CHARS long, escaped, each matching word in `<mark>`: its
    stem is a query stem or begins with one of `prefixes` (a word being typed).
    Without a match (in the first SNIPPET_SCAN_CHARS), the start of the text."""
    text = f"{title}\n{body}"[:SNIPPET_SCAN_CHARS]
    pattern = _candidates(frozenset(stems) | prefixes)
    keys = _Keys(frozenset(stems), prefixes)
    spans = _matches(text, pattern, keys)
    if not spans:  # a word the quick look missed (letters out of the Latin ranges, ...)
        forms = {form for form in set(_WORD.findall(text.lower())) if keys.of(form)}
        if forms:
            alternatives = "|".join(map(re.escape, sorted(forms, key=len, reverse=True)))
            pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.I)
            spans = _matches(text, pattern, keys)
    start = first = _best_window(spans)
    if first > 0:  # begin a few words before the first match, at a word's start
        start = max(0, first - SNIPPET_CHARS // 4)
        space = _SPACE.search(text, start, first) if start > 0 else None
        start = space.end() if space else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    if spans:  # every match of the passage (the first look stopped at its best window)
        spans = _matches(text, pattern, keys, start, end)
    parts: list[str] = ["… "] if start > 0 else []
    cursor = start
    for span_start, span_end, _ in spans:
        if span_start < cursor:
            continue
        if span_end > end:
            break
        parts.append(str(escape(text[cursor:span_start])))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(str(escape(text[cursor:end])))
    if end < len(text):
        parts.append(" …")
    return Markup(_SPACES.sub(" ", "".join(parts)).strip())  # noqa: S704 (pieces escaped)


@dataclass(frozen=True, slots=True)
class _Keys:
    """What a passage marks: words with one of `stems`, or a stem beginning with one of
    `prefixes` (a word being typed: it counts as its own stem, which `stems` holds)."""

    stems: frozenset[str]
    prefixes: frozenset[str]

    def of(self, form: str) -> frozenset[str]:
        """The query words (stems, `prefix*`) that the word `form` matches."""
        form_stems = _stems_of_form(form)
        found = form_stems & self.stems
        for prefix in self.prefixes:
            if any(stem.startswith(prefix) for stem in form_stems):
                found |= {_stems([prefix])[0]}
        return found

    def __len__(self) -> int:
        return len(self.stems)


def _matches(
    text: str, pattern: re.Pattern[str], keys: _Keys, start: int = 0, end: int | None = None
) -> list[tuple[int, int, frozenset[str]]]:
    """(start, end, query stems) of the words `pattern` finds that have a query stem, in
    order; the whole text stops at the first window holding them all (no passage can do
    better), or at 500 matches; a passage (`start`, `end`) is searched whole."""
    spans: list[tuple[int, int, frozenset[str]]] = []
    first_in_window = 0
    whole = end is None
    for found in pattern.finditer(text, start, len(text) if end is None else end):
        found_stems = keys.of(found.group().lower())
        if not found_stems:
            continue
        spans.append((found.start(), found.end(), found_stems))
        while found.start() - spans[first_in_window][0] > _WINDOW_CHARS:
            first_in_window += 1
        window = frozenset().union(*(span[2] for span in spans[first_in_window:]))
        if whole and (len(window) == len(keys) or len(spans) == 500):
            break
    return spans


@functools.lru_cache(maxsize=1024)
def _candidates(stems: frozenset[str]) -> re.Pattern[str]:
    """The words that may have one of `stems`: those that begin as a stem does, with or
    without accents, in any case. Snowball only changes the last letters of a word
    (`chevaux` -> `cheval`), so all but the last two letters of a stem (the last one of a
    short stem) begin the word;
    each candidate is then stemmed to be sure."""
    prefixes = {stem[:-2] if len(stem) > 4 else stem[: max(1, len(stem) - 1)] for stem in stems}
    alternatives = "|".join(sorted((_loose(p) for p in prefixes), key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def _loose(prefix: str) -> str:
    """A pattern of `prefix` (lower case, no accents) matching it with any accents, and the
    ligatures œ, æ for oe, ae."""
    out, i = [], 0
    while i < len(prefix):
        pair = prefix[i : i + 2]
        if pair in _LIGATURES:
            out.append(f"(?:{_letter(pair[0])}{_letter(pair[1])}|{_LIGATURES[pair]})")
            i += 2
        else:
            out.append(_letter(prefix[i]))
            i += 1
    return "".join(out)


def _letter(char: str) -> str:
    variants = _VARIANTS.get(char)
    return f"[{char}{variants}]" if variants else re.escape(char)


def _accented_variants() -> dict[str, str]:
    """Every Latin letter with accents, under its letter without: {"e": "ÈÉÊË…", ...}."""
    variants: dict[str, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = _MARKS.sub("", unicodedata.normalize("NFKD", char.lower().translate(_LETTERS)))
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
            variants[base] = variants.get(base, "") + char
    return variants


_VARIANTS = _accented_variants()
_LIGATURES = {"oe": "œ", "ae": "æ", "ss": "ß"}
_SPACE = re.compile(r"\s")
_WINDOW_CHARS = SNIPPET_CHARS * 3 // 4  # from the first match shown to the last


def _best_window(spans: list[tuple[int, int, frozenset[str]]]) -> int:
    """The start of the first match of the SNIPPET_CHARS-wide window holding the most
    distinct stems (0 without matches)."""
    best, best_count = 0, 0
    for i, (first, _end, _stems_here) in enumerate(spans):
        seen: set[str] = set()
        for start, _e, found in spans[i:]:
            if start - first > _WINDOW_CHARS:
                break
            seen |= found
        if len(seen) > best_count:
            best, best_count = first, len(seen)
    return best
