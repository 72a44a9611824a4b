"""Per-client rate limits on every API request, counted where every worker sees the same count.

Each request to /api is counted against the rules of its kind (serving section of params.yaml):
- reads (GET): `read_rate_limit`; search and suggestions also `search_rate_limit` (each one runs the encoder);
- writes (POST, DELETE): `write_rate_limit`, one budget for all of them; creating a profile also
  `create_user_rate_limit`, signing in with a profile key also `sign_in_rate_limit`;
- every request: `rate_limit` when it is set.
Liveness, readiness, /metrics, CORS preflights and the web app's files are never limited. Over a limit: 429 with
Retry-After and the API's error body. Limits apply under production settings, or whenever `rate_limit` is set.

The counters live in one store for all workers (api/limit_store.py). When that store fails, the API does not fail
open: a write is refused (503 with Retry-After: nothing is written that the limits did not count) and a read is
counted in this worker's memory instead, so it stays limited, per worker, until the store answers again. After a
failure the store is left alone for `rate_limit_retry_s`, so an outage costs no time per request.

The client is the peer address, or with trusted proxies the address they forwarded (api/security.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, g, request
from limits import parse

from movie_genie.api.config import ServingConfig
from movie_genie.api.errors import error_response
from movie_genie.api.limit_store import (
    CounterStore,
    LimitStoreError,
    MemoryCounters,
    RedisCounters,
    SQLiteCounters,
)
from movie_genie.api.web import is_api_path
from movie_genie.config import Settings

log = logging.getLogger(__name__)

# Endpoints that monitoring must always reach, and what the limits do not cover.
EXEMPT_ENDPOINTS = frozenset({"metrics", "system.ping", "system.check_health"})
SEARCH_BLUEPRINT = "search"
PROFILE_CREATION = "users.create_user"
SIGN_IN = "sign_in.sign_in"
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Rule:
    """One limit: `amount` requests of a kind per `window_s` seconds per client."""

    scope: str  # the counter's name, e.g. "writes"
    what: str  # the requests it counts, in words for the 429 message
    amount: int
    window_s: int
    text: str  # as configured, e.g. "120 per minute"

    @classmethod
    def parse(cls, scope: str, what: str, text: str) -> Rule:
        """A rule from params.yaml's notation ("120 per minute", "10/hour")."""
        item = parse(text)
        return cls(scope, what, int(item.amount), int(item.get_expiry()), text)


@dataclass(frozen=True)
class Rules:
    """The configured rules by kind of request."""

    reads: Rule
    search: Rule
    writes: Rule
    sign_ups: Rule
    sign_ins: Rule
    every: Rule | None

    @classmethod
    def from_config(cls, config: ServingConfig) -> Rules:
        """Parse the serving section's limits."""
        return cls(
            reads=Rule.parse("reads", "reads", config.read_rate_limit),
            search=Rule.parse("search", "searches", config.search_rate_limit),
            writes=Rule.parse("writes", "writes", config.write_rate_limit),
            sign_ups=Rule.parse("sign-ups", "new profiles", config.create_user_rate_limit),
            sign_ins=Rule.parse("sign-ins", "sign-in attempts", config.sign_in_rate_limit),
            every=Rule.parse("all", "requests", config.rate_limit) if config.rate_limit else None,
        )

    def for_request(self, method: str, endpoint: str | None, blueprint: str | None) -> list[Rule]:
        """The rules a request counts against (its kind's, then the specific ones)."""
        rules = [self.every] if self.every else []
        if method in READ_METHODS:
            rules.append(self.reads)
            if blueprint == SEARCH_BLUEPRINT:
                rules.append(self.search)
        else:
            rules.append(self.writes)
            if endpoint == PROFILE_CREATION:
                rules.append(self.sign_ups)
            elif endpoint == SIGN_IN:
                rules.append(self.sign_ins)
        return rules


def make_store(settings: Settings) -> CounterStore:
    """Redis when RATE_LIMIT_REDIS_URL is set, else the server's shared SQLite file, else this process's memory."""
    if settings.rate_limit_redis_url:
        return RedisCounters(settings.rate_limit_redis_url)
    if settings.rate_limit_file is not None:
        return SQLiteCounters(Path(settings.rate_limit_file))
    return MemoryCounters()


