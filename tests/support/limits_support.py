"""Turn the abuse limits on for one test: the suite runs with RATE_LIMIT_PER_MINUTE=0.

`with_limits(**environment)` sets variables, reads the settings afresh and drops this
process's counter store (so that it is made again from the new settings); on leaving, the
environment, settings and store are as before. Counters live under this run's REDIS_PREFIX.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from conseils.counters import close_counters, counters
from conseils.settings import get_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.asynccontextmanager
async def with_limits(**environment: str) -> AsyncIterator[None]:
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    get_settings.cache_clear()
    await close_counters()
    try:
        await counters().clear()
        yield
    finally:
        await counters().clear()
        await close_counters()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
