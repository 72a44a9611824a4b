"""A new user's first run: a clean clone of this repository (its committed files and `dvc.lock`, nothing built)
through `movie-genie run`, as `make run` does, on the default data set shipped with the repository: the app serves
once the quick models and search are ready, and the others train behind it.

Only the model configs are made tiny (each model's `tiny_config()`, as in tests/artefacts.py), so the run takes a
few minutes; the data, the catalogue, the search index and the database are the real default ones. The clone is
made from the committed HEAD; a working copy's uncommitted changes and new files are then applied to it, so a
developer tests what they are about to commit (CI's checkout is clean, so there the clone is exactly HEAD). The e2e
suite serves the app this produces, so the browser tests see what a new user sees.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.artefacts import tiny_models_section
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
FIRST_RUN_S = 1200  # the whole first run with tiny models, on a busy CI machine
VENV_BIN = Path(sys.executable).parent  # dvc and movie-genie (which dvc.yaml's stages call) live here


@dataclass(frozen=True)
class FreshClone:
    """The clone after its first `movie-genie run`: its params file, the database it loaded, the run's output, and
    what its server answered while the heavier models were still training and once they were all served."""

    root: Path
    params_file: Path
    database_url: str
    repro_output: str
    first_ready: dict[str, Any]  # the first /api/health that said "ready"
    checkpoints_at_first_ready: frozenset[str]  # the model checkpoints on disk right after that answer
    first_recommendations: dict[str, Any]  # GET /api/recommendations for user 1 right after it
    all_served: dict[str, Any]  # /api/health once nothing was being prepared any more


def pipeline_env(clone: Path) -> dict[str, str]:
    """The environment of a first run: the venv's tools, the CLONE's code, the default database (no DATABASE_URL)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env |= {"PYTHONPATH": str(clone / "src"), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for name in ("DATABASE_URL", "REDIS_URL", "TMDB_API_KEY", "MLFLOW_TRACKING_URI", "MOVIE_GENIE_CACHE"):
        env.pop(name, None)
    return env


def _git(*args: str, cwd: Path = ROOT, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True).stdout


def clone_working_copy(root: Path) -> None:
    """`git clone` this repository into `root`, then apply the working copy's uncommitted changes and new files."""
    _git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(root))
    diff = _git("diff", "HEAD", "--binary")
    if diff:
        _git("apply", "--whitespace=nowarn", cwd=root, stdin=diff)
    for name in _git("ls-files", "--others", "--exclude-standard", "-z").decode().split("\0"):
        if name:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, root / name)


def build_fresh_clone(scratch: Path) -> FreshClone:
    """Clone this repository into `scratch`, shrink the model configs, and run it there as `make run` does."""
    root = scratch / "clone"
    clone_working_copy(root)
    params_file = root / "params.yaml"
    raw = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    raw["models"] = {**raw["models"], **tiny_models_section()}
    raw["evaluation"] = {**raw["evaluation"], "validation_users": 100, "bootstrap_resamples": 20}
    # Absolute paths, so a server started from anywhere finds the clone's outputs (DVC's stages ignore `paths`)
    # and the web app already built in this checkout.
    raw["paths"] = {"data_dir": str(root / "data"), "artifacts_dir": str(root / "artifacts")}
    raw["serving"] = {**raw["serving"], "web_dist": str(ROOT / "web" / "dist")}
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return _first_run(root, params_file)


def _first_run(root: Path, params_file: Path) -> FreshClone:
    """`movie-genie run` as `make run` calls it: watch its server from the first "ready" until every model is
    served, then stop it (SIGTERM: the run stops its server too)."""
    port = free_port()
    log = root / "first-run.log"
    command = [str(VENV_BIN / "movie-genie"), "--params", str(params_file), "run", "--port", str(port)]
    with log.open("wb") as out:
        run = subprocess.Popen(command, cwd=root, env=pipeline_env(root), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        first_ready = _wait_for(run, log, base, lambda health: health["status"] == "ready")
        models_dir = root / "artifacts" / "models"
        checkpoints = frozenset(path.stem for path in models_dir.glob("*.pt"))
        recommendations = _get(base, "/api/recommendations?user_id=1&k=10")
        all_served = _wait_for(run, log, base, lambda health: health["preparing"] is None and not health["degraded"])
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    output = log.read_text(errors="replace")
    database_url = f"sqlite:///{root / 'data' / 'movie_genie.db'}"
    return FreshClone(root, params_file, database_url, output, first_ready, checkpoints, recommendations, all_served)


def _get(base: str, path: str) -> dict[str, Any]:
    """A GET's JSON body (an error's too)."""
    try:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        return dict(json.load(error))


def _wait_for(
    run: subprocess.Popen[bytes], log: Path, base: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll /api/health until `until(health)` holds; fail when the run exits or takes longer than FIRST_RUN_S."""
    deadline = time.monotonic() + FIRST_RUN_S
    while time.monotonic() < deadline:
        assert run.poll() is None, f"movie-genie run exited with {run.returncode}:\n{log.read_text()[-6000:]}"
        try:
            health = _get(base, "/api/health")["data"]
        except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, ValueError):
            health = None
        if health is not None and until(health):
            return health
        time.sleep(0.25)
    raise AssertionError(f"movie-genie run did not get there in {FIRST_RUN_S} s:\n{log.read_text()[-6000:]}")
