"""The back-office's meeting form: what the facilitator typed (Paris clock times, text
fields) turned into the fields the meetings service takes, and a meeting turned back into
the form's values. The rules themselves (order of times, capacity, …) are the service's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from conseils.backoffice import form_text
from conseils.errors import InvalidInput
from conseils.timefmt import to_paris
from meetings.services.local_time import offset_label, paris_parts, paris_to_utc
from meetings.services.meetings import MeetingView

TEXT_FIELDS = {
    "council": 80, "kind": 16, "title": 400, "description": 20_000, "venue": 400,
    "address": 600, "online_url": 1000, "capacity": 20, "form_key": 100,
}  # fmt: skip
# Each moment is typed as two inputs, `<name>_date` and `<name>_time`.
MOMENTS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
REQUIRED_MOMENTS = ("starts_at", "ends_at")
_TIME = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# The service names API fields in a few messages ("… (starts_at)"): the form's labels say it.
_API_NAME = re.compile(r"\s*\([a-z_]+\)")


def raw_values(form: dict[str, Any]) -> dict[str, str]:
    """What was typed, kept to show the form again (bounded, strings only)."""
    values = {name: form_text(form, name, limit) for name, limit in TEXT_FIELDS.items()}
    for name in MOMENTS:
        for part in ("date", "time"):
            values[f"{name}_{part}"] = form_text(form, f"{name}_{part}", 20).strip()
    return values


def _day(text: str) -> date:
    found = _FRENCH_DATE.match(text)
    try:
        day = (
            date(int(found[3]), int(found[2]), int(found[1])) if found else date.fromisoformat(text)
        )
    except ValueError:
        raise ValueError("date invalide : jj/mm/aaaa") from None
    if not 2000 <= day.year < 2100:
        raise ValueError("la date doit être entre 2000 et 2099")
    return day


def _clock(text: str) -> time:
    found = _TIME.match(text)
    try:
        if found is None:
            raise ValueError
        return time(int(found[1]), int(found[2] or 0))
    except ValueError:
        raise ValueError("heure invalide : hh:mm, par exemple 18:30") from None


def _moment(values: dict[str, str], name: str, *, default_day: str = "") -> datetime | None:
    day_text = values[f"{name}_date"] or default_day
    clock_text = values[f"{name}_time"]
    if not day_text and not clock_text:
        if name in REQUIRED_MOMENTS:
            raise InvalidInput({name: "indiquez la date et l'heure"})
        return None
    if not day_text:
        raise InvalidInput({name: "indiquez aussi la date"})
    if not clock_text:
        raise InvalidInput({name: "indiquez aussi l'heure"})
    try:
        day, clock = _day(day_text), _clock(clock_text)
    except ValueError as exc:
        raise InvalidInput({name: str(exc)}) from None
    return paris_to_utc(name, day, clock)


def parse(values: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """The service's fields from the form's values; every error at once (InvalidInput)."""
    fields: dict[str, Any] = {
        "kind": values["kind"],
        "title": values["title"],
        "description": values["description"],
        "venue": values["venue"],
        "address": values["address"],
        "online_url": values["online_url"].strip() or None,
    }
    if creating:
        fields["council"] = values["council"]
    errors: dict[str, str] = {}
    capacity = values["capacity"].strip()
    if not capacity:
        fields["capacity"] = None
    elif capacity.isdecimal() and len(capacity) <= 9:
        fields["capacity"] = int(capacity)
    else:
        errors["capacity"] = "indiquez un nombre entier de places, ou laissez vide : sans limite"
    for name in MOMENTS:
        try:
            # The end is on the start's day unless another day is given.
            default = values["starts_at_date"] if name == "ends_at" else ""
            fields[name] = _moment(values, name, default_day=default)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return fields


def form_errors(exc: InvalidInput) -> dict[str, str]:
    """The service's messages as the form shows them, beside its fields."""
    return {name: _API_NAME.sub("", why) for name, why in exc.errors.items()}


def values_of(meeting: MeetingView, *, shift_days: int | None = 0) -> dict[str, str]:
    """The form's values for this meeting; `shift_days`: its times that many days later
    (a duplicate), or None to leave the dates empty (the clock times stay)."""
    values = {
        "council": meeting.council_slug,
        "kind": meeting.kind,
        "title": meeting.title,
        "description": meeting.description,
        "venue": meeting.venue,
        "address": meeting.address,
        "online_url": meeting.online_url or "",
        "capacity": "" if meeting.capacity is None else str(meeting.capacity),
        "form_key": "",
    }
    for name in MOMENTS:
        moment: datetime | None = getattr(meeting, name)
        if moment is None:
            values[f"{name}_date"] = values[f"{name}_time"] = ""
            continue
        local = to_paris(moment)
        day, clock = paris_parts(moment)
        if shift_days is None:
            day = ""
        elif shift_days:
            day = (local.date() + timedelta(days=shift_days)).isoformat()
        values[f"{name}_date"], values[f"{name}_time"] = day, clock
    if values["ends_at_date"] == values["starts_at_date"]:
        values["ends_at_date"] = ""  # same day: the form's default
    return values


def offsets(values: dict[str, str]) -> dict[str, str]:
    """For each moment's date typed, the Paris offset that date ("heure de Paris, UTC+2")."""
    shown = {}
    for name in MOMENTS:
        text = values.get(f"{name}_date") or (
            values.get("starts_at_date", "") if name == "ends_at" else ""
        )
        try:
            shown[name] = offset_label(_day(text)) if text else ""
        except ValueError:
            shown[name] = ""
    return shown
