"""Atom 1.0 feeds (RFC 4287) as the features write them: a feed with a stable `id` (a tag
URI, RFC 4151), its `updated` date (the newest entry's, so the same data gives the same
bytes), links to its page and to itself, and entries with their own id, dates, link and
content as escaped HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from markupsafe import Markup

from conseils.settings import get_settings

NAMESPACE = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str  # a tag URI (`tag`)
    title: str
    updated: datetime
    published: datetime
    url: str  # its page
    author: str
    html: Markup  # its content, already safe HTML


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    title: str
    subtitle: str
    page_url: str  # the page the feed follows; the feed itself is at `self_url`
    self_url: str
    author: str


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tag(*parts: object) -> str:
    host = urlsplit(get_settings().base_url).hostname or "localhost"
    return f"tag:{host},2026:" + "/".join(str(part) for part in parts)


def document(feed: Feed, entries: Sequence[Entry]) -> bytes:
    root = Element("feed", xmlns=NAMESPACE)
    root.set("xml:lang", "fr")
    SubElement(root, "id").text = feed.id
    SubElement(root, "title").text = feed.title
    SubElement(root, "subtitle").text = feed.subtitle
    updated = max((entry.updated for entry in entries), default=EPOCH)
    SubElement(root, "updated").text = stamp(updated)
    SubElement(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    SubElement(root, "link", rel="self", type="application/atom+xml", href=feed.self_url)
    author = SubElement(root, "author")
    SubElement(author, "name").text = feed.author
    for entry in entries:
        item = SubElement(root, "entry")
        SubElement(item, "id").text = entry.id
        SubElement(item, "title").text = entry.title
        SubElement(item, "updated").text = stamp(entry.updated)
        SubElement(item, "published").text = stamp(entry.published)
        SubElement(item, "link", rel="alternate", type="text/html", href=entry.url)
        who = SubElement(item, "author")
        SubElement(who, "name").text = entry.author
        SubElement(item, "content", type="html").text = str(entry.html)
    return tostring(root, encoding="utf-8", xml_declaration=True)
