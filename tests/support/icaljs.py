"""Parse iCalendar text as Thunderbird does: with Mozilla's ical.js, run by node.

`parse_with_icaljs(text)` feeds the text to tests/js/parse_ics.mjs and returns its JSON:

    {"calendar": {"version": "2.0", "prodid": ..., ...},   # first value of each property
     "timezones": ["Europe/Paris", ...],                   # TZID of every VTIMEZONE
     "events": [{"uid", "summary", "description", "location", "url", "status",
                 "sequence" (int), "categories" (list), "organizer", "organizer_cn",
                 "dtstamp", "created", "last_modified",    # "2027-01-14T17:30:00Z"
                 "dtstart_tzid", "dtend_tzid",
                 "start_utc", "end_utc",                   # "2027-01-14T17:30:00Z"
                 "start_local", "end_local"}, ...]}        # "2027-01-14T18:30:00"

Absent properties are None. A UTC time is None when ical.js cannot place it on the time line
(floating time, TZID without its VTIMEZONE, all-day date). ical.js is installed in
tests/js/node_modules by `make test` (npm ci, pinned by tests/js/package-lock.json).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parents[1] / "js"  # tests/js
SCRIPT = JS_DIR / "parse_ics.mjs"
ICALJS_PACKAGE = JS_DIR / "node_modules" / "ical.js" / "package.json"
REJECTED = "ical.js: "  # how parse_ics.mjs starts the message of an error it caught


def parse_with_icaljs(text: str | bytes) -> dict[str, Any]:
    """Parse with ical.js; AssertionError (with node's stderr) if ical.js rejects the text.

    Bytes are passed through untouched (so invalid UTF-8 is caught); text is sent as UTF-8.
    A missing or broken node/ical.js raises RuntimeError instead, so that a test expecting a
    rejection (`pytest.raises(AssertionError)`) cannot pass without ical.js.
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: run `make test`, which installs it")
    if not ICALJS_PACKAGE.is_file():
        raise RuntimeError(
            f"ical.js is not installed in {JS_DIR / 'node_modules'}: run `make test`, "
            "which installs it (npm ci --prefix tests/js)"
        )
    data = text.encode() if isinstance(text, str) else text
    result = subprocess.run(
        [node, str(SCRIPT)], input=data, capture_output=True, timeout=60, check=False
    )
    stderr = result.stderr.decode(errors="replace")
    if result.returncode == 1 and stderr.startswith(REJECTED):
        raise AssertionError(f"ical.js could not parse the calendar:\n{stderr}")
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} failed (exit status {result.returncode}):\n{stderr}")
    return json.loads(result.stdout)
