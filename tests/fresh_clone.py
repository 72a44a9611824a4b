"""A new user's first run: a clean clone of this repository (its committed files and `dvc.lock`, nothing built)
through `dvc repro`, as `make run` does, on the default data set shipped with the repository.

Only the model configs are made tiny (each model's `tiny_config()`, as in tests/artefacts.py), so the run takes a
few minutes; the data, the catalogue, the search index and the database are the real default ones. The clone is
made from the committed HEAD; a working copy's uncommitted changes and new files are then applied to it, so a
developer tests what they are about to commit (CI's checkout is clean, so there the clone is exactly HEAD). The e2e
suite serves the app this produces, so the browser tests see what a new user sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.artefacts import tiny_models_section

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent  # dvc and movie-genie (which dvc.yaml's stages call) live here


@dataclass(frozen=True)
class FreshClone:
    """The clone after `dvc repro`: its params file, the database it loaded and the pipeline's output."""

    root: Path
    params_file: Path
    database_url: str
    repro_output: str


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
    """Clone this repository into `scratch`, shrink the model configs, run `dvc repro` there."""
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
    result = subprocess.run(
        [str(VENV_BIN / "dvc"), "repro"], cwd=root, env=pipeline_env(root), capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"dvc repro failed in a fresh clone:\n{output[-6000:]}"
    return FreshClone(root, params_file, f"sqlite:///{root / 'data' / 'movie_genie.db'}", output)
