"""Key-value stores that every process of the site shares (sessions, for now).

Redis when `REDIS_URL` is set: every process on every host sees the same data. Otherwise a
directory under `DATA_DIR`: Litestar's `FileStore` writes one file per key, renamed into
place, so the processes of one host share it without a server (the embedded default).
"""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from conseils.settings import get_settings

# A shared store must answer: a session lookup waits at most this long for Redis.
REDIS_TIMEOUT_S = 5.0


def shared_store(namespace: str) -> Store:
    """A store for `namespace` (a word: `sessions`), shared by every process of the site."""
    settings = get_settings()
    limits = settings.limits
    if limits.redis_url is not None:
        client = Redis.from_url(
            limits.redis_url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        return RedisStore(
            client, namespace=f"{limits.redis_prefix}{namespace}", handle_client_shutdown=True
        )
    return FileStore(settings.data_dir / namespace, create_directories=True)
