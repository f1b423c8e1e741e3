"""Capability tokens never reach the logs.

A manage link, a feed token, a subscription's confirm or unsubscribe link, a data-access
link (`conseils/urls.py` builds them all) is a credential written in a URL path. Access logs
are read by more people, and kept longer, than the inboxes those links go to: the access
log of `conseils serve` (uvicorn's) and our own error lines show such a path as
`/inscriptions/<jeton>/annuler`. README's deployment section gives the reverse proxy's
log format that does the same.
"""

from __future__ import annotations

import copy
import logging
import re

from uvicorn.config import LOGGING_CONFIG

# The first segment after these prefixes is a token (the longest prefix first: an address's
# feed is /agenda/adresse/<token>/…, a registration's /agenda/<token>/…).
CAPABILITY_PREFIXES = (
    "agenda/adresse", "inscriptions", "agenda", "abonnements", "mes-donnees",
    "animation/mot-de-passe",
)  # fmt: skip
_CAPABILITY = re.compile(r"(/(?:%s)/)[^/?#\s\"]+" % "|".join(CAPABILITY_PREFIXES))  # noqa: UP031
REDACTED = r"\1<jeton>"


def redact(path: str) -> str:
    """`path` (or a whole log line) with every capability token replaced by `<jeton>`."""
    return _CAPABILITY.sub(REDACTED, path)


class RedactCapabilities(logging.Filter):
    """A logging filter that rewrites capability tokens in a record's message and
    arguments (uvicorn's access records carry the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's logging configuration, its access log passed through the filter (given to
    `uvicorn.run`, so that every worker process applies it)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"capabilities": {"()": RedactCapabilities}}
    for handler in config["handlers"].values():
        handler["filters"] = ["capabilities"]
    return config
