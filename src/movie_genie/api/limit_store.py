"""Where rate-limit counters live: fixed-window counters that every worker of the server shares.

- `RedisCounters`: a Redis server of its own (RATE_LIMIT_REDIS_URL) whose maxmemory-policy is `noeviction`. An
  evicting policy would drop counters under memory pressure, and a dropped counter is a reset limit: such a server
  is refused at start. (The answer cache keeps its own `allkeys-lru` Redis: one server cannot have both policies.)
- `SQLiteCounters`: without Redis, a SQLite file that `movie-genie serve` creates for its workers, so every worker
  on the machine counts in one place (SQLite serialises the writers).
- `MemoryCounters`: one process's own counters: the single-process server (tests, a development server) and each
  worker's fallback for reads while the shared store is down.

A store raises `LimitStoreError` when it cannot count; the limiter (api/rate_limits.py) decides what that means.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

import redis

from movie_genie.config import ConfigError

log = logging.getLogger(__name__)

REDIS_PREFIX = "movie-genie-limits:"
# Seconds a Redis call may take: a slow store must not make every request slow (the limiter then stops asking it).
REDIS_TIMEOUT_S = 0.25
# Expired SQLite rows are deleted every this many hits (cheap: one indexed DELETE).
SQLITE_SWEEP_EVERY = 1000


class LimitStoreError(Exception):
    """The counter store did not answer (down, unreachable, full, locked too long)."""


class CounterStore(Protocol):
    """Fixed-window counters: a key's window starts at its first hit and lasts `window_s`."""

    name: str

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count one hit on `key`: the hits in its current window (this one included) and when it ends (epoch s)."""
        ...


class MemoryCounters:
    """Counters in this process only (thread-safe)."""

    name = "memory"

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count a hit; expired windows are dropped as they are met and when the table grows."""
        now = time.time()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window_s
            self._windows[key] = (count + 1, ends)
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            return count + 1, ends


class SQLiteCounters:
    """Counters in a SQLite file shared by the worker processes of one server on one machine."""

    name = "sqlite"

    def __init__(self, path: Path, busy_timeout_s: float = 1.0) -> None:
        self.path = path
        # One connection per process, used under a lock (gthread workers run requests on several threads).
        # Autocommit: each statement below is its own atomic transaction.
        self._db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._hits = 0
        try:
            # WAL lets the other workers read while one writes; the counters need no durability (a power cut
            # resets them), so no fsync per hit.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, hits INTEGER NOT NULL, ends REAL NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot use {path} for rate-limit counters: {exc}") from exc

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count a hit in one upsert (a window that has ended starts again at 1)."""
        now = time.time()
        try:
            with self._lock:
                row = self._db.execute(
                    "INSERT INTO counters (key, hits, ends) VALUES (:key, 1, :ends) ON CONFLICT (key) DO UPDATE SET"
                    " hits = CASE WHEN ends <= :now THEN 1 ELSE hits + 1 END,"
                    " ends = CASE WHEN ends <= :now THEN :ends ELSE ends END"
                    " RETURNING hits, ends",
                    {"key": key, "now": now, "ends": now + window_s},
                ).fetchone()
                self._hits += 1
                if self._hits % SQLITE_SWEEP_EVERY == 0:
                    self._db.execute("DELETE FROM counters WHERE ends <= ?", (now,))
        except sqlite3.Error as exc:
            raise LimitStoreError(f"rate-limit counters in {self.path}: {exc}") from exc
        return int(row[0]), float(row[1])


class RedisCounters:
    """Counters in a Redis server kept for them (`noeviction`), shared by every worker on every machine."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S, health_check_interval=30
        )
        self._check_policy()

    def _check_policy(self) -> None:
        """Refuse a server that may evict counters; warn when the policy cannot be read (down, CONFIG renamed)."""
        try:
            policy = self._client.config_get("maxmemory-policy").get("maxmemory-policy")
        except redis.RedisError as exc:
            log.warning("cannot read the rate-limit Redis's maxmemory-policy (%s); it must be noeviction", exc)
            return
        if policy != "noeviction":
            raise ConfigError(
                f"the rate-limit Redis (RATE_LIMIT_REDIS_URL) has maxmemory-policy {policy!r}: under memory "
                "pressure it would evict counters and so reset limits. Give the counters a Redis server of their "
                "own started with --maxmemory-policy noeviction (deploy/docker-compose.yml does)."
            )

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """INCR, then start the window's expiry if this hit opened it, in one transaction."""
        name = REDIS_PREFIX + key
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, window_s, nx=True)
            pipe.pttl(name)
            hits, _, ttl_ms = pipe.execute()
        except redis.RedisError as exc:
            raise LimitStoreError(f"rate-limit Redis: {exc}") from exc
        return int(hits), time.time() + max(int(ttl_ms), 0) / 1000
