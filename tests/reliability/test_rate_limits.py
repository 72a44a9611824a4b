"""Rate limits that hold: one count for every worker, no failing open, counters apart from the cache, reads limited.

Each test reproduces one way the limits did not hold before (a note on each says how the old code failed it):
- without Redis each gunicorn worker counted for itself, so N workers allowed N times the limit;
- with the counters' Redis down every request went through (the limiter swallowed the error: fail open);
- the counters shared the cache's `allkeys-lru` Redis, so cache pressure evicted them and reset the limits;
- reads and searches had no limit at all.
Real servers throughout: `movie-genie serve` with 2 workers, and throw-away redis-server processes on loopback.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from flask import Flask

from movie_genie.api.app import create_app
from movie_genie.api.limit_store import REDIS_PREFIX
from movie_genie.api.services import EXTENSION_KEY
from movie_genie.config import ConfigError
from tests.artefacts import Artefacts
from tests.live_server import LiveServer, free_port
from tests.reliability.redis_server import RedisServer

MOVIE_GENIE = str(Path(sys.executable).with_name("movie-genie"))
PRODUCTION = {"production": True, "demo_mode": False}
WRONG_KEY = {"key": "not-a-profile-key"}  # POST /api/sign-in: a 401 that writes nothing, counted as a write


@pytest.fixture(scope="module")
def database(artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's own copy of the session database: its servers write sign-ins and sign-ups to it."""
    return f"sqlite:///{artefacts.database_copy(tmp_path_factory.mktemp('rate-limits-db'))}"


@pytest.fixture(scope="module")
def loaded(artefacts: Artefacts, database: str) -> Flask:
    """The session's artefacts loaded once; each test builds its app around these services."""
    return create_app(artefacts.settings(database_url=database), artefacts.params)


def production_app(loaded: Flask, artefacts: Artefacts, settings: dict[str, Any], **serving: Any) -> Flask:
    """An app under production settings (limits on) with these settings and serving values."""
    services = loaded.extensions[EXTENSION_KEY]
    app = create_app(
        artefacts.settings(**PRODUCTION, **settings, database_url=str(services.db.engine.url)),
        artefacts.with_serving(**serving),
        services=services,
    )
    app.config["TESTING"] = False
    return app


def from_address(address: str) -> dict[str, Any]:
    """Keyword arguments that make a test-client request come from `address`."""
    return {"environ_base": {"REMOTE_ADDR": address}}


# --- one count for every worker -------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def two_workers(
    request: pytest.FixtureRequest, artefacts: Artefacts, database: str, tmp_path: Path
) -> Iterator[LiveServer]:
    """`movie-genie serve` with 2 workers under production settings, sign-ins limited to 6 a minute per client,
    the counters in the server's shared SQLite file (no Redis) or in a Redis of their own."""
    raw = yaml.safe_load(artefacts.params_file.read_text(encoding="utf-8"))
    raw["serving"] = {**raw.get("serving", {}), "sign_in_rate_limit": "6 per minute"}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "RATE_LIMIT_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    # One trusted proxy: each round below is a new client, named in X-Forwarded-For.
    env.update(DATABASE_URL=database, MOVIE_GENIE_ENV="production", MOVIE_GENIE_TRUSTED_PROXIES="1")
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    store = None
    if request.param == "redis":
        store = RedisServer.start_new(tmp_path / "redis", "--maxmemory-policy", "noeviction")
        env["RATE_LIMIT_REDIS_URL"] = store.url
    port = free_port()
    command = [MOVIE_GENIE, "--params", str(params), "serve", "--host", "127.0.0.1", "--port", str(port)]
    try:
        with LiveServer.start(
            [*command, "--workers", "2"], port=port, workers=2, env=env, log=tmp_path / "log"
        ) as server:
            yield server
    finally:
        if store is not None:  # also when the server did not start
            store.stop()


def test_two_workers_allow_the_limit_once_not_twice(two_workers: LiveServer) -> None:
    """Old code: flask-limiter's memory:// storage per worker let 6 + 6 sign-in attempts through."""
    for round_ in range(5):
        client = [{"X-Forwarded-For": f"198.51.100.{round_ + 1}"}] * 30
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda headers: two_workers.post("/api/sign-in", WRONG_KEY, headers), client))
        workers = {headers["X-Instance"] for _, headers, _ in answers}
        if len(workers) < 2:
            continue  # one worker took every connection: this round shows nothing about sharing
        statuses = [status for status, _, _ in answers]
        assert statuses.count(401) == 6 and statuses.count(429) == 24, statuses
        limited = next(body for status, _, body in answers if status == 429)
        assert limited["error"]["code"] == "rate_limited" and limited["error"]["details"]["scope"] == "sign-ins"
        return
    pytest.fail("5 rounds of 30 concurrent requests never reached both workers")


# --- no failing open -------------------------------------------------------------------------------------------


