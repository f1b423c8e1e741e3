"""Jinja2 for emails: `<name>.txt` (plain text, no escaping) and `<name>.html` (escaped)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment

from conseils.web.templating import template_environment


@lru_cache(maxsize=1)
def environment() -> Environment:
    return template_environment(strict=True)


def render_pair(template: str, /, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of email `template`."""
    env = environment()
    text = env.get_template(f"emails/{template}.txt").render(**context)
    html = env.get_template(f"emails/{template}.html").render(**context)
    return text, html