class RateLimiter:
    """Counts each request against its rules; answers 429 over a limit, 503 for a write the store cannot count."""

    def __init__(self, rules: Rules, store: CounterStore, retry_s: float) -> None:
        self.rules = rules
        self.store = store
        self.retry_s = retry_s
        self._local = MemoryCounters()
        self._down_until = 0.0
        self._lock = threading.Lock()

    def store_down(self) -> bool:
        """Whether the shared store failed within the last `retry_s` seconds."""
        return time.time() < self._down_until

    def _count(self, key: str, rule: Rule, write: bool) -> tuple[int, float] | None:
        """Hits and window end from the shared store; for a read while it is down, from this worker's memory;
        None for a write it cannot count."""
        if not self.store_down():
            try:
                counted = self.store.hit(key, rule.window_s)
            except LimitStoreError as exc:
                with self._lock:
                    if not self.store_down():
                        log.warning(
                            "rate-limit store (%s) failed: %s; for %.0f s writes are refused and reads are limited "
                            "per worker",
                            self.store.name,
                            exc,
                            self.retry_s,
                        )
                    self._down_until = time.time() + self.retry_s
            else:
                return counted
        return None if write else self._local.hit(key, rule.window_s)

    def check(self, client: str, rules: list[Rule], write: bool) -> Response | None:
        """Count this request: None to let it through (headers recorded for the response), or the refusal."""
        tightest: tuple[Rule, int, float] | None = None
        for rule in rules:
            counted = self._count(f"{rule.scope}:{client}", rule, write)
            if counted is None:
                return self._unavailable()
            hits, ends = counted
            if hits > rule.amount:
                return self._limited(rule, ends)
            if tightest is None or rule.amount - hits < tightest[0].amount - tightest[1]:
                tightest = (rule, hits, ends)
        if tightest is not None:
            g.rate_limit_headers = _headers(*tightest)
        return None

    def _limited(self, rule: Rule, ends: float) -> Response:
        wait = max(1, math.ceil(ends - time.time()))
        response = error_response(
            429,
            "rate_limited",
            f"too many {rule.what} from this client: the limit is {rule.text}; try again in {wait} s",
            {"limit": rule.text, "scope": rule.scope, "retry_after_s": wait},
        )
        response.headers.update(_headers(rule, rule.amount, ends))
        response.headers["Retry-After"] = str(wait)
        return response

    def _unavailable(self) -> Response:
        wait = max(1, math.ceil(self._down_until - time.time()))
        response = error_response(
            503,
            "rate_limit_unavailable",
            f"writes are paused: the rate-limit store is not answering, so this write cannot be counted; "
            f"try again in {wait} s (reads still work)",
            {"retry_after_s": wait},
        )
        response.headers["Retry-After"] = str(wait)
        return response


def _headers(rule: Rule, hits: int, ends: float) -> dict[str, str]:
    """The limit closest to being reached: its size, what is left of it and seconds until its window ends."""
    return {
        "X-RateLimit-Limit": str(rule.amount),
        "X-RateLimit-Remaining": str(max(0, rule.amount - hits)),
        "X-RateLimit-Reset": str(max(0, math.ceil(ends - time.time()))),
    }


def client_address() -> str:
    """The client a limit counts for (ProxyFix has already put a trusted proxy's forwarded address here)."""
    return request.remote_addr or "unknown"


def init_rate_limits(app: Flask, settings: Settings, config: ServingConfig) -> RateLimiter | None:
    """Limit every API request per client under production settings or when `rate_limit` is set; else nothing."""
    if not (settings.production or config.rate_limit):
        return None
    limiter = RateLimiter(Rules.from_config(config), make_store(settings), config.rate_limit_retry_s)
    log.info("rate limits counted in %s", limiter.store.name)

    @app.before_request
    def _limit() -> Response | None:
        if request.method == "OPTIONS" or request.endpoint in EXEMPT_ENDPOINTS or not is_api_path(request.path):
            return None
        rules = limiter.rules.for_request(request.method, request.endpoint, request.blueprint)
        return limiter.check(client_address(), rules, write=request.method not in READ_METHODS)

    @app.after_request
    def _add_headers(response: Response) -> Response:
        headers = g.get("rate_limit_headers")
        if headers:
            response.headers.update(headers)
        return response

    return limiter
