"""The small REAL artefact set the API, deploy and e2e suites share, built once per test session.

A slice of real ml-100k (the first movies by id and the users who rated them) goes through the same commands as
`dvc repro` — data, enrich, split, embed, train (tiny model configs), evaluate, index, db load — into a temporary
folder; apps and servers under test are created from those files, exactly as `movie-genie serve` would.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from click.testing import CliRunner

from movie_genie.cli import cli
from movie_genie.config import Layout, Params, Settings, load_params
from movie_genie.data.tables import read_info, read_tables, write_tables
from movie_genie.models.registry import available_models, model_class

ROOT = Path(__file__).resolve().parents[1]
# The slice: movies 1..MAX_MOVIE_ID (ml-100k ids are roughly in catalogue order) rated by users 1..MAX_USER_ID.
MAX_MOVIE_ID = 400
MAX_USER_ID = 300


@dataclass(frozen=True)
class Artefacts:
    """Where the session's artefacts are and how to build an app on them."""

    root: Path
    params_file: Path
    params: Params
    layout: Layout
    database_url: str

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing at the session's database (no Redis, no CORS unless overridden)."""
        base = Settings(database_url=self.database_url, redis_url=None, tmdb_api_key=None, cors_origins=())
        return dataclasses.replace(base, **overrides)

    def with_serving(self, **serving: Any) -> Params:
        """The session's params with some `serving` values changed."""
        raw = self.params.model_dump(mode="json")
        raw["serving"] = {**raw.get("serving", {}), **serving}
        return Params.model_validate(raw)

    def with_artifacts_dir(self, artifacts_dir: Path) -> Params:
        """The session's params reading their artefacts from another folder (e.g. `copy_with_own_file`'s)."""
        raw = self.params.model_dump(mode="json")
        raw["paths"] = {**raw["paths"], "artifacts_dir": str(artifacts_dir)}
        return Params.model_validate(raw)

    def database_copy(self, folder: Path) -> Path:
        """A consistent copy of the session's SQLite database in `folder` (WAL rows included), made by SQLite itself.

        Never copy the file with plain I/O: closing any other descriptor of a SQLite file drops the process's POSIX
        locks on it, after which another process (a server under test) may checkpoint and delete the -wal and -shm
        files under this process's open connections, and its next connection fails with "disk I/O error"."""
        copy = folder / "movie_genie.db"
        with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
            db.execute("VACUUM INTO ?", (str(copy),))
        return copy

    def copy_with_own_file(self, folder: Path, relative: str) -> Path:
        """A copy of the artefacts folder in `folder` whose files link to the session's, except `relative` (a path
        under the artefacts folder): a real copy, with its digest record, that a test may damage. Returns its path."""
        source = self.layout.artifacts_dir
        target = folder / "artifacts"
        for path in source.rglob("*"):
            copy = target / path.relative_to(source)
            if path.is_dir():
                copy.mkdir(parents=True, exist_ok=True)
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            if path.relative_to(source).as_posix() in (relative, relative + ".sha256"):
                shutil.copyfile(path, copy)
            else:
                copy.symlink_to(path)
        return target / relative


def tiny_models_section() -> dict[str, Any]:
    """Each model's `tiny_config()` (trains in seconds) as its params.yaml section.

    The API needs working checkpoints, not good ones: no refit fine-tuning, one torch thread (faster than torch's
    default on a shared 2-core machine).
    """
    section: dict[str, Any] = {}
    for name in available_models():
        cls: Any = model_class(name)
        tiny = getattr(cls, "tiny_config", None)
        if tiny is not None:
            config = tiny()
            values = config.to_dict()
            if "refit_epochs" in values:
                values["refit_epochs"] = 0
            if "torch_threads" in values:
                values["torch_threads"] = 1
            section[name] = values
    return section


def _run(args: list[str], env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, f"movie-genie {' '.join(args)} failed:\n{result.output}"


def slice_canonical(layout: Layout) -> None:
    """Keep movies 1..MAX_MOVIE_ID and users 1..MAX_USER_ID of the canonical tables (real rows, fewer of them)."""
    tables = read_tables(layout.canonical_dir)
    movies = tables["movies"][tables["movies"]["movie_id"] <= MAX_MOVIE_ID]
    ratings = tables["ratings"]
    ratings = ratings[(ratings["movie_id"] <= MAX_MOVIE_ID) & (ratings["user_id"] <= MAX_USER_ID)]
    users = tables["users"][tables["users"]["user_id"].isin(ratings["user_id"].unique())]
    tags = tables["tags"][tables["tags"]["movie_id"] <= MAX_MOVIE_ID] if len(tables["tags"]) else tables["tags"]
    sliced = {"movies": movies, "ratings": ratings.reset_index(drop=True), "users": users, "tags": tags}
    info = {**read_info(layout.canonical_dir), "movies": len(movies), "ratings": len(ratings), "users": len(users)}
    write_tables(layout.canonical_dir, sliced, info)


def build_artefacts(shared_datasets: Path, scratch: Path) -> Artefacts:
    """Run the real pipeline on the slice into `scratch` (about a minute).

    Developer shortcut: MOVIE_GENIE_API_ARTEFACTS=<folder> builds into that folder once and reuses it afterwards.
    """
    reuse = os.environ.get("MOVIE_GENIE_API_ARTEFACTS")
    root = Path(reuse) if reuse else scratch
    if reuse and (root / "done").is_file():
        params = load_params(root / "params.yaml")
        return Artefacts(root, root / "params.yaml", params, Layout.from_params(params), _database_url(root))
    root.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(root / "data"), "artifacts_dir": str(root / "artifacts")}
    raw["dataset"] = {**raw.get("dataset", {}), "name": "ml-100k", "source": None, "metadata_csv": None}
    raw["models"] = {**(raw.get("models") or {}), **tiny_models_section()}
    raw["evaluation"] = {**(raw.get("evaluation") or {}), "validation_users": 100, "bootstrap_resamples": 20}
    params_file = root / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    params = load_params(params_file)
    layout = Layout.from_params(params)
    database_url = _database_url(root)
    env = {"DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    base = ["--params", str(params_file)]

    # One intra-op thread while the stages run in this process: torch's default oversubscribes a shared 2-core box.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run([*base, "data", "--source", str(shared_datasets / "ml-100k")], env)
        slice_canonical(layout)
        for stage in ("enrich", "split", "embed", "train", "evaluate", "index", "db load"):
            _run([*base, *stage.split()], env)
    finally:
        torch.set_num_threads(threads)
    (root / "done").touch()
    return Artefacts(root, params_file, params, layout, database_url)


def _database_url(root: Path) -> str:
    return f"sqlite:///{root / 'data' / 'movie_genie.db'}"
