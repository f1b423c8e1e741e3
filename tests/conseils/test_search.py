"""The French full-text search (`conseils.search`), on the suite's engine: the French probes
of the shared corpus, `all` and `any`, the council and kind filters, replacing and removing,
escaped passages with their matches marked, and hostile queries."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from piccolo.querystring import QueryString

from conseils import search
from conseils.db import OutsideTransaction, engine, is_postgres, write_transaction

ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPUS = ROOT.parent / "shared" / "data" / "recherche-fr.tsv"
VENDORED_CORPUS = ROOT / "tests" / "data" / "recherche-fr.tsv"


def corpus_path() -> Path:
    return SHARED_CORPUS if SHARED_CORPUS.exists() else VENDORED_CORPUS


def probes() -> list[tuple[str, str, bool]]:
    lines = [
        line
        for line in corpus_path().read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows, "the corpus has no probes"
    assert all(row["found"] in ("yes", "no") for row in rows)
    return [(row["query"], row["text"], row["found"] == "yes") for row in rows]


async def put(kind: str, object_id: int, title: str, body: str = "", council: int | None = 1):
    async with write_transaction():
        await search.index(kind, object_id, council, title, body)


def found(hits: list[search.Hit]) -> list[tuple[str, int]]:
    return [(hit.kind, hit.object_id) for hit in hits]


def test_the_vendored_corpus_is_the_shared_one() -> None:
    assert VENDORED_CORPUS.exists()
    if SHARED_CORPUS.exists():
        assert SHARED_CORPUS.read_bytes() == VENDORED_CORPUS.read_bytes()


async def test_every_french_probe_of_the_corpus() -> None:
    """Each line: its text alone in the index, found by its query or not, as the corpus says;
    as a title, as a body, and in `any` mode too. The corpus is about whole words: in `any`
    mode, a query's last word may be one being typed (a prefix: `jeunes` finds `jeunesse`),
    so there the query ends with a space (the word is finished), and without it, whatever
    the corpus finds is still found."""
    failures = []
    for number, (query, text, expected) in enumerate(probes(), 1):
        await put("proposal", number, text)
        await put("minutes", number, "Compte rendu", f"Au début. {text}. À la fin.")
        for kind in ("proposal", "minutes"):
            for match, typed in (("all", query), ("any", query + " "), ("any", query)):
                hits = await search.search(typed, kinds=[kind], match=match)
                if bool(hits) != expected and (expected or typed.endswith(" ")):
                    failures.append((typed, text, kind, match, found(hits)))
        async with write_transaction():
            await search.unindex("proposal", number)
            await search.unindex("minutes", number)
    assert not failures


async def test_postgresql_lexemes_are_the_python_stems() -> None:
    """PostgreSQL stems with its own Snowball French, SQLite's index with PyStemmer's:
    on every text and query of the corpus, and a few more, they give the same stems."""
    if not is_postgres():
        pytest.skip("PostgreSQL's configuration")
    texts = [text for probe in probes() for text in probe[:2]]
    texts += [
        "Les chevaux du manège, l'œuvre d'Ælis, jusqu'à 12h30 le 3e mardi de 2024",
        "Aujourd'hui, qu'en pensez-vous ? Les élèves sont-ils allés à la bibliothèque ?",
        "Réaménagement, réhabilitation, embellissement : nationalités, générosité",
    ]
    for text in texts:
        rows = await engine().run_querystring(
            QueryString(
                "SELECT tsvector_to_array(to_tsvector('conseils_french', {})) AS lexemes",
                " ".join(search._words(text)),
            )
        )
        assert sorted(rows[0]["lexemes"]) == sorted(set(search.terms(text))), text


def test_terms() -> None:
    assert search.terms("L'école Jean-Macé et les Écoles") == ["ecol", "jean", "mac", "ecol"]
    assert search.terms("qu'il réparât l'œuvre d'Ælis") == search.terms("il reparat oeuvre aelis")
    assert search.terms("le la les de du des") == []
    assert search.terms("12h30 le 3e") == ["12h30", "3e"]
    assert search.terms("Près-Saint-Jean") == search.terms("pres saint jean")


async def test_all_needs_every_word_and_any_ranks_by_words_found() -> None:
    await put("proposal", 1, "Un jardin partagé", "Au pied des immeubles")
    await put("proposal", 2, "Jardin et bancs", "Des bancs dans le jardin partagé")
    await put("proposal", 3, "Réparer les bancs", "Rue Carnot")
    await put("proposal", 4, "Éclairage public", "Rue d'Avéjan")

    assert found(await search.search("jardin bancs", kinds=["proposal"])) == [("proposal", 2)]
    hits = await search.search("jardins partagés bancs", kinds=["proposal"], match="any")
    assert found(hits)[0] == ("proposal", 2)  # the three words
    assert set(found(hits)) == {("proposal", 1), ("proposal", 2), ("proposal", 3)}
    assert found(hits)[1] == ("proposal", 1)  # two words before one
    assert hits[0].rank > hits[1].rank > hits[2].rank


async def test_the_last_word_of_any_may_be_a_word_being_typed() -> None:
    """`any` (a title being typed): the query's last word, unless followed by a space or a
    punctuation mark, also finds the words it begins; marked in the passage; not in `all`,
    not a stop word nor under MIN_PREFIX_CHARS letters, never another word than the last."""
    await put("proposal", 1, "Des jardins partagés", "Au pied des immeubles")
    await put("proposal", 2, "Réparer le banc", "Devant la partie sud du parc")
    await put("proposal", 3, "Éclairage public", "Rue d'Avéjan")
    await put("proposal", 4, "Un banc", "Près de la pharmacie", council=2)

    hits = await search.search("jardin parta", kinds=["proposal"], match="any")
    assert found(hits)[0] == ("proposal", 1)  # both words
    assert str(hits[0].snippet) == (
        "Des <mark>jardins</mark> <mark>partagés</mark> Au pied des immeubles"
    )
    # `parta` is also a word of its own (stem `part`, as `partie`): both.
    assert set(found(await search.search("parta", kinds=["proposal"], match="any"))) == {
        ("proposal", 1),
        ("proposal", 2),
    }
    assert ("proposal", 1) in found(await search.search("PARTÂ", kinds=["proposal"], match="any"))
    # The word is finished (a space, a punctuation mark after it): only its stem.
    for finished in ("parta ", "parta.", "parta !"):
        assert found(await search.search(finished, kinds=["proposal"], match="any")) == [
            ("proposal", 2)
        ]
    assert found(await search.search("parta", kinds=["proposal"], match="all")) == [("proposal", 2)]
    # Not the first words; the whole word still finds its stem (`partie` -> `part`).
    assert found(await search.search("jardi éclairage", kinds=["proposal"], match="any")) == [
        ("proposal", 3)
    ]
    assert found(await search.search("parties", kinds=["proposal"], match="any")) == [
        ("proposal", 2)
    ]
    # Too short to be a prefix, or a stop word: matched whole only.
    assert await search.search("pa", kinds=["proposal"], match="any") == []
    assert found(await search.search("éclairage pu", kinds=["proposal"], match="any")) == [
        ("proposal", 3)
    ]
    # The council and kind filters hold for prefixes too.
    assert found(await search.search("pharm", kinds=["proposal"], match="any")) == [("proposal", 4)]
    assert await search.search("pharm", kinds=["proposal"], match="any", council_id=1) == []
    assert await search.search("pharm", kinds=["minutes"], match="any") == []
    # Syntax stays text in a prefix: the quotes and stars of either engine.
    for typed in ("parta'", "parta\\", "parta:*", 'parta"*', "parta*", "jardin part'a"):
        hits = await search.search(typed, kinds=["proposal"], match="any")
        assert all(hit.kind == "proposal" for hit in hits), typed


async def test_title_weighs_more_than_body() -> None:
    await put("proposal", 1, "Des idées", "Parler de la propreté du square")
    await put("proposal", 2, "Propreté du square", "Des idées")
    assert found(await search.search("propreté", kinds=["proposal"])) == [
        ("proposal", 2),
        ("proposal", 1),
    ]


async def test_council_and_kind_filters() -> None:
    await put("proposal", 1, "Fête de quartier", council=1)
    await put("proposal", 2, "Fête de la musique", council=2)
    await put("minutes", 1, "Compte rendu", "La fête de quartier aura lieu en juin", council=1)
    await put("minutes", 2, "Compte rendu", "Fêtes et jeux", council=None)

    everything = await search.search("fête", kinds=["proposal", "minutes"])
    assert set(found(everything)) == {
        ("proposal", 1),
        ("proposal", 2),
        ("minutes", 1),
        ("minutes", 2),
    }
    assert {h.council_id for h in everything} == {1, 2, None}
    assert set(found(await search.search("fête", kinds=["minutes"]))) == {
        ("minutes", 1),
        ("minutes", 2),
    }
    council_1 = await search.search("fêtes", kinds=["proposal", "minutes"], council_id=1)
    assert set(found(council_1)) == {("proposal", 1), ("minutes", 1)}
    assert set(found(await search.search("fête", kinds="minutes"))) == {  # one kind
        ("minutes", 1),
        ("minutes", 2),
    }
    assert await search.search("fête", kinds=[]) == []
    assert await search.search("fête", kinds=["agenda"]) == []


async def test_paging() -> None:
    for number in range(1, 8):
        await put("proposal", number, f"Banc numéro {number}", "banc " * number)
    first = await search.search("banc", kinds=["proposal"], limit=3)
    second = await search.search("banc", kinds=["proposal"], limit=3, offset=3)
    rest = await search.search("banc", kinds=["proposal"], limit=10, offset=6)
    ids = found(first) + found(second) + found(rest)
    assert len(ids) == 7 and len(set(ids)) == 7
    assert await search.search("banc", kinds=["proposal"], limit=0) == []
    assert len(await search.search("banc", kinds=["proposal"], limit=-5, offset=-5)) == 0


async def test_replace_and_unindex() -> None:
    await put("proposal", 1, "Un jardin partagé")
    await put("minutes", 1, "Un jardin partagé")  # same id, another kind: its own entry
    await put("proposal", 1, "Des bancs", council=3)  # replaces
    assert found(await search.search("jardin", kinds=["proposal"])) == []
    [hit] = await search.search("bancs", kinds=["proposal"])
    assert (hit.object_id, hit.council_id) == (1, 3)
    async with write_transaction():
        await search.unindex("proposal", 1)
        await search.unindex("proposal", 99)  # nothing to remove: no error
    assert await search.search("bancs", kinds=["proposal"]) == []
    assert found(await search.search("jardin", kinds=["minutes"])) == [("minutes", 1)]


async def test_writes_refuse_to_run_outside_a_transaction() -> None:
    with pytest.raises(OutsideTransaction):
        await search.index("proposal", 1, None, "Titre", "")
    with pytest.raises(OutsideTransaction):
        await search.unindex("proposal", 1)


async def test_a_rolled_back_index_leaves_nothing() -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await search.index("proposal", 1, None, "Jardin", "")
            raise RuntimeError("the change failed")
    assert await search.search("jardin", kinds=["proposal"]) == []


async def test_snippet_is_escaped_and_marks_the_matches() -> None:
    await put(
        "proposal",
        1,
        "<script>alert('École')</script>",
        "Les écoles & <b>le collège</b> du quartier",
    )
    [hit] = await search.search("ecole", kinds=["proposal"])
    html = str(hit.snippet)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert "<mark>École</mark>" in html
    assert "<mark>écoles</mark>" in html
    assert html.count("<mark>") == 2


async def test_snippet_shows_the_passage_of_a_long_text() -> None:
    filler = "Le conseil a parlé du budget et des travaux de voirie. " * 200
    await put("minutes", 1, "Compte rendu du 3 mars", filler + "Les jardins partagés ouvriront.")
    [hit] = await search.search("jardin partagé", kinds=["minutes"])
    html = str(hit.snippet)
    assert html.startswith("… ")
    assert "<mark>jardins</mark> <mark>partagés</mark> ouvriront." in html
    assert len(html) < search.SNIPPET_CHARS + 100


async def test_snippet_of_hyphenated_and_elided_words() -> None:
    await put("proposal", 1, "Fête aux Près-Saint-Jean", "Devant l'école")
    [hit] = await search.search("pres saint jean école", kinds=["proposal"])
    assert str(hit.snippet) == (
        "Fête aux <mark>Près</mark>-<mark>Saint</mark>-<mark>Jean</mark> Devant l&#39;"
        "<mark>école</mark>"
    )


async def test_snippet_marks_words_whatever_their_accents_ligatures_and_letters() -> None:
    await put("proposal", 1, "Une ŒUVRE d'art", "Les chevaux du manège, l'Écurie")
    await put("proposal", 2, "Ｐｉｓｃｉｎｅ", "")  # fullwidth letters, the slow look
    [hit] = await search.search("oeuvres cheval ecuries", kinds=["proposal"])
    assert str(hit.snippet) == (
        "Une <mark>ŒUVRE</mark> d&#39;art Les <mark>chevaux</mark> du manège, "
        "l&#39;<mark>Écurie</mark>"
    )
    [hit] = await search.search("piscine", kinds=["proposal"])
    assert str(hit.snippet) == "<mark>Ｐｉｓｃｉｎｅ</mark>"


HOSTILE = [
    '"',
    "'",
    "\"jardin' OR 1=1 --",
    "jardin AND bancs",
    "jardin OR",
    "NOT jardin",
    "NEAR(jardin bancs, 2)",
    "jardin*",
    "*",
    "title_terms:jardin",
    "body_terms : jardin",
    "^jardin",
    "(jardin",
    "jardin)",
    "{jardin bancs}",
    "jardin & !bancs | (a <-> b):*",
    "jardin:*A",
    "\x00jardin\x00",
    "jard\x00in",
    "\\",
    "%_%",
    "jardin;DROP TABLE search_entry",
    "ｊａｒｄｉｎ",  # fullwidth letters
    "jardin\u0301",
    "\u200b\ufeff",
    "🌳 jardin",
    "x" * 10_000,
    "jardin " * 2_000,
    " ".join(f"mot{i}" for i in range(2_000)),
    "",
    "   ",
    "le la les",
]


@pytest.mark.parametrize("match", ["all", "any"])
async def test_hostile_queries_never_raise_nor_act_as_syntax(match: str) -> None:
    await put("proposal", 1, "Un jardin partagé", "Avec des bancs")
    await put("proposal", 2, "AND OR NOT NEAR", "Des mots comme les autres")
    for query in HOSTILE:
        hits = await search.search(query, kinds=["proposal"], match=match)
        assert all(hit.kind == "proposal" for hit in hits), query
    # `AND` is a word like the others, that the first entry lacks (an operator, it would
    # have found it in `all`); in `any` the first entry has two words of three.
    assert found(await search.search("jardin AND bancs", kinds=["proposal"], match=match)) == (
        [] if match == "all" else [("proposal", 1), ("proposal", 2)]
    )
    # FTS5's operators are plain words: they find the entry that holds them.
    assert found(await search.search("NEAR", kinds=["proposal"], match=match)) == [("proposal", 2)]
    assert found(await search.search("ｊａｒｄｉｎ", kinds=["proposal"], match=match)) == [
        ("proposal", 1)
    ]
    assert found(await search.search("jard\x00in jardin", kinds=["proposal"], match="any"))
    assert await search.search("", kinds=["proposal"], match=match) == []
    assert await search.search("le la les", kinds=["proposal"], match=match) == []
    count = await engine().run_ddl("SELECT count(*) AS n FROM search_entry")
    assert count[0]["n"] == 2


async def test_hostile_texts_are_indexed() -> None:
    await put("proposal", 1, "\x00Jardin\x00", 'NEAR("a" b) * : \' \\ ' + "é" * 50_000)
    await put("proposal", 2, "Titre", "mot " * 100_000)  # longer than indexed
    assert found(await search.search("jardin", kinds=["proposal"])) == [("proposal", 1)]
    assert found(await search.search("mot", kinds=["proposal"])) == [("proposal", 2)]


async def test_unknown_match_is_an_error() -> None:
    with pytest.raises(ValueError):
        await search.search("jardin", kinds=["proposal"], match="some")  # type: ignore[arg-type]