@pytest.fixture(params=["redis-down", "sqlite-locked"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """The settings of a counters' store, and two functions: break it, mend it."""
    if request.param == "redis-down":
        server = RedisServer.start_new(tmp_path / "redis", "--maxmemory-policy", "noeviction")
        try:
            yield {"rate_limit_redis_url": server.url}, server.stop, server.start
        finally:
            server.stop()
        return
    path = tmp_path / "limits.db"
    holder: list[sqlite3.Connection] = []

    def lock() -> None:  # another process holding the write lock longer than the busy timeout
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        holder.append(conn)

    def unlock() -> None:
        holder.pop().execute("ROLLBACK")

    yield {"rate_limit_file": path}, lock, unlock
    for conn in holder:
        conn.close()


def test_a_failed_store_refuses_writes_and_keeps_reads_limited(
    loaded: Flask, artefacts: Artefacts, outage: tuple[dict[str, Any], Any, Any]
) -> None:
    """Old code (swallow_errors=True): with Redis down every write and read went through, unlimited."""
    settings, break_store, mend_store = outage
    app = production_app(loaded, artefacts, settings, read_rate_limit="4 per minute", rate_limit_retry_s=0.5)
    client = app.test_client()
    me = from_address("192.0.2.10")
    assert client.post("/api/sign-in", json=WRONG_KEY, **me).status_code == 401
    assert client.get("/api/genres", **me).status_code == 200

    break_store()
    refused = client.post("/api/sign-in", json=WRONG_KEY, **me)
    assert refused.status_code == 503
    body = refused.get_json()["error"]
    assert body["code"] == "rate_limit_unavailable" and "try again" in body["message"]
    assert refused.headers["Retry-After"] == "1" and body["details"]["retry_after_s"] == 1  # rate_limit_retry_s
    # Reads go on, limited in this worker's memory: 4 a minute here (the store's count is out of reach).
    reads = [client.get("/api/genres", **me).status_code for _ in range(6)]
    assert reads == [200, 200, 200, 200, 429, 429]
    assert client.get("/api/ping", **me).status_code == 200  # liveness is never limited

    mend_store()
    time.sleep(0.6)  # rate_limit_retry_s: the store is asked again
    assert client.post("/api/sign-in", json=WRONG_KEY, **me).status_code == 401


# --- counters apart from the cache -----------------------------------------------------------------------------


def test_cache_pressure_does_not_reset_a_limit(loaded: Flask, artefacts: Artefacts, tmp_path: Path) -> None:
    """Old code: the counters lived in the cache's allkeys-lru Redis; filling the cache evicted them and the
    limited client got a fresh budget."""
    with ExitStack() as stack:
        cache = RedisServer.start_new(tmp_path / "cache", "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
        stack.callback(cache.stop)
        limits = RedisServer.start_new(tmp_path / "limits", "--maxmemory-policy", "noeviction")
        stack.callback(limits.stop)
        settings = {"redis_url": cache.url, "rate_limit_redis_url": limits.url}
        app = production_app(loaded, artefacts, settings, sign_in_rate_limit="3 per hour")
        client = app.test_client()
        me = from_address("192.0.2.20")
        statuses = [client.post("/api/sign-in", json=WRONG_KEY, **me).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        filler = redis.Redis.from_url(cache.url)
        for i in range(400):  # 400 x 16 kB into a 2 MB cache: most keys are evicted
            filler.set(f"movie-genie:pressure:{i}", b"x" * 16_384)
        assert filler.dbsize() < 400, "the cache server did not evict: the test shows nothing"
        filler.close()
        assert client.post("/api/sign-in", json=WRONG_KEY, **me).status_code == 429
        kept = redis.Redis.from_url(limits.url)
        assert kept.keys(f"{REDIS_PREFIX}sign-ins:*"), "the counter is in the limits' own Redis"
        kept.close()


def test_a_store_that_evicts_is_refused_at_start(loaded: Flask, artefacts: Artefacts, tmp_path: Path) -> None:
    evicting = RedisServer.start_new(tmp_path / "lru", "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    try:
        with pytest.raises(ConfigError, match="noeviction"):
            production_app(loaded, artefacts, {"rate_limit_redis_url": evicting.url})
    finally:
        evicting.stop()


# --- reads and searches are limited ----------------------------------------------------------------------------


def test_reads_and_searches_are_limited_per_client(loaded: Flask, artefacts: Artefacts) -> None:
    """Old code: only feedback writes, sign-ups and sign-ins had a limit; any number of reads went through."""
    app = production_app(loaded, artefacts, {}, read_rate_limit="5 per minute", search_rate_limit="2 per minute")
    client = app.test_client()
    me, other = from_address("192.0.2.30"), from_address("192.0.2.31")
    first = client.get("/api/genres", **me)
    assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "5"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert [client.get("/api/movies/1", **me).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    limited = client.get("/api/genres", **me)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    error = limited.get_json()["error"]
    assert error["code"] == "rate_limited" and "5 per minute" in error["message"]
    assert client.get("/api/genres", **other).status_code == 200  # per client
    assert client.get("/api/health", **me).status_code in (200, 503)  # readiness is never limited

    # Searches count against the read limit and, on top, the search limit (the 429 comes before any search runs).
    searches = [client.get("/api/search?q=space", **other).status_code for _ in range(3)]
    assert searches == [200, 200, 429], searches


def test_limits_are_read_from_params_and_checked(artefacts: Artefacts) -> None:
    with pytest.raises(ConfigError, match="read_rate_limit"):
        create_app(artefacts.settings(**PRODUCTION), artefacts.with_serving(read_rate_limit="lots per minute"))


def test_settings_take_the_limits_redis_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_genie.config import Settings

    monkeypatch.setenv("RATE_LIMIT_REDIS_URL", "redis://:secret@limits:6379/0")
    assert Settings.from_env().rate_limit_redis_url == "redis://:secret@limits:6379/0"
