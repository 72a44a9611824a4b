"""The production configuration over HTTP: health, recommendations, feedback, cache invalidation, metrics.

Each test runs against both configurations of the `server` fixture (tests/deploy/conftest.py): gunicorn with 2
workers on PostgreSQL + Redis, and on SQLite + the in-process cache. "Every worker" means answers carrying every
distinct X-Instance header the app sets (one opaque id per worker process).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.artefacts import Artefacts
from tests.deploy.conftest import ADMIN, MOVIE_GENIE, WORKERS, Server, server_env


def _items(body: dict[str, Any]) -> list[int]:
    return [item["movie"]["movie_id"] for item in body["data"]["items"]]


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Exposition text -> {sample name: [(labels, value)]} (the names as PromQL sees them: _bucket, _total...)."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lbl, v in samples.get(name, []) if all(lbl.get(k) == want for k, want in labels.items()))


def test_entrypoint_prepared_the_database(server: Server) -> None:
    log = server.log.read_text(errors="replace")
    upgrade = next((line for line in log.splitlines() if "is at revision" in line), None)
    load = next((line for line in log.splitlines() if " loaded in " in line), None)
    assert upgrade is not None and load is not None, log[:3000]
    assert ("postgresql" if server.redis_url else "sqlite") in upgrade.lower(), upgrade
    assert " movies, " in load and " ratings" in load, load
    assert log.index(load) < log.index("Starting gunicorn"), "gunicorn started before the data was loaded"


def test_restart_reloads_nothing(server: Server, artefacts: Artefacts) -> None:
    # A container restart runs the entry point again: the load must see the data is already there.
    env = server_env(server.database_url, server.redis_url)
    result = subprocess.run(
        [MOVIE_GENIE, "db", "load"], cwd=artefacts.root, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "already up to date" in result.stdout, result.stdout


def test_health_reports_database_models_index_and_cache(server: Server) -> None:
    for body in server.from_every_worker("/api/health").values():
        checks = body[0]["data"]["checks"]
        assert body[0]["data"]["status"] == "ready" and not body[0]["data"]["degraded"], checks
        assert checks["database"]["ok"] and checks["search_index"]["ok"], checks
        assert checks["cache"] == {"ok": True, "detail": "redis" if server.redis_url else "local"}
        assert all(c["ok"] for name, c in checks.items() if name.startswith("model:")), checks


def test_every_loaded_model_recommends_the_same_in_every_worker(server: Server) -> None:
    status, _, body = server.get("/api/models")
    assert status == 200, body
    loaded = [m["api_name"] for m in body["data"]["models"] if m["loaded"]]
    assert {"popularity", "ease", "two_tower", "bert4rec", "hybrid"} <= set(loaded), loaded
    for model in loaded:
        answers = server.from_every_worker(f"/api/recommendations?user_id=7&model={model}&k=10")
        distinct = {json.dumps(b["data"]["items"]) for bodies in answers.values() for b in bodies}
        assert len(distinct) == 1, f"{model}: workers disagree"
        ids = _items(next(iter(answers.values()))[0])
        assert len(ids) == 10 and len(set(ids)) == 10, (model, ids)


@pytest.mark.parametrize(
    ("user_id", "model", "kind"),
    [(12, "ease", "watched"), (13, "two_tower", "dislike"), (14, "hybrid", "rating")],
)
def test_feedback_invalidates_the_cache_in_every_worker(server: Server, user_id: int, model: str, kind: str) -> None:
    url = f"/api/recommendations?user_id={user_id}&model={model}&k=8"
    status, _, first = server.get(url)
    assert status == 200, first
    before = server.from_every_worker(url)
    answers = [b for bodies in before.values() for b in bodies]
    assert {json.dumps(b["data"]["items"]) for b in answers} == {json.dumps(first["data"]["items"])}
    uncached = sum(not b["meta"]["cached"] for b in answers)
    if server.redis_url:
        # One shared cache: the first answer serves every later request, whichever worker takes it.
        assert uncached == 0, f"{uncached} answers recomputed although Redis held the first one"
    else:
        # One cache per worker: at most one computation per worker (each concurrent miss may compute once more).
        assert uncached < len(answers), "no answer was ever served from a worker's cache"

    top = _items(first)[0]
    feedback: dict[str, Any] = {"user_id": user_id, "movie_id": top, "kind": kind}
    if kind == "rating":
        feedback["value"] = 4.0  # a liking: an interaction (a rating of 2★ or less would leave the history)
    status, _, event = server.post("/api/feedback", feedback, ADMIN)
    assert status == 201 and event["data"]["movie_id"] == top, event

    status, _, fresh = server.get(url)
    assert status == 200 and fresh["meta"]["cached"] is False, "the answer after feedback came from the cache"
    after = server.from_every_worker(url)
    assert len(after) == WORKERS
    for bodies in after.values():
        for body in bodies:
            assert top not in _items(body), f"a worker served {model} recommendations that ignore the {kind}"
            if kind != "dislike":
                assert body["meta"]["history_size"] == first["meta"]["history_size"] + 1


def test_new_user_is_known_to_every_worker(server: Server) -> None:
    liked = [1, 50, 100]
    status, _, created = server.post("/api/users", {"liked_movie_ids": liked})
    assert status == 201, created
    user_id = created["data"]["user"]["user_id"]
    owner = {"Authorization": f"Bearer {created['data']['secret']}"}  # an app profile's recommendations are its own
    for bodies in server.from_every_worker(f"/api/users/{user_id}").values():
        assert bodies[0]["data"]["user_id"] == user_id
    url = f"/api/recommendations?user_id={user_id}&model=two_tower&k=10"
    answers = server.from_every_worker(url, headers=owner)
    distinct = {json.dumps(b["data"]["items"]) for bodies in answers.values() for b in bodies}
    assert len(distinct) == 1
    assert not set(liked) & set(_items(next(iter(answers.values()))[0]))


def test_production_settings_make_movielens_profiles_read_only(server: Server) -> None:
    status, _, access = server.get("/api/access")
    assert status == 200 and access["data"]["demo_mode"] is False, access
    status, _, body = server.post("/api/feedback", {"user_id": 3, "movie_id": 1, "kind": "like"})
    assert status == 403 and body["error"]["code"] == "demo_profile_read_only", body
    # A profile created in the app is written with its own secret.
    status, _, created = server.post("/api/users", {"liked_movie_ids": [1, 2, 3]})
    assert status == 201, created
    owner = {"Authorization": f"Bearer {created['data']['secret']}"}
    mark = {"user_id": created["data"]["user"]["user_id"], "movie_id": 4, "kind": "like"}
    assert server.post("/api/feedback", mark)[0] == 401
    assert server.post("/api/feedback", mark, owner)[0] == 201


def test_errors_are_json_with_security_headers_under_gunicorn(server: Server) -> None:
    status, headers, body = server.get("/api/recommendations?user_id=99999999&model=ease&k=5")
    assert status == 404 and body["error"]["code"] == "not_found", body
    assert headers["Content-Type"].startswith("application/json")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, body = server.post("/api/feedback", {"user_id": 1, "movie_id": 1, "kind": "nonsense"})
    assert status == 400 and body["error"]["message"], body


def test_redis_holds_the_shared_cache(server: Server, redis_client: redis.Redis) -> None:
    if not server.redis_url:
        pytest.skip("the sqlite-local configuration caches in each worker's memory, not in Redis")
    url = "/api/recommendations?user_id=21&model=popularity&k=5"
    assert server.get(url)[0] == 200
    keys = [k.decode() for k in redis_client.scan_iter(match="movie-genie:*", count=1000)]
    assert any(":rec:popularity:" in k and ":21:" in k for k in keys), keys[:20]
    assert all(redis_client.ttl(k) > 0 for k in keys[:50])


def test_metrics_aggregate_every_worker(server: Server) -> None:
    url = "/api/recommendations?user_id=22&model=ease&k=5"
    answers = server.from_every_worker(url)
    sent = sum(len(b) for b in answers.values())
    assert server.post("/api/feedback", {"user_id": 22, "movie_id": 1, "kind": "like"}, ADMIN)[0] == 201
    samples = _samples(server.text("/metrics"))
    route = "/api/recommendations"
    assert _total(samples, "movie_genie_http_request_duration_seconds_count", route=route, status="200") >= sent
    assert _total(samples, "movie_genie_cache_requests_total", cache="recommendations", result="hit") >= 1
    assert _total(samples, "movie_genie_cache_requests_total", cache="recommendations", result="miss") >= 1
    assert _total(samples, "movie_genie_model_inference_seconds_count", model="ease", operation="recommend") >= 1
    assert _total(samples, "movie_genie_feedback_events_total", kind="like") >= 1
