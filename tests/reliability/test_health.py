"""Liveness and readiness (issue 31, part 4): /api/ping says the process answers; /api/health is ready (200) while
every capability (recommendations, similar films, search, the database) has something serving it along its fallback
chain, and 503 only when one has nothing. Missing artefacts never put a server path, file name or module name in a
response body: the server log has them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Params
from movie_genie.models.catalogue import CATALOGUE
from tests.artefacts import Artefacts

CAPABILITIES = {"recommendations", "similar_films", "search", "database"}


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _params_with_artifacts(artefacts: Artefacts, artifacts_dir: Path) -> Params:
    raw = artefacts.params.model_dump(mode="json")
    raw["paths"] = {**raw["paths"], "artifacts_dir": str(artifacts_dir)}
    return Params.model_validate(raw)


def _artifacts_without(artefacts: Artefacts, tmp_path: Path, *missing: str) -> Path:
    """A copy of the artefacts folder (links to the real files) without the files or folders in `missing`."""
    source = artefacts.layout.artifacts_dir
    target = tmp_path / "artifacts"
    for path in source.rglob("*"):
        relative = path.relative_to(source).as_posix()
        if any(relative == m or relative.startswith(f"{m}/") for m in missing):
            continue
        copy = target / relative
        if path.is_dir():
            copy.mkdir(parents=True, exist_ok=True)
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.symlink_to(path)
    return target


def _app_without(artefacts: Artefacts, tmp_path: Path, *missing: str) -> Flask:
    params = _params_with_artifacts(artefacts, _artifacts_without(artefacts, tmp_path, *missing))
    app = create_app(artefacts.settings(), params)
    app.config["TESTING"] = False
    app.validate_response = True  # type: ignore[attr-defined]
    return app


# Anything that tells a client how the server is laid out: a path, a file name, a module or a traceback.
_LEAKS = re.compile(r"/|\\|\.pt\b|\.py\b|\.npz\b|\.faiss\b|\.onnx\b|\.parquet\b|movie_genie\.|Traceback|sqlite3")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _assert_no_internals(response: Any, *also: str) -> None:
    """No string of the JSON body names a path, a file, a module or a stack (nor the test's own folders)."""
    body = response.get_json()
    text = response.get_data(as_text=True)
    for hidden in also:
        assert hidden not in text, text
    for value in _strings(body):
        assert not _LEAKS.search(value), f"{value!r} in {text}"


# --- liveness ----------------------------------------------------------------------------------------------------


def test_ping_is_liveness_and_answers_with_every_model_gone(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(_services(app).models.models):
        monkeypatch.delitem(_services(app).models.models, name)
    response = client.get("/api/ping")
    assert response.status_code == 200 and response.get_json()["data"] == {"status": "ok"}


# --- readiness ---------------------------------------------------------------------------------------------------


def test_health_is_ready_with_every_capability_served(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert data["status"] == "ready"
    assert set(data["capabilities"]) == CAPABILITIES
    assert all(c["ok"] and c["served_by"] for c in data["capabilities"].values()), data["capabilities"]
    assert data["capabilities"]["recommendations"]["served_by"] == CATALOGUE.fallback()[0]
    assert data["capabilities"]["similar_films"]["served_by"] == "two_tower"
    # The per-dependency checks are still there.
    assert {"database", "search_index", "cache", "model:popularity"} <= set(data["checks"])


def test_health_stays_ready_when_a_model_is_missing_but_its_fallback_serves(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used to be a 503 (one model missing), which failed the Docker health check although every list was served."""
    models = _services(app).models
    for name in ("hybrid", "two_tower"):
        monkeypatch.delitem(models.models, name)
    response = client.get("/api/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert data["status"] == "ready" and data["degraded"]
    recommendations = data["capabilities"]["recommendations"]
    assert recommendations["ok"] and recommendations["served_by"] == "ease"
    assert {"hybrid", "two_tower"} <= set(recommendations["missing"])
    assert "EASE" in recommendations["detail"] and "Hybrid" in recommendations["detail"]
    similar = data["capabilities"]["similar_films"]
    assert similar["ok"] and similar["served_by"] == "content" and similar["missing"] == ["two_tower"]
    assert not data["checks"]["model:two_tower"]["ok"]  # still reported per dependency


def test_health_is_503_when_a_capability_has_nothing_serving_it(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = _services(app).models
    for name in list(models.models):
        monkeypatch.delitem(models.models, name)
    response = client.get("/api/health")
    assert response.status_code == 503
    data = response.get_json()["data"]
    assert data["status"] == "not_ready"
    recommendations = data["capabilities"]["recommendations"]
    assert not recommendations["ok"] and recommendations["served_by"] is None
    assert set(CATALOGUE.fallback()) <= set(recommendations["missing"])
    assert "movie-genie train" in recommendations["detail"]
    assert data["capabilities"]["search"]["ok"] and data["capabilities"]["database"]["ok"]
    _assert_no_internals(response)


def test_health_is_503_without_a_search_retriever(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_services(app).search, "engine", None)
    response = client.get("/api/health")
    assert response.status_code == 503
    search = response.get_json()["data"]["capabilities"]["search"]
    assert not search["ok"] and search["served_by"] is None and "movie-genie index" in search["detail"]


# --- similar films without Two-Tower -----------------------------------------------------------------------------


def test_similar_films_without_two_tower_answer_with_the_content_list_and_a_note(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used to be a 503 although the text embeddings could answer."""
    monkeypatch.delitem(_services(app).models.models, "two_tower")
    response = client.get("/api/movies/1/similar?k=5")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert data["collaborative"] == [] and len(data["content"]) == 5
    assert data["collaborative_model"] is None and data["content_model"] == "content"
    assert data["note"] and "Two-Tower" in data["note"]
    _assert_no_internals(response)
    # Asked for the collaborative list alone, there is nothing to answer with: a 503 in plain words.
    only = client.get("/api/movies/1/similar?k=5&kind=collaborative")
    assert only.status_code == 503 and only.get_json()["error"]["code"] == "model_unavailable"
    _assert_no_internals(only)


def test_similar_films_with_both_models_have_no_note(client: FlaskClient) -> None:
    data = client.get("/api/movies/1/similar?k=5").get_json()["data"]
    assert data["collaborative"] and data["content"] and data["note"] is None
    assert (data["collaborative_model"], data["content_model"]) == ("two_tower", "content")


# --- missing artefacts: no internal paths in any body -----------------------------------------------------------


def test_missing_artefacts_never_show_a_server_path(artefacts: Artefacts, tmp_path: Path) -> None:
    """Two-Tower's checkpoint and the search index gone: health is 503 (search has no retriever) and says what to
    run in plain words; /similar still answers from the content side; the 503s of search and of Two-Tower asked by
    name carry no path, file name or module name."""
    app = _app_without(artefacts, tmp_path, "models/two_tower.pt", "index")
    client = app.test_client()
    hidden = (str(tmp_path), str(artefacts.layout.artifacts_dir))

    health = client.get("/api/health")
    assert health.status_code == 503, health.get_data(as_text=True)
    data = health.get_json()["data"]
    assert data["status"] == "not_ready" and not data["capabilities"]["search"]["ok"]
    assert data["capabilities"]["recommendations"]["ok"]  # the fallback chain serves
    assert (
        not data["checks"]["model:two_tower"]["ok"]
        and "movie-genie train" in data["checks"]["model:two_tower"]["detail"]
    )
    assert "movie-genie index" in data["checks"]["search_index"]["detail"]
    _assert_no_internals(health, *hidden)

    similar = client.get("/api/movies/1/similar?k=5")
    assert similar.status_code == 200, similar.get_data(as_text=True)
    assert similar.get_json()["data"]["content"] and similar.get_json()["data"]["note"]
    _assert_no_internals(similar, *hidden)

    for url in ("/api/search?q=star wars", "/api/recommendations?user_id=1&model=two_tower&k=5"):
        response = client.get(url)
        assert response.status_code == 503, (url, response.get_data(as_text=True))
        assert "movie-genie" in response.get_json()["error"]["message"]
        _assert_no_internals(response, *hidden)


def test_a_corrupt_checkpoint_is_reported_without_its_path(artefacts: Artefacts, tmp_path: Path) -> None:
    target = _artifacts_without(artefacts, tmp_path, "models/two_tower.pt")
    (target / "models" / "two_tower.pt").write_bytes(b"not a checkpoint")
    app = create_app(artefacts.settings(), _params_with_artifacts(artefacts, target))
    app.config["TESTING"] = False
    response = app.test_client().get("/api/health")
    assert response.status_code == 200, response.get_data(as_text=True)  # ready: the chain serves
    check = response.get_json()["data"]["checks"]["model:two_tower"]
    # "damaged": the file no longer matches the digest recorded beside it when it was trained.
    assert not check["ok"] and "damaged" in check["detail"] and "movie-genie train" in check["detail"]
    _assert_no_internals(response, str(tmp_path))


def test_a_vanished_database_is_503_without_its_path(artefacts: Artefacts, tmp_path: Path) -> None:
    copy = artefacts.database_copy(tmp_path)
    app = create_app(artefacts.settings(database_url=f"sqlite:///{copy}"), artefacts.params)
    app.config["TESTING"] = False
    client = app.test_client()
    try:
        assert client.get("/api/health").status_code == 200
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        health = client.get("/api/health")
        assert health.status_code == 503
        assert not health.get_json()["data"]["capabilities"]["database"]["ok"]
        _assert_no_internals(health, str(tmp_path))
        write = client.post("/api/feedback", json={"user_id": 3, "movie_id": 6, "kind": "like"})
        assert write.status_code == 503, write.get_data(as_text=True)
        _assert_no_internals(write, str(tmp_path))
    finally:
        _services(app).db.engine.dispose()
