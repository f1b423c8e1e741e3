"""A council's proposals as an Atom 1.0 feed (`conseils.atom`): each publication and each
answer is an entry with a stable id, its date, a title, a link to the proposal's page and
its text rendered as escaped HTML."""

from __future__ import annotations

from conseils import atom, richtext, urls
from meetings.services.councils import CouncilView
from proposals.services.public import FeedEntry


def atom_document(council: CouncilView, entries: list[FeedEntry]) -> bytes:
    page = urls.council_proposals_url(council.slug)
    feed = atom.Feed(
        id=atom.tag("conseils", council.slug, "propositions"),
        title=f"Propositions des habitants — {council.name}",
        subtitle="Nouvelles propositions publiées et réponses du conseil.",
        page_url=page,
        self_url=page + ".atom",
        author=council.name,
    )
    return atom.document(
        feed,
        [
            atom.Entry(
                id=atom.tag("proposition", entry.proposal_id, entry.kind),
                title=entry.title,
                updated=entry.at,
                published=entry.at,
                url=urls.proposal_url(entry.proposal_id),
                author=entry.author,
                html=richtext.render(entry.text),
            )
            for entry in entries
        ],
    )
