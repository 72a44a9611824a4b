"""API fixtures: a small REAL artefact set built once per session by the real pipeline stages.

A slice of real ml-100k (the first movies by id and the users who rated them) goes through the same commands as
`dvc repro` — data, enrich, split, embed, train (tiny model configs), evaluate, index, db load — into a temporary
folder; the app under test is created from those files, exactly as `movie-genie serve` would.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.cli import cli
from movie_genie.config import Layout, Params, Settings, load_params
from movie_genie.data.tables import read_info, read_tables, write_tables
from movie_genie.models.registry import available_models, model_class

ROOT = Path(__file__).resolve().parents[2]
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


def _tiny_models_section() -> dict[str, Any]:
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
            values = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
            if "refit_epochs" in values:
                values["refit_epochs"] = 0
            if "torch_threads" in values:
                values["torch_threads"] = 1
            section[name] = values
    return section


def _run(args: list[str], env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, f"movie-genie {' '.join(args)} failed:\n{result.output}"


def _slice_canonical(layout: Layout) -> None:
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


@pytest.fixture(scope="session")
def artefacts(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    """Run the real pipeline on the slice into a temporary folder (about a minute, once per session).

    Developer shortcut: MOVIE_GENIE_API_ARTEFACTS=<folder> builds into that folder once and reuses it afterwards.
    """
    reuse = os.environ.get("MOVIE_GENIE_API_ARTEFACTS")
    root = Path(reuse) if reuse else tmp_path_factory.mktemp("api-artefacts")
    if reuse and (root / "done").is_file():
        params = load_params(root / "params.yaml")
        return Artefacts(root, root / "params.yaml", params, Layout.from_params(params), _database_url(root))
    root.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(root / "data"), "artifacts_dir": str(root / "artifacts")}
    raw["dataset"] = {**raw.get("dataset", {}), "name": "ml-100k", "source": None, "metadata_csv": None}
    raw["models"] = {**(raw.get("models") or {}), **_tiny_models_section()}
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
        _slice_canonical(layout)
        for stage in ("enrich", "split", "embed", "train", "evaluate", "index", "db load"):
            _run([*base, *stage.split()], env)
    finally:
        torch.set_num_threads(threads)
    (root / "done").touch()
    return Artefacts(root, params_file, params, layout, database_url)


def _database_url(root: Path) -> str:
    return f"sqlite:///{root / 'data' / 'movie_genie.db'}"


@pytest.fixture(scope="session")
def app(artefacts: Artefacts) -> Flask:
    """The app on the session's artefacts, responses validated against their declared schemas."""
    application = create_app(artefacts.settings(), artefacts.params)
    application.config["TESTING"] = False  # errors must go through the JSON handlers, as in production
    application.validate_response = True  # type: ignore[attr-defined]
    return application


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    """A test client of the session app."""
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture(scope="session")
def env_without_proxies() -> dict[str, str]:
    """The environment for subprocesses (gunicorn) with the session's database."""
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
