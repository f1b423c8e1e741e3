"""Meeting descriptions written in Markdown, rendered to safe HTML for pages and emails.

markdown-it-py (CommonMark) with linkify-it-py for bare URLs. What a facilitator types can
never run or load anything in a resident's browser or mail app: raw HTML is off (shown as
text), links go only to http, https and mailto (anything else stays text), every link is
`rel="nofollow ugc"`, and images are not rendered (an image from elsewhere would tell its
host who read the page). Headings are moved down two levels so that a description's `#`
sits under the page's own headings. Plain-text uses (emails' text part, iCalendar
DESCRIPTION) keep the text as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


def _allowed_link(url: str) -> bool:
    return url.strip().lower().startswith(ALLOWED_SCHEMES)


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "nofollow ugc")
    return self.renderToken(tokens, idx, options, env)


def _heading(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
    return self.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["linkify", "strikethrough"])
    md.disable("image")
    md.validateLink = _allowed_link
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("heading_open", _heading)
    md.add_render_rule("heading_close", _heading)
    return md


_MD = _parser()


@lru_cache(maxsize=256)
def render(text: str) -> Markup:
    """The HTML of a description; cached, since one announcement renders it per message."""
    return Markup(_MD.render(text or ""))  # noqa: S704 (markdown-it escaped it: HTML off)


@lru_cache(maxsize=256)
def excerpt(text: str, length: int = 160) -> str:
    """The words of a description without its Markdown, cut at a word before `length`
    characters: for a page's meta description and Open Graph description."""
    words: list[str] = []
    for token in _MD.parse(text or ""):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        if token.type in ("paragraph_close", "heading_close", "list_item_close"):
            words.append(" ")
    flat = " ".join("".join(words).split())
    if len(flat) <= length:
        return flat
    return flat[: length - 1].rsplit(" ", 1)[0] + "…"
