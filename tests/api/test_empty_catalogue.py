"""An empty database (no `db load` yet): health says so and what to run, and `movie-genie serve` refuses to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from movie_genie.api.app import create_app
from movie_genie.db.engine import make_engine
from movie_genie.db.migrate import upgrade
from tests.artefacts import Artefacts
from tests.live_server import free_port


def _empty_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)  # the schema, but no rows: what a skipped load leaves
    engine.dispose()
    return url


def test_health_is_503_and_says_what_to_run_on_an_empty_catalogue(artefacts: Artefacts, tmp_path: Path) -> None:
    app = create_app(artefacts.settings(database_url=_empty_database(tmp_path)), artefacts.params)
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    database = response.get_json()["data"]["checks"]["database"]
    assert not database["ok"]
    assert database["detail"].startswith("0 movies: the catalogue is empty; run `movie-genie db load`")


def test_serve_refuses_an_empty_database_with_the_command_to_run(artefacts: Artefacts, tmp_path: Path) -> None:
    url = _empty_database(tmp_path)
    command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(artefacts.params_file), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(free_port())]
    env = {"DATABASE_URL": url, "PATH": str(Path(sys.executable).parent), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "holds no movies: run `movie-genie db load`" in result.stderr
    assert "Traceback" not in result.stderr
