"""Many published meetings at once, written straight into the table (as `bench/feeds.py`
does): thousands in a second, for the tests that measure size or count queries.

The rows bypass the services, so no change notice is sent: insert before the first request
that would cache what they change.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from conseils.timefmt import now_utc
from meetings.tables import Council, Meeting

VENUES = (
    ("Maison de quartier de Tamaris", "Rue de la Lozère, 30100 Alès"),
    ("Salle des fêtes", "Place de la Mairie, 30340 Saint-Privat-des-Vieux"),
    ("Médiathèque", "2 rue Jules Ferry, 30100 Alès"),
    ("Centre social", "Avenue des Cévennes, 30100 Alès"),
)
AGENDAS = (
    "Ordre du jour : cadre de vie, propreté, mobilité ; questions des habitants.",
    "Point sur les travaux de la rue principale, le stationnement et l'éclairage public.",
    "Préparation de la fête de quartier : bénévoles, budget, programme. Café offert. 🌱",
    "Bilan des propositions de l'année et choix des priorités pour le budget participatif.",
    "Accès de plain-pied ; interprète en LSF sur demande, prévenir une semaine avant.",
)


async def insert_meetings(
    count: int, *, council: str | None = None, upcoming: bool = True, batch: int = 250
) -> list[int]:
    """`count` published meetings, six hours apart, starting tomorrow (or a year ago), in
    the council named (else spread over every council); their ids."""
    query = Council.select(Council.id)
    if council is not None:
        query = query.where(Council.slug == council)
    councils = [row["id"] for row in await query]
    assert councils, "load the demo councils first"
    now = now_utc().replace(minute=0, second=0, microsecond=0)
    first = now + (timedelta(days=1) if upcoming else -timedelta(days=365))
    rows = []
    for i in range(count):
        starts = first + timedelta(hours=6 * i)
        venue, address = VENUES[i % len(VENUES)]
        rows.append(
            Meeting(
                council=councils[i % len(councils)],
                kind="cafe" if i % 3 else "council",
                title=f"Rencontre n° {i} : {('le marché', 'les écoles', 'la voirie')[i % 3]}",
                description=AGENDAS[i % len(AGENDAS)],
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                venue=venue,
                address=address,
                capacity=20 if i % 2 else None,
                status="published",
                uid=str(uuid4()),
                created_at=now,
                updated_at=now,
            )
        )
    for start in range(0, len(rows), batch):
        await Meeting.insert(*rows[start : start + batch])
    found = await Meeting.select(Meeting.id).where(Meeting.uid.is_in([r.uid for r in rows]))
    return sorted(row["id"] for row in found)
