"""A council's proposals as an Atom 1.0 feed (RFC 4287): each publication and each answer is
an entry with a stable `id` (a tag URI, RFC 4151), its `updated` date, a title, a link to
the proposal's page and its text rendered as escaped HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from conseils import richtext, urls
from conseils.settings import get_settings
from meetings.services.councils import CouncilView
from proposals.services.public import FeedEntry

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(*parts: object) -> str:
    host = urlsplit(get_settings().base_url).hostname or "localhost"
    return f"tag:{host},2026:" + "/".join(str(part) for part in parts)


def atom_document(council: CouncilView, entries: list[FeedEntry]) -> bytes:
    feed = Element("feed", xmlns=ATOM)
    feed.set("xml:lang", "fr")
    SubElement(feed, "id").text = _tag("conseils", council.slug, "propositions")
    SubElement(feed, "title").text = f"Propositions des habitants — {council.name}"
    SubElement(feed, "subtitle").text = "Nouvelles propositions publiées et réponses du conseil."
    updated = max((entry.at for entry in entries), default=EPOCH)
    SubElement(feed, "updated").text = _stamp(updated)
    page = urls.council_proposals_url(council.slug)
    SubElement(feed, "link", rel="alternate", type="text/html", href=page)
    SubElement(feed, "link", rel="self", type="application/atom+xml", href=page + ".atom")
    author = SubElement(feed, "author")
    SubElement(author, "name").text = council.name
    for entry in entries:
        item = SubElement(feed, "entry")
        SubElement(item, "id").text = _tag("proposition", entry.proposal_id, entry.kind)
        SubElement(item, "title").text = entry.title
        SubElement(item, "updated").text = _stamp(entry.at)
        SubElement(item, "published").text = _stamp(entry.at)
        SubElement(
            item,
            "link",
            rel="alternate",
            type="text/html",
            href=urls.proposal_url(entry.proposal_id),
        )
        who = SubElement(item, "author")
        SubElement(who, "name").text = entry.author
        SubElement(item, "content", type="html").text = str(richtext.render(entry.text))
    return tostring(feed, encoding="utf-8", xml_declaration=True)
