"""One log line per kind of failure per interval: an outage that fails every request (or
every retry) says so once a minute, not once per request with a traceback each."""

from __future__ import annotations

import logging
import time


class Complaints:
    def __init__(self, logger: logging.Logger, every_s: float = 60.0) -> None:
        self.logger = logger
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._silenced: dict[str, int] = {}

    def complain(self, kind: str, message: str, *args: object) -> bool:
        """Log `message` at ERROR unless `kind` was logged less than `every_s` ago (then
        count it, and say how many were left out the next time). True when logged."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.every_s:
            self._silenced[kind] = self._silenced.get(kind, 0) + 1
            return False
        self._last[kind] = now
        left_out = self._silenced.pop(kind, 0)
        if left_out:
            message += " (%d more since the last report)"
            args = (*args, left_out)
        self.logger.error(message, *args)
        return True
