"""A new user's first run: a clean clone, the pipeline with the committed dvc.lock, then the app they open.

Before the `db` stage always ran, DVC found it up to date in a fresh clone (its inputs matched dvc.lock and it had
no output to miss), skipped it, and the app served 0 users and 0 movies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.fresh_clone import FreshClone, pipeline_env
from tests.live_server import LiveServer, free_port

DEFAULT_USERS = 610  # ml-latest-small, the data set shipped with the repository
DEFAULT_MOVIES = 9_742


@pytest.fixture(scope="module")
def first_run(fresh_clone: FreshClone, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """`movie-genie serve` in the clone, as `make run` starts it after the pipeline."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(fresh_clone.params_file)]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    log = tmp_path_factory.mktemp("first-run") / "gunicorn.log"
    env = pipeline_env(fresh_clone.root)
    server = LiveServer.start(command, port=port, workers=1, env=env, log=log, cwd=fresh_clone.root)
    yield server
    server.stop()


def test_the_pipeline_loads_the_database_in_a_fresh_clone(fresh_clone: FreshClone) -> None:
    assert "Running stage 'db'" in fresh_clone.repro_output, fresh_clone.repro_output[-3000:]
    assert f"{DEFAULT_MOVIES} movies, {DEFAULT_USERS} users" in fresh_clone.repro_output


def test_the_app_serves_every_user_and_film_and_is_healthy(first_run: LiveServer) -> None:
    status, _, body = first_run.get("/api/health")
    assert status == 200, body
    assert body["data"]["status"] == "ready" and not body["data"]["degraded"]
    assert body["data"]["checks"]["database"]["detail"] == f"{DEFAULT_MOVIES} movies"
    assert all(check["ok"] for name, check in body["data"]["checks"].items() if name.startswith("model:"))
    status, _, users = first_run.get("/api/users?page_size=50")
    assert status == 200
    assert users["meta"]["total"] == DEFAULT_USERS
    status, _, movies = first_run.get("/api/movies?page_size=50")
    assert status == 200
    assert movies["meta"]["total"] == DEFAULT_MOVIES
