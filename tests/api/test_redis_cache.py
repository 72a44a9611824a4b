"""The optional Redis cache (REDIS_URL), against the Redis server on loopback: shared by every worker process."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import redis
from flask import Flask

from movie_genie.api.app import create_app
from movie_genie.api.cache import RedisCache
from movie_genie.api.services import EXTENSION_KEY, Services

REDIS_URL = os.environ.get("MOVIE_GENIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The loopback Redis (skipped with a reason where none runs)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return REDIS_URL


def test_redis_cache_round_trip_and_expiry(redis_url: str) -> None:
    cache = RedisCache(redis_url, ttl_s=60, prefix=f"movie-genie-test:{uuid.uuid4().hex}:")
    assert cache.ping() and cache.get("k") is None
    cache.set("k", b"value")
    assert cache.get("k") == b"value"
    assert 0 < redis.Redis.from_url(redis_url).ttl(cache._prefix + "k") <= 60


def test_unreachable_redis_degrades_to_misses() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", ttl_s=60)
    cache.set("k", b"v")  # logged, not raised
    assert cache.get("k") is None and cache.ping() is False


def _worker_like_app(app: Flask, artefacts: Any, redis_url: str) -> Flask:
    """Another app (as another worker would build) sharing the loaded models but with its own Redis client."""
    loaded: Services = app.extensions[EXTENSION_KEY]
    settings = artefacts.settings(redis_url=redis_url)
    services = Services.load(settings, artefacts.params, artefacts.layout, loaded.config)
    return create_app(settings, artefacts.params, services=services)


def test_two_workers_share_answers_and_see_feedback(app: Flask, artefacts: Any, redis_url: str) -> None:
    first = _worker_like_app(app, artefacts, redis_url).test_client()
    second = _worker_like_app(app, artefacts, redis_url).test_client()
    data = first.post("/api/users", json={"liked_movie_ids": [1, 2, 3]}).get_json()["data"]
    created, owner = data["user"], {"Authorization": f"Bearer {data['secret']}"}
    url = f"/api/recommendations?user_id={created['user_id']}&model=popularity&k=5"
    answer = first.get(url, headers=owner).get_json()
    assert answer["meta"]["cached"] is False
    shared = second.get(url, headers=owner).get_json()
    assert shared["meta"]["cached"] is True and shared["data"] == answer["data"]  # computed by the other worker
    top = answer["data"]["items"][0]["movie"]["movie_id"]
    body = {"user_id": created["user_id"], "movie_id": top, "kind": "dislike"}
    assert second.post("/api/feedback", json=body, headers=owner).status_code == 201
    after = first.get(url, headers=owner).get_json()
    assert after["meta"]["cached"] is False
    assert top not in [i["movie"]["movie_id"] for i in after["data"]["items"]]
