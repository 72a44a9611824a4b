"""Shared fixtures: where the real MovieLens files live (../shared/datasets beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.artefacts import Artefacts, build_artefacts
from tests.fresh_clone import FreshClone, build_fresh_clone

ROOT = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder with the real MovieLens copies; tests that need it fail loudly when it is missing."""
    path = _shared_datasets()
    if not (path / "ml-100k").is_dir():
        pytest.fail(f"real MovieLens data not found at {path}; set MOVIE_GENIE_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def artefacts(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    """The real pipeline run once per session on a slice of ml-100k; shared by the API, deploy and e2e suites."""
    return build_artefacts(shared_datasets, tmp_path_factory.mktemp("artefacts"))


@pytest.fixture(scope="session")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> FreshClone:
    """A clean clone of the repository through `dvc repro` (tiny models); its test and the e2e suite share it."""
    return build_fresh_clone(tmp_path_factory.mktemp("fresh-clone"))
