"""The `serving` section of params.yaml as a typed object: the values live in params.yaml, the code declares only
their types, bounds and defaults."""

from __future__ import annotations

from pathlib import Path

from limits import parse
from pydantic import Field, field_validator

from movie_genie.config import Params, Section


class ServingConfig(Section):
    """How `movie-genie serve` runs; every field is read by the api package.

    The request bounds (k <= 100, q <= 200 characters, page sizes) are part of the API contract and live in
    `api.schemas`, where the OpenAPI spec shows them.
    """

    # gunicorn: one process per core; a few threads per worker overlap database I/O with inference.
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=4, ge=1, le=64)
    # torch intra-op threads per worker: more than one oversubscribes the CPU when several workers run.
    torch_threads: int = Field(default=1, ge=1, le=64)
    timeout_s: int = Field(default=60, ge=5)
    # Seconds a cached recommendation/search answer lives; feedback invalidates a user's entries at once.
    cache_ttl_s: int = Field(default=300, ge=0)
    # Entries per worker in the in-process cache (used when REDIS_URL is not set).
    cache_max_entries: int = Field(default=20_000, ge=0)
    # Most recent interactions a model sees (the database keeps them all).
    history_limit: int = Field(default=200, ge=1)
    # Largest request body accepted (bytes); bigger ones get 413.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Rate limits per client address (api/rate_limits.py), in the notation "120 per minute". They apply under
    # production settings (MOVIE_GENIE_ENV=production), or whenever `rate_limit` is set: a limit on every API
    # request (null: none beyond the ones below). Reads (GET) and, on top, searches and suggestions (each runs the
    # encoder) are limited generously; writes (POST and DELETE together) less so; creating a profile and signing in
    # with a profile key (a person types a key a few times, a guesser many) have their own, small limits.
    rate_limit: str | None = None
    read_rate_limit: str = "1200 per minute"
    search_rate_limit: str = "300 per minute"
    write_rate_limit: str = "120 per minute"
    create_user_rate_limit: str = "10 per hour"
    sign_in_rate_limit: str = "10 per minute"
    # After the counters' store fails, writes are refused (503, Retry-After) and reads counted per worker for this
    # long before the store is asked again.
    rate_limit_retry_s: float = Field(default=5.0, gt=0, le=300)
    # The built web app (`npm run build` in web/), served at / by the same server.
    web_dist: Path = Path("web/dist")
    # Extra image hosts allowed by the Content-Security-Policy (TMDB posters).
    image_hosts: tuple[str, ...] = ("https://image.tmdb.org",)
    # Impressions (online evaluation, online/impressions.py): log every served list; a background thread per worker
    # writes the queued ones every `impression_flush_ms` or once `impression_batch` are waiting, in one transaction.
    log_impressions: bool = True
    impression_flush_ms: int = Field(default=250, ge=10, le=60_000)
    impression_batch: int = Field(default=200, ge=1, le=10_000)
    # Queued impressions beyond this are dropped (and counted) rather than grow memory while the database is down.
    impression_queue_max: int = Field(default=20_000, ge=1)
    # A rating or mark without an impression id is attributed to the user's newest impression that showed the film
    # within this many hours.
    attribution_window_h: float = Field(default=24.0, gt=0)

    # Each worker checks artifacts/versions/serving.json this often and swaps in newly promoted model versions
    # without a restart (`movie-genie models promote`); 0 switches hot reload off.
    reload_poll_s: float = Field(default=2.0, ge=0)

    @field_validator(
        "rate_limit", "read_rate_limit", "search_rate_limit", "write_rate_limit", "create_user_rate_limit",
        "sign_in_rate_limit",
    )  # fmt: skip
    @classmethod
    def _rate_limit_notation(cls, value: str | None) -> str | None:
        if value is not None:
            parse(value)  # ValueError naming the text it could not read
        return value

    @classmethod
    def from_params(cls, params: Params) -> ServingConfig:
        """Validate params.yaml's `serving` section; raise ConfigError naming the bad key."""
        return params.validated("serving", cls)
