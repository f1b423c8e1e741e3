"""Where the files shipped with the code are: Jinja2 templates and static files.

In the repository they sit at its top (`templates/`, `static/`); an installed wheel carries
them inside this package (`conseils/templates`, `conseils/static`: see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


TEMPLATES = _shipped("templates")
STATIC = _shipped("static")
