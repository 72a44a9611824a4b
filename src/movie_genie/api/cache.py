"""Response cache for the expensive reads (recommendations, search, similar movies).

Redis when REDIS_URL is set (shared by every worker), else a per-process TTL cache. Correctness never depends on
the cache: keys that depend on a user carry that user's feedback version, read from the database on every request,
so a new feedback event changes the key in every worker at once and stale entries simply expire.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import redis
from cachetools import TTLCache

log = logging.getLogger(__name__)


class Cache(Protocol):
    """Bytes in, bytes out, with a time to live."""

    name: str

    def get(self, key: str) -> bytes | None:
        """The cached value, or None on a miss (or when the cache is unreachable)."""
        ...

    def set(self, key: str, value: bytes) -> None:
        """Store a value for the configured time to live (errors are logged, never raised)."""
        ...

    def ping(self) -> bool:
        """Whether the cache backend answers."""
        ...


class LocalCache:
    """A thread-safe in-process TTL + LRU cache (one per worker process)."""

    name = "local"

    def __init__(self, ttl_s: int, max_entries: int) -> None:
        self._enabled = ttl_s > 0 and max_entries > 0
        self._data: TTLCache[str, bytes] = TTLCache(maxsize=max(max_entries, 1), ttl=max(ttl_s, 1))
        # cachetools caches are not thread-safe; gunicorn's gthread workers serve several requests at once.
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The cached value or None."""
        if not self._enabled:
            return None
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: bytes) -> None:
        """Store a value until its time to live passes or it is evicted."""
        if self._enabled:
            with self._lock:
                self._data[key] = value

    def ping(self) -> bool:
        """Always reachable."""
        return True


class RedisCache:
    """Redis-backed cache shared by every worker; a Redis outage degrades to misses, never to errors."""

    name = "redis"

    def __init__(self, url: str, ttl_s: int, prefix: str = "movie-genie:") -> None:
        # Short timeouts: a slow cache must not make the API slower than computing the answer.
        self._client = redis.Redis.from_url(url, socket_timeout=0.05, socket_connect_timeout=0.2)
        self._ttl = ttl_s
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        """The cached value, or None on a miss or when Redis does not answer."""
        if self._ttl <= 0:
            return None
        try:
            value = self._client.get(self._prefix + key)
        except redis.RedisError as exc:
            log.warning("redis get failed (%s); computing the answer instead", exc)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        """Store with the configured expiry."""
        if self._ttl <= 0:
            return
        try:
            self._client.set(self._prefix + key, value, ex=self._ttl)
        except redis.RedisError as exc:
            log.warning("redis set failed (%s); the answer is not cached", exc)

    def ping(self) -> bool:
        """Whether Redis answers PING."""
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False


def make_cache(redis_url: str | None, ttl_s: int, max_entries: int, namespace: str = "") -> Cache:
    """Redis when a URL is configured, else the in-process cache."""
    if redis_url:
        return RedisCache(redis_url, ttl_s, prefix=f"movie-genie:{namespace}:")
    return LocalCache(ttl_s, max_entries)
