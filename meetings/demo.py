"""The Alès demo data: the seven conseils citoyens of DESIGN.md §1 and their meetings.

Loaded only into an empty database, so `make serve` can run it every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import uuid4

from conseils.db import write_transaction
from conseils.holidays import is_public_holiday
from conseils.timefmt import PARIS, now_utc
from meetings.tables import Council, CouncilQuartier, Meeting, Quartier

QUARTIERS = [
    ("Rive Droite", "ales-rive-droite", "Alès"),
    ("Tamaris", "ales-tamaris", "Alès"),
    ("Cévennes", "ales-cevennes", "Alès"),
    ("Pierre-Curie", "ales-pierre-curie", "Alès"),
    ("Moulinet", "ales-moulinet", "Alès"),
    ("Près-Saint-Jean", "ales-pres-saint-jean", "Alès"),
    ("Centre-Ville", "ales-centre-ville", "Alès"),
    ("Centre-Ville", "anduze-centre-ville", "Anduze"),
]


@dataclass(frozen=True)
class DemoCouncil:
    name: str
    slug: str
    quartiers: tuple[str, ...]
    venue: str
    address: str
    description: str


COUNCILS = [
    DemoCouncil(
        "Conseil citoyen « Alès Agglo »",
        "ales-agglo",
        (),
        "Espace Cazot",
        "Rue Jules Cazot, 30100 Alès",
        "Le conseil citoyen de l'agglomération réunit des membres des six conseils locaux.\n\n"
        "Il porte les sujets communs à tous les quartiers prioritaires : mobilité, emploi, "
        "cadre de vie, et suit le contrat de ville.",
    ),
    DemoCouncil(
        "Conseil citoyen Alès Rive Droite",
        "ales-rive-droite",
        ("ales-rive-droite",),
        "Centre social de Rive Droite",
        "Avenue Jean-Baptiste Dumas, 30100 Alès",
        "Habitants et acteurs locaux du quartier Rive Droite.",
    ),
    DemoCouncil(
        "Conseil citoyen Alès Tamaris",
        "ales-tamaris",
        ("ales-tamaris",),
        "Maison de quartier de Tamaris",
        "Rue de la Lozère, 30100 Alès",
        "Habitants et acteurs locaux du quartier Tamaris.",
    ),
    DemoCouncil(
        "Conseil citoyen Alès « Couronne Nord »",
        "ales-couronne-nord",
        ("ales-cevennes", "ales-pierre-curie", "ales-moulinet"),
        "Salle polyvalente des Cévennes",
        "Avenue des Cévennes, 30100 Alès",
        "Le conseil des quartiers Cévennes, Pierre-Curie et Moulinet.",
    ),
    DemoCouncil(
        "Conseil citoyen Alès Près-Saint-Jean",
        "ales-pres-saint-jean",
        ("ales-pres-saint-jean",),
        "Centre social des Près-Saint-Jean",
        "Rue Pasteur, 30100 Alès",
        "Habitants et acteurs locaux du quartier des Près-Saint-Jean.",
    ),
    DemoCouncil(
        "Conseil citoyen Alès Centre-Ville",
        "ales-centre-ville",
        ("ales-centre-ville",),
        "Médiathèque Alphonse-Daudet",
        "24 rue Edgar Quinet, 30100 Alès",
        "Habitants et acteurs locaux du centre-ville d'Alès.",
    ),
    DemoCouncil(
        "Conseil citoyen Anduze Centre-Ville",
        "anduze-centre-ville",
        ("anduze-centre-ville",),
        "Salle du Pradel",
        "Plan de Brie, 30140 Anduze",
        "Habitants et acteurs locaux du centre-ville d'Anduze.",
    ),
]

# When each kind of meeting happens, as in the quartiers today: councils on a weekday
# evening after work, cafés on a Saturday morning or a Wednesday afternoon (no school).
EVENINGS = (1, 3)  # Tuesday, Thursday
SATURDAY, WEDNESDAY = (5,), (2,)
SEASONS = {12: "d'hiver", 1: "d'hiver", 2: "d'hiver", 3: "de printemps", 4: "de printemps",
           5: "de printemps", 6: "d'été", 7: "d'été", 8: "d'été", 9: "d'automne",
           10: "d'automne", 11: "d'automne"}  # fmt: skip

# (council slug, kind, title ({saison}: of the meeting's date), about how many days from
# today, on which weekdays, local start, duration in minutes, capacity)
UPCOMING = [
    ("ales-agglo", "council", "Plénière {saison} du conseil « Alès Agglo »", 9, EVENINGS,
     time(18), 120, 80),
    ("ales-rive-droite", "cafe", "Café citoyen : la propreté du quartier", 4, SATURDAY,
     time(9, 30), 90, 25),
    ("ales-rive-droite", "council", "Réunion du conseil Rive Droite", 23, EVENINGS,
     time(18, 30), 120, 40),
    ("ales-tamaris", "cafe", "Café citoyen : les jeux pour enfants", 6, WEDNESDAY, time(14),
     90, 20),
    ("ales-tamaris", "council", "Réunion du conseil Tamaris", 30, EVENINGS, time(18), 120, 40),
    ("ales-couronne-nord", "council", "Réunion du conseil « Couronne Nord »", 12, EVENINGS,
     time(18), 120, 50),
    ("ales-couronne-nord", "cafe", "Café citoyen au Moulinet : bus et horaires", 37, SATURDAY,
     time(10), 90, None),
    ("ales-pres-saint-jean", "cafe", "Café citoyen : préparons la fête de quartier", 15,
     WEDNESDAY, time(14), 120, 30),
    ("ales-pres-saint-jean", "council", "Réunion du conseil Près-Saint-Jean", 44, EVENINGS,
     time(18), 120, 40),
    ("ales-centre-ville", "council", "Réunion du conseil Centre-Ville", 18, EVENINGS,
     time(18, 30), 120, 40),
    ("ales-centre-ville", "cafe", "Café citoyen : commerces et animations", 51, SATURDAY,
     time(10), 90, 25),
    ("anduze-centre-ville", "cafe", "Café citoyen : stationnement et marché", 8, SATURDAY,
     time(10), 90, 20),
    ("anduze-centre-ville", "council", "Réunion du conseil d'Anduze", 40, EVENINGS, time(18),
     120, 30),
]  # fmt: skip
CANCELLED = {"Café citoyen au Moulinet : bus et horaires"}
DESCRIPTION = (
    "Ordre du jour proposé par les membres du conseil ; chacun peut ajouter ses questions "
    "en début de séance.\n\nOuvert à toutes et tous, accès de plain-pied. "
    "Un café et des boissons sont offerts."
)


def meeting_day(near: date, weekdays: tuple[int, ...], step: int = 1) -> date:
    """The first day from `near` (onwards, or backwards with step=-1) that falls on one of
    `weekdays` and is not a public holiday."""
    day = near
    while day.weekday() not in weekdays or is_public_holiday(day):
        day += timedelta(days=step)
    return day


@dataclass(frozen=True)
class Planned:
    slug: str
    kind: str
    title: str
    day: date
    start: time
    minutes: int
    capacity: int | None


def upcoming(today: date) -> list[Planned]:
    """The upcoming demo meetings as planned from `today`, in the order they happen."""
    planned = []
    for slug, kind, title, days, weekdays, start, minutes, capacity in UPCOMING:
        day = meeting_day(today + timedelta(days=days), weekdays)
        planned.append(
            Planned(slug, kind, title.format(saison=SEASONS[day.month]), day, start, minutes,
                    capacity)
        )  # fmt: skip
    return sorted(planned, key=lambda meeting: (meeting.day, meeting.start))


def _at(day: date, start: time) -> datetime:
    return datetime.combine(day, start, tzinfo=PARIS).astimezone(now_utc().tzinfo)


def _meeting(
    council_id: int,
    council: DemoCouncil,
    kind: str,
    title: str,
    day: date,
    start: time,
    minutes: int,
    capacity: int | None,
) -> Meeting:
    starts = _at(day, start)
    now = now_utc()
    return Meeting(
        council=council_id,
        kind=kind,
        title=title,
        description=DESCRIPTION,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        venue=council.venue,
        address=council.address,
        capacity=capacity,
        registration_opens_at=min(now, starts - timedelta(days=30)),
        registration_closes_at=starts - timedelta(hours=2),
        status="cancelled" if title in CANCELLED else "published",
        cancelled_at=now if title in CANCELLED else None,
        sequence=1 if title in CANCELLED else 0,
        uid=str(uuid4()),
        created_at=now,
        updated_at=now,
    )


async def load_demo() -> bool:
    """Fill an empty database; returns False (and changes nothing) when councils exist."""
    async with write_transaction():
        if await Council.exists():
            return False
        quartier_ids = {}
        for name, slug, commune in QUARTIERS:
            row = await Quartier.insert(Quartier(name=name, slug=slug, commune=commune)).returning(
                Quartier.id
            )
            quartier_ids[slug] = row[0]["id"]
        today = now_utc().astimezone(PARIS).date()
        by_slug = {}
        for council in COUNCILS:
            row = await Council.insert(
                Council(
                    name=council.name,
                    slug=council.slug,
                    description=council.description,
                    agglomeration_wide=not council.quartiers,
                    contact_email=f"conseil.{council.slug}@ville-ales.fr",
                )
            ).returning(Council.id)
            council_id = by_slug[council.slug] = row[0]["id"]
            for quartier in council.quartiers:
                await CouncilQuartier.insert(
                    CouncilQuartier(council=council_id, quartier=quartier_ids[quartier])
                )
            await Meeting.insert(
                _meeting(
                    council_id,
                    council,
                    "council",
                    f"Réunion du conseil — {council.name}",
                    meeting_day(today - timedelta(days=28), EVENINGS, step=-1),
                    time(18),
                    120,
                    40,
                )
            )
        councils = {c.slug: c for c in COUNCILS}
        for planned in upcoming(today):
            await Meeting.insert(
                _meeting(
                    by_slug[planned.slug],
                    councils[planned.slug],
                    planned.kind,
                    planned.title,
                    planned.day,
                    planned.start,
                    planned.minutes,
                    planned.capacity,
                )
            )
    return True
