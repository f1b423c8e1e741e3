"""Where the files shipped with the code are: Jinja2 templates and static files."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = _ROOT / "templates"
STATIC = _ROOT / "static"
