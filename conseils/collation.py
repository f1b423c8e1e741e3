"""Sorting names as a French reader expects: « Couronne Nord » among the C, Évian among the
E. Accents, case, guillemets and other punctuation are ignored; numbers stay in place."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def french_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = letters.replace("œ", "oe").replace("æ", "ae")
    return _NOT_WORD.sub(" ", letters).strip()
