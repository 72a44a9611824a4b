"""Model refresh end to end on the session's real artefacts: `retrain` folds app feedback into a new version, a
promotion is served without a restart (in-process and by every worker of a real gunicorn server under load, with
no failed request), a rollback returns to the old version, and an admin can start a challenger experiment."""

from __future__ import annotations

import shutil
import sys
import threading
import time
import urllib.error
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.api.services.artefacts import file_version
from movie_genie.config import Layout, load_params
from movie_genie.data.idmap import IdMap
from movie_genie.db.engine import make_engine
from movie_genie.online.serving import ServingStore
from movie_genie.training.retrain import SPLIT_FOLDER, run_retrain
from movie_genie.training.versions import BASE, VersionManifest
from tests.api.conftest import checked_app
from tests.artefacts import Artefacts
from tests.live_server import LiveServer, free_port

ADMIN = "versions-test-admin-token"
MOVIE_GENIE = str(Path(sys.executable).with_name("movie-genie"))


@pytest.fixture(scope="module")
def own(artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    """The session's artefacts with an artifacts folder of their own (versions made and promoted here change no
    other test's models) and a fast hot-reload poll; the data and database are the session's."""
    root = tmp_path_factory.mktemp("versions")
    shutil.copytree(artefacts.layout.artifacts_dir, root / "artifacts")
    raw = yaml.safe_load(artefacts.params_file.read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(artefacts.layout.data_dir), "artifacts_dir": str(root / "artifacts")}
    raw["serving"] = {**raw.get("serving", {}), "reload_poll_s": 0.2}
    params_file = root / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    params = load_params(params_file)
    return Artefacts(root, params_file, params, Layout.from_params(params), artefacts.database_url)


@pytest.fixture(scope="module")
def app(own: Artefacts) -> Flask:
    """The app on this module's artefacts, with an admin token; conftest's `client` is a client of this app."""
    return checked_app(own.settings(admin_token=ADMIN), own.params)


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture(scope="module")
def new_user(app: Flask) -> int:
    """A profile created in the app, with likes at sign-up and a rating and a like afterwards."""
    with app.test_client() as client:
        created = _ok(client.post("/api/users", json={"display_name": "Refresh", "liked_movie_ids": [1, 50, 100]}), 201)
        user_id, secret = created["data"]["user"]["user_id"], created["data"]["secret"]
        auth = {"Authorization": f"Bearer {secret}"}
        _ok(
            client.post(
                "/api/feedback",
                json={"user_id": user_id, "movie_id": 181, "kind": "rating", "value": 4.5},
                headers=auth,
            ),
            201,
        )
        _ok(client.post("/api/feedback", json={"user_id": user_id, "movie_id": 121, "kind": "like"}, headers=auth), 201)
    return int(user_id)


@pytest.fixture(scope="module")
def version(own: Artefacts, new_user: int) -> VersionManifest:
    engine = make_engine(own.database_url)
    try:
        serving = ServingStore(own.layout).state().active
        return run_retrain(own.params, own.layout, engine, ["popularity", "ease"], lambda _: None, serving)
    finally:
        engine.dispose()


def test_retrain_folds_app_feedback_into_a_new_version(own: Artefacts, version: VersionManifest, new_user: int) -> None:
    store = ServingStore(own.layout)
    assert [m.id for m in store.manifests()] == [version.id] and set(version.models) == {"popularity", "ease"}
    assert version.data.app_events >= 5 and version.data.new_users >= 1
    # The user made in the app is a training user of the new version; their newest mark (the like) is its test item.
    id_map = IdMap.load(store.folder(version.id) / SPLIT_FOLDER / "id_map.json")
    assert id_map.user_index(new_user) is not None
    ease = version.models["ease"]
    assert ease.vs_current is not None and ease.vs_current.against == "ease@base"
    low, high = ease.vs_current.ci
    assert low <= ease.vs_current.difference <= high and 0.0 <= ease.test.ndcg10 <= 1.0
    assert store.checkpoint("ease", version.id).is_file() and store.state().active == {}  # made, not served


def test_a_promotion_is_served_without_a_restart_and_rolled_back(
    app: Flask, client: FlaskClient, own: Artefacts, version: VersionManifest
) -> None:
    store, services = ServingStore(own.layout), _services(app)
    before = _ok(client.get("/api/recommendations?user_id=5&model=ease&k=5"))["meta"]["model_version"]
    assert before == file_version(store.checkpoint("ease", BASE))
    store.promote(version.id, ["ease"])
    assert services.refresh_versions() == ["ease"]
    info = {m["name"]: m for m in _ok(client.get("/api/models"))["data"]["models"]}
    assert info["ease"]["release"] == version.id and info["popularity"]["release"] == BASE
    assert [(v["version"], v["serving"]) for v in info["ease"]["versions"]] == [(version.id, True)]
    assert info["popularity"]["versions"][0]["serving"] is False  # made, not promoted
    after = _ok(client.get("/api/recommendations?user_id=5&model=ease&k=5"))["meta"]["model_version"]
    assert after == file_version(store.checkpoint("ease", version.id)) != before
    store.rollback(["ease"])
    assert services.refresh_versions() == ["ease"]
    assert _ok(client.get("/api/recommendations?user_id=5&model=ease&k=5"))["meta"]["model_version"] == before


def test_a_broken_version_leaves_the_old_model_serving(
    app: Flask, client: FlaskClient, own: Artefacts, version: VersionManifest
) -> None:
    store, services = ServingStore(own.layout), _services(app)
    checkpoint = store.checkpoint("popularity", version.id)
    saved = checkpoint.read_bytes()
    checkpoint.write_bytes(b"not a checkpoint")
    try:
        store.promote(version.id, ["popularity"])
        services.refresh_versions()
        assert services.models.releases["popularity"] == BASE  # still the old one, and it says why
        assert f"popularity@{version.id}" in _ok(client.get("/api/models"))["data"]["reload_error"]
        _ok(client.get("/api/recommendations?user_id=5&model=popularity&k=3"))
    finally:
        checkpoint.write_bytes(saved)
        store.rollback(["popularity"])
        services.refresh_versions()


def test_an_admin_starts_a_challenger_experiment(app: Flask, client: FlaskClient, version: VersionManifest) -> None:
    name = f"ease-refresh-{uuid.uuid4().hex[:8]}"  # its report counts what the (session's) database logged under it
    body = {"name": name, "design": "ab", "variants": ["ease", f"ease@{version.id}"]}
    assert client.post("/api/experiments", json=body).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post("/api/experiments", json=body, headers=wrong).status_code == 403
    admin = {"Authorization": f"Bearer {ADMIN}"}
    report = _ok(client.post("/api/experiments", json=body, headers=admin), 201)["data"]
    assert report["experiment"] == name and report["per_variant"][0]["impressions"] == 0
    assert f"ease@{version.id}" in _services(app).models.models  # the challenger is loaded beside the serving ease
    seen = {_ok(client.get(f"/api/recommendations?user_id={u}&k=5"))["meta"]["model"] for u in range(1, 41)}
    assert seen == {"ease", f"ease@{version.id}"}  # users split between the serving model and the challenger
    assert _ok(client.get("/api/models"))["data"]["experiments"][-1]["experiment"] == name
    duplicate = client.post("/api/experiments", json=body, headers=admin)
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["code"] == "experiment_exists"
    unknown = {**body, "name": "ghost", "variants": ["ease", "ease@v20990101-000000"]}
    missing = client.post("/api/experiments", json=unknown, headers=admin)
    assert missing.status_code == 400 and "no model version" in missing.get_json()["error"]["message"]


def test_every_worker_swaps_under_load_with_no_failed_request(
    own: Artefacts, version: VersionManifest, env_without_proxies: dict[str, str], tmp_path: Path
) -> None:
    """A real server with 2 gunicorn workers, 6 clients requesting all along: promote, wait for every worker to
    serve the new version, roll back, wait again; every request must succeed."""
    store = ServingStore(own.layout)
    port = free_port()
    env = {**env_without_proxies, "DATABASE_URL": own.database_url, "HF_HUB_OFFLINE": "1"}
    command = [MOVIE_GENIE, "--params", str(own.params_file), "serve", "--port", str(port), "--workers", "2"]
    server = LiveServer.start(command, port=port, workers=2, env=env, log=tmp_path / "serve.log", cwd=own.root)
    new = file_version(store.checkpoint("popularity", version.id))
    failures: list[str] = []
    versions_seen: dict[str, set[str]] = {}
    stop = threading.Event()

    def client_loop(user_id: int) -> None:
        while not stop.is_set():
            try:
                status, headers, body = server.get(f"/api/recommendations?user_id={user_id}&model=popularity&k=5")
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                failures.append(repr(exc))
                continue
            if status != 200:
                failures.append(f"{status}: {body}")
                continue
            versions_seen.setdefault(body["meta"]["model_version"], set()).add(headers["X-Instance"])

    def every_worker_serves(digest: str) -> bool:
        return len(versions_seen.get(digest, set())) == 2

    clients = [threading.Thread(target=client_loop, args=(u,)) for u in range(1, 7)]
    try:
        for thread in clients:
            thread.start()
        store.promote(version.id, ["popularity"])
        deadline = time.monotonic() + 60
        while not every_worker_serves(new) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert every_worker_serves(new), f"not every worker swapped in {version.id}:\n{server.log_tail()}"
        old = file_version(store.checkpoint("popularity", BASE))
        versions_seen.pop(old, None)
        store.rollback(["popularity"])
        while not every_worker_serves(old) and time.monotonic() < deadline + 60:
            time.sleep(0.1)
        assert every_worker_serves(old), f"not every worker rolled back:\n{server.log_tail()}"
    finally:
        stop.set()
        for thread in clients:
            thread.join()
        server.stop()
    assert failures == []
