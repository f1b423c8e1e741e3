"""Jinja2 for emails: `<name>.txt` (plain text, no escaping) and `<name>.html` (escaped)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from meetings import timefmt, urls
from meetings.services.meetings import KIND_LABELS
from meetings.settings import ROOT


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing value is a bug, not an empty string in a mail
        auto_reload=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        french_date=timefmt.french_date,
        french_time=timefmt.french_time,
        french_range=timefmt.french_range,
        map_url=urls.map_url,
    )
    env.globals.update(kind_labels=KIND_LABELS)
    return env


def render_pair(template: str, /, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of email `template`."""
    env = environment()
    text = env.get_template(f"emails/{template}.txt").render(**context)
    html = env.get_template(f"emails/{template}.html").render(**context)
    return text, html
