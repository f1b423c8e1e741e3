"""Proposals and facilitators for the back-office tests: rows written directly (the
residents' submission is another part of the app), viewers as the services see them."""

from __future__ import annotations

from typing import Any

from conseils.timefmt import now_utc
from conseils.viewer import FacilitatorView
from meetings.tables import Council
from proposals.tables import Proposal, Support


async def council_id(slug: str = "ales-tamaris") -> int:
    row = await Council.select(Council.id).where(Council.slug == slug).first()
    return row["id"]


async def viewer_of(*slugs: str, admin: bool = False, id_: int = 9_001) -> FacilitatorView:
    ids = frozenset([await council_id(slug) for slug in slugs])
    return FacilitatorView(id_, f"anim{id_}@ales.fr", "Animatrice", admin, ids)


async def proposal(
    *,
    slug: str = "ales-tamaris",
    status: str = "pending",
    title: str = "Des bancs au square",
    email: str | None = "autrice@example.org",
    **values: Any,
) -> int:
    now = now_utc()
    row = Proposal(
        council=await council_id(slug),
        title=title,
        body=values.pop("body", "Pour s'asseoir à l'ombre."),
        theme=values.pop("theme", "cadre_de_vie"),
        author_name=values.pop("author_name", "Awa"),
        email=email,
        status=status,
        created_at=now,
        updated_at=now,
        published_at=now if status != "pending" else None,
        **values,
    )
    return (await Proposal.insert(row).returning(Proposal.id))[0]["id"]


async def support(
    proposal_id: int, email: str, *, confirmed: bool = True, wants_news: bool = False
) -> None:
    await Support.insert(
        Support(
            proposal=proposal_id,
            email=email,
            key=f"{proposal_id}:{email}",
            status="confirmed" if confirmed else "pending",
            wants_news=wants_news,
            confirmed_at=now_utc() if confirmed else None,
        )
    )
    count = await Support.count().where(
        (Support.proposal == proposal_id) & (Support.status == "confirmed")
    )
    await Proposal.update({Proposal.supports: count}).where(Proposal.id == proposal_id)


async def row(proposal_id: int) -> dict[str, Any]:
    return await Proposal.select().where(Proposal.id == proposal_id).first()
