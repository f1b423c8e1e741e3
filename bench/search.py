"""French full-text search (`conseils.search`): 10,000 proposals and 2,000 minutes with the
text of their PDF, made of realistic French sentences; the server time of typical queries
(median and 95th percentile of the `search()` call, passages included) next to the cheapest
query of the same engine in the same run (one row by primary key), and the 50 ms budget.

Run by bench/run.py (`make bench`, part `search`) as `python -m bench.search` with the
bench's DATABASE_URL (migrated); prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from conseils import search
from conseils.db import close_pool, engine, open_pool, write_transaction

PROPOSALS = int(os.environ.get("BENCH_SEARCH_PROPOSALS", "10000"))
MINUTES = int(os.environ.get("BENCH_SEARCH_MINUTES", "2000"))
COUNCILS = 7
RUNS = 30
BUDGET_MS = 50.0

SUBJECTS = [
    "les bancs du square", "l'éclairage public", "la sortie de l'école", "le jardin partagé",
    "les trottoirs de l'avenue Carnot", "le marché couvert", "la crèche municipale",
    "les poubelles de la résidence", "le terrain de jeux", "la piste cyclable",
    "les passages piétons", "l'arrêt de bus", "la maison de quartier", "le city-stade",
    "les places de stationnement", "la bibliothèque", "le parc des Près-Saint-Jean",
    "les abords du collège", "la fontaine de la place", "les ralentisseurs",
    "le local des jeunes", "les encombrants", "la ligne de bus 4", "le centre social",
    "les arbres de la rue d'Avéjan", "le gymnase", "les toilettes publiques",
    "la permanence de santé", "le parking du Tamaris", "la halle des sports",
]  # fmt: skip
ACTIONS = [
    "Réparer", "Rénover", "Sécuriser", "Agrandir", "Nettoyer plus souvent", "Éclairer",
    "Végétaliser", "Rendre accessible", "Ouvrir le samedi", "Déplacer", "Repeindre",
    "Installer des caméras près de", "Mieux entretenir", "Créer un collectif pour",
    "Organiser une fête autour de", "Demander à la mairie d'améliorer",
]  # fmt: skip
REASONS = [
    "les enfants y jouent tous les jours", "les personnes âgées ne peuvent plus y passer",
    "les habitants se plaignent depuis des mois", "la nuit, on n'y voit rien",
    "les voitures roulent trop vite", "c'est sale après le marché",
    "les familles du quartier le demandent", "les jeunes n'ont nulle part où aller",
    "il y a eu plusieurs chutes cet hiver", "les poussettes ne passent pas",
    "l'association des locataires le propose", "les commerçants sont d'accord",
]  # fmt: skip
MINUTES_SENTENCES = [
    "Le conseil citoyen s'est réuni en présence de {n} habitants et de l'animatrice.",
    "Le point sur le budget participatif : {n} projets ont été déposés cette année.",
    "Les travaux de voirie de {s} commenceront au printemps, selon les services techniques.",
    "Plusieurs habitants signalent que {s} pose problème : {r}.",
    "La proposition de {a} {s} est adoptée à l'unanimité des présents.",
    "Le bailleur social s'engage à répondre par écrit avant la prochaine séance.",
    "Un groupe de travail se réunira le mardi {n} à la maison de quartier.",
    "Questions diverses : la propreté des halls, le bruit des deux-roues, la fête des voisins.",
    "L'élu de secteur rappelle que {s} relève de la compétence de l'agglomération.",
    "Le compte rendu de la séance précédente est approuvé sans remarque.",
]  # fmt: skip
QUERIES = [
    ("proposal", "all", "jardin partagé"),
    ("proposal", "all", "éclairage public rue"),
    ("proposal", "all", "Près-Saint-Jean"),
    ("proposal", "all", "quartier"),  # in nearly every text: the largest ranking
    ("proposal", "all", "trottinette"),  # in none
    ("proposal", "any", "Réparer les bancs cassés du square près de l'école"),
    ("proposal+council", "all", "stationnement"),
    # Similar proposals while a title is typed: `any`, one council, kind "proposal".
    ("proposal+council", "any", "Sécuriser les passages piétons près du collège"),
    ("proposal+council", "any", "Installer des bancs dans le jardin partagé"),
    ("proposal+council", "any", "Végétaliser la place"),
    ("proposal+council", "any", "Rénover le jardin parta"),  # the last word being typed
    ("minutes", "all", "budget participatif"),
    ("minutes", "all", "travaux voirie printemps"),
    ("minutes", "all", "conseil citoyen"),  # in every minutes
    ("minutes+council", "all", "bailleur social"),
    ("minutes", "any", "propreté des halls et bruit des deux-roues"),
]


def proposal(rng: random.Random) -> tuple[str, str]:
    subject = rng.choice(SUBJECTS)
    title = f"{rng.choice(ACTIONS)} {subject}"
    body = " ".join(
        f"{rng.choice(ACTIONS)} {rng.choice(SUBJECTS)} car {rng.choice(REASONS)}."
        for _ in range(rng.randint(2, 6))
    )
    return title, f"Dans notre quartier, {subject} : {rng.choice(REASONS)}. {body}"


def minutes(rng: random.Random, number: int) -> tuple[str, str]:
    """A summary and the text of a PDF of a few pages (about 15,000 characters)."""
    lines = []
    while sum(map(len, lines)) < rng.randint(8_000, 22_000):
        lines.append(
            rng.choice(MINUTES_SENTENCES).format(
                n=rng.randint(3, 40),
                s=rng.choice(SUBJECTS),
                r=rng.choice(REASONS),
                a=rng.choice(ACTIONS).lower(),
            )
        )
    return f"Compte rendu de la séance n° {number}", "\n".join(lines)


async def populate() -> None:
    rng = random.Random(13)
    for start in range(0, PROPOSALS, 500):
        async with write_transaction():
            for object_id in range(start + 1, min(PROPOSALS, start + 500) + 1):
                title, body = proposal(rng)
                await search.index("proposal", object_id, object_id % COUNCILS + 1, title, body)
    for start in range(0, MINUTES, 100):
        async with write_transaction():
            for object_id in range(start + 1, min(MINUTES, start + 100) + 1):
                title, body = minutes(rng, object_id)
                await search.index("minutes", object_id, object_id % COUNCILS + 1, title, body)
    if isinstance(engine(), PostgresEngine):
        # What autovacuum does soon after a bulk load: the GIN index's pending list merged
        # (a rare word's lookup: 5 ms before, well under 1 ms after) and the statistics the
        # planner needs to prefer it to the kind's index.
        await engine().run_ddl("VACUUM ANALYZE search_entry")


async def timed(call) -> tuple[float, float, int]:
    """(median ms, p95 ms, results) over RUNS calls, after two to warm up."""
    for _ in range(2):
        found = await call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        found = await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(found)


async def main() -> dict:
    """Opens the pool and always closes it: SQLite's readers hold threads that would keep the
    process from exiting (it did hang, its JSON printed, until killed)."""
    await open_pool(1, 4)
    try:
        return await _measure()
    finally:
        await close_pool()


async def _measure() -> dict:
    started = time.perf_counter()
    await populate()
    fill_s = time.perf_counter() - started
    db = engine()

    async def one_row():
        return await db.run_querystring(
            QueryString("SELECT id, kind, object_id FROM search_entry WHERE id = {}", 1234)
        )

    baseline = await timed(one_row)
    rows = []
    for kind, match, query in QUERIES:
        council = 3 if kind.endswith("+council") else None
        kinds = [kind.removesuffix("+council")]

        async def call(query=query, kinds=kinds, match=match, council=council):
            return await search.search(query, kinds=kinds, match=match, council_id=council)

        median, p95, count = await timed(call)
        rows.append(
            {"kind": kind, "match": match, "query": query, "median_ms": median, "p95_ms": p95,
             "hits": count}
        )  # fmt: skip
    return {
        "proposals": PROPOSALS,
        "minutes": MINUTES,
        "fill_s": fill_s,
        "baseline_ms": baseline[0],
        "budget_ms": BUDGET_MS,
        "rows": rows,
    }


def report(results: list[tuple[str, dict]]) -> None:
    first = results[0][1]
    print(
        f"\nSearch: {first['proposals']} proposals and {first['minutes']} minutes with their PDF "
        f"text; server time of search() (20 hits with passages), median and p95 of {RUNS} runs, "
        "next to one row read by primary key in the same run (baseline)\n"
    )
    print(
        "| engine     | kind             | match | query"
        f"{' ' * 46}| hits | median ms | p95 ms | × baseline | ≤ 50 ms |"
    )
    print(f"|{'-' * 12}|{'-' * 18}|{'-' * 7}|{'-' * 52}|{'-' * 6}|{'-' * 11}|{'-' * 8}|"
          f"{'-' * 12}|{'-' * 9}|")  # fmt: skip
    for name, result in results:
        base = result["baseline_ms"]
        for row in result["rows"]:
            print(
                f"| {name:<10} | {row['kind'][:16]:<16} | {row['match']:<5} "
                f"| {row['query'][:50]:<50} | {row['hits']:>4} | {row['median_ms']:>9.1f} "
                f"| {row['p95_ms']:>6.1f} | {row['median_ms'] / base:>10.0f} "
                f"| {'yes' if row['p95_ms'] <= BUDGET_MS else 'NO':<7} |"
            )
        print(
            f"| {name:<10} | baseline         | —     | {'one row by primary key':<50} |    1 "
            f"| {base:>9.2f} | {'':>6} | {1:>10} | {'':<7} |"
        )
    for name, result in results:
        print(f"{name}: index filled in {result['fill_s']:.0f} s")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
    sys.stdout.flush()
