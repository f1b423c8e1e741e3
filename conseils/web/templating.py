"""The Jinja2 environment of the pages and of the emails: one loader, one set of filters.

Apps add the names their templates share (`add_globals`, from their feature's `register`)
before the application builds its environments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from conseils import richtext, timefmt, urls
from conseils.resources import TEMPLATES
from conseils.settings import get_settings

_globals: dict[str, Any] = {}


def add_globals(**names: Any) -> None:
    """Names every template sees (an app's labels, say); call before building environments."""
    _globals.update(names)


def template_environment(directory: Path = TEMPLATES, *, strict: bool = False) -> Environment:
    """Autoescaping on for HTML (not for `.txt` emails) and the French formatting filters.

    `strict` (the emails): a missing value is an error, not an empty string in a mail, and
    templates keep their final newline.
    """
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "xml"]),
        auto_reload=False,
        enable_async=False,
        **({"undefined": StrictUndefined, "keep_trailing_newline": True} if strict else {}),
    )
    env.filters.update(
        french_date=timefmt.french_date,
        french_day=timefmt.french_day,
        french_time=timefmt.french_time,
        french_range=timefmt.french_range,
        french_month=timefmt.french_month,
        paris=timefmt.to_paris,
        map_url=urls.map_url,
        webcal=urls.webcal,
        google_subscribe=urls.google_subscribe_url,
        google_event=urls.google_event_url,
        meeting_ics=urls.meeting_calendar_url,
        markdown=richtext.render,
        excerpt=richtext.excerpt,
    )
    env.globals.update(feed_url=urls.feed_url, site=get_settings().site, **_globals)
    return env
