"""A first run serves before the heavier models exist (issue 30): the server says, in /api/health, which models are
still training (ready, not degraded), answers with the models it has, and loads each checkpoint as it appears,
without a restart. The models' progress is artifacts/preparing.json (training/progress.py), written here as
`movie-genie run` and `movie-genie train` write it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Layout
from movie_genie.training.progress import (
    finish_progress,
    mark_model,
    progress_path,
    read_progress,
    start_progress,
)
from tests.api.conftest import checked_app
from tests.artefacts import Artefacts

HEAVY = "sasrec"


@pytest.fixture
def first_run(artefacts: Artefacts, tmp_path: Path) -> Iterator[tuple[Flask, Layout, Path]]:
    """The session's artefacts without SASRec's checkpoint (kept aside), and a progress file listing it."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(artefacts.layout.artifacts_dir, artifacts, symlinks=True)
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in (f"{HEAVY}.pt", f"{HEAVY}.pt.sha256"):
        shutil.move(artifacts / "models" / name, aside / name)
    params = artefacts.with_artifacts_dir(artifacts)
    layout = Layout.from_params(params)
    start_progress(progress_path(layout), [HEAVY])
    yield checked_app(artefacts.settings(), params), layout, aside
    finish_progress(progress_path(layout))


def _health(app: Flask) -> dict:
    response = app.test_client().get("/api/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_a_model_still_training_is_ready_not_degraded_and_said_in_words(first_run) -> None:
    app, _, _ = first_run
    health = _health(app)
    assert health["status"] == "ready" and health["degraded"] is False, health["checks"]
    check = health["checks"][f"model:{HEAVY}"]
    assert check["ok"] is False and check["detail"].startswith("still training"), check
    assert health["preparing"]["ready"] == 0 and health["preparing"]["total"] == 1
    assert health["preparing"]["models"] == [{"name": HEAVY, "label": "SASRec", "state": "waiting", "seconds": None}]
    # Asked for by name it is not there yet (503 in words); the home page is served by the models that are.
    response = app.test_client().get(f"/api/recommendations?user_id=1&model={HEAVY}")
    assert response.status_code == 503
    assert app.test_client().get("/api/recommendations?user_id=1&k=10").status_code == 200
    # Its home row is made by the next model of the chain, and says its own model is still learning.
    rows = app.test_client().get("/api/users/1/home").get_json()["data"]["rows"]
    up_next = next(row for row in rows if row["requested_model"] == HEAVY)
    assert up_next["model"] != HEAVY and "still learning" in up_next["purpose"], up_next["purpose"]


def test_each_checkpoint_is_served_as_it_appears_without_a_restart(first_run) -> None:
    app, layout, aside = first_run
    services: Services = app.extensions[EXTENSION_KEY]
    progress = progress_path(layout)
    mark_model(progress, HEAVY, "training")
    assert _health(app)["preparing"]["models"][0]["state"] == "training"
    for path in aside.iterdir():
        shutil.move(path, layout.models_dir / path.name)
    mark_model(progress, HEAVY, "ready")
    # Trained, not yet loaded by this worker (its poller looks every reload_poll_s): expected, not degraded.
    health = _health(app)
    assert health["degraded"] is False, health["checks"]
    assert health["checks"][f"model:{HEAVY}"] == {"ok": False, "detail": "trained: loading it now"}
    assert services.refresh_versions() == [HEAVY]  # what each worker's poller does when the file changes
    health = _health(app)
    assert health["checks"][f"model:{HEAVY}"]["ok"] is True
    assert health["preparing"]["ready"] == 1 and health["preparing"]["models"][0]["seconds"] is not None
    response = app.test_client().get(f"/api/recommendations?user_id=1&model={HEAVY}&k=10")
    assert response.status_code == 200 and len(response.get_json()["data"]["items"]) == 10
    finish_progress(progress)
    assert _health(app)["preparing"] is None


def test_a_model_being_retrained_keeps_serving_while_its_checkpoint_is_gone(first_run) -> None:
    """DVC removes a stage's outputs before it runs it again: the model already loaded goes on serving."""
    app, layout, _ = first_run
    services: Services = app.extensions[EXTENSION_KEY]
    checkpoint = layout.models_dir / "ease.pt"
    checkpoint.rename(checkpoint.with_suffix(".moved"))
    try:
        assert services.refresh_versions() == []
        assert _health(app)["checks"]["model:ease"]["ok"] is True
        assert app.test_client().get("/api/recommendations?user_id=1&model=ease").status_code == 200
    finally:
        checkpoint.with_suffix(".moved").rename(checkpoint)


def test_a_failed_model_makes_the_server_degraded(first_run) -> None:
    app, layout, _ = first_run
    mark_model(progress_path(layout), HEAVY, "training")
    mark_model(progress_path(layout), HEAVY, "failed")
    health = _health(app)
    assert health["degraded"] is True and health["preparing"]["models"][0]["state"] == "failed"


def test_progress_left_by_an_interrupted_run_reads_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "preparing.json"
    start_progress(path, [HEAVY])
    assert read_progress(path) is not None
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(path.read_text().replace(f'"pid": {read_progress(path).pid}', f'"pid": {gone.stdout.strip()}'))
    assert read_progress(path) is None  # its process has exited: the app stops saying "still training"
