"""API output shapes derived from the services' dataclasses, so a field is declared once.

A service returns a frozen dataclass (`OutboxView`, `RegistrationView`, ...); the JSON API
answers a msgspec Struct (which Litestar documents in OpenAPI). `shape_of` builds that
Struct from the dataclass's own fields (names, types, order), leaving some out and adding
computed ones; `present` fills it from a view, showing every moment in Europe/Paris, as
the API always does.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar, get_type_hints

import msgspec

from conseils.timefmt import to_paris

S = TypeVar("S", bound=msgspec.Struct)


def shape_of(
    view: type,
    name: str,
    *,
    omit: Iterable[str] = (),
    add: dict[str, Any] | None = None,
) -> type[msgspec.Struct]:
    """A Struct named `name` with `view`'s fields (but `omit`), then `add`'s (name: type),
    defined in the caller's module (OpenAPI names it after the Struct)."""
    hints = get_type_hints(view)
    left_out = set(omit)
    fields = [
        (field.name, hints[field.name])
        for field in dataclasses.fields(view)
        if field.name not in left_out
    ]
    fields += list((add or {}).items())
    module = sys._getframe(1).f_globals.get("__name__", __name__)
    return msgspec.defstruct(name, fields, module=module)


def present(shape: type[S], view: object, **values: Any) -> S:
    """`shape` filled from `view`'s attributes of the same names (or `values`), moments in
    Europe/Paris."""
    filled = {}
    for name in shape.__struct_fields__:
        value = values[name] if name in values else getattr(view, name)
        filled[name] = to_paris(value) if isinstance(value, datetime) else value
    return shape(**filled)
