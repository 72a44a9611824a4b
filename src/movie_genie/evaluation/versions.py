"""Model versions: what `movie-genie retrain` makes, and which version each model serves.

    artifacts/versions/
      v20261130-081502/        one folder per retrain: <name>.pt checkpoints, training.json, the split it was
        version.json           trained on, and its manifest (data folded in, test figures, candidate - current)
      serving.json             the serving state: the version each model serves (absent: "base", the pipeline's
                               artifacts/models), the versions it replaced (for rollback), runtime experiments

`promote` and `rollback` rewrite serving.json atomically under a lock; every API worker polls it and swaps in the
models it names without a restart (api/services/loaded_models.py). Nothing here deletes a version: a rollback is
one command however far back it goes.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.config import Layout
from movie_genie.errors import DataError, MovieGenieError
from movie_genie.evaluation.online import Experiment
from movie_genie.evaluation.schema import PairedDifference, SplitMetrics
from movie_genie.models.registry import MODEL_NAMES, checkpoint_path

# The pipeline's own checkpoints (artifacts/models): what every model serves until a version is promoted.
BASE = "base"
MANIFEST_FILE = "version.json"
STATE_FILE = "serving.json"
VERSION_PREFIX = "v"


class VersionError(MovieGenieError):
    """A version command that cannot be done as asked (unknown version, nothing to roll back to)."""


class ExperimentExistsError(VersionError):
    """An experiment of that name is already running."""


class FoldedData(BaseModel):
    """What a retrain trained on: the data set's ratings with the app's marks folded in."""

    model_config = ConfigDict(extra="forbid")

    ratings: int = Field(description="interactions after folding in the app's marks")
    users: int
    app_events: int = Field(description="app marks read (ratings, likes, watched, dislikes, not interested)")
    app_users: int = Field(description="users with at least one app mark")
    new_users: int = Field(description="users with no data set ratings (created in the app)")


class VersionedModel(BaseModel):
    """One model of a version: its test figures on the version's split and the paired comparison with the
    version it would replace, evaluated on the same users."""

    model_config = ConfigDict(extra="forbid")

    test: SplitMetrics
    training_seconds: float
    vs_current: PairedDifference | None = Field(
        default=None, description="test NDCG@10 of this version minus the serving one's (paired bootstrap)"
    )


class VersionManifest(BaseModel):
    """version.json: one retrain's models, the data they saw and how they compare with what was serving."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created_at: datetime
    dataset: str
    data: FoldedData
    models: dict[str, VersionedModel]
    test_users: int


class ServingState(BaseModel):
    """serving.json: the version each model serves, the versions it replaced (newest last) and the experiments
    started at run time (the API's POST /api/experiments or `movie-genie models challenge`)."""

    model_config = ConfigDict(extra="forbid")

    active: dict[str, str] = Field(default_factory=dict)
    previous: dict[str, list[str]] = Field(default_factory=dict)
    experiments: list[Experiment] = Field(default_factory=list)
    updated_at: datetime | None = None

    def version_of(self, name: str) -> str:
        """The version `name` serves (BASE unless one was promoted)."""
        return self.active.get(name, BASE)


def new_version_id(now: datetime | None = None) -> str:
    """A sortable, readable id: v<UTC date>-<time>, e.g. v20261130-081502."""
    return VERSION_PREFIX + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


class VersionStore:
    """The versions folder of a layout: manifests, checkpoints and the serving state."""

    def __init__(self, layout: Layout) -> None:
        self.base_dir = layout.models_dir
        self.root = layout.versions_dir

    @property
    def state_path(self) -> Path:
        """serving.json: what every API worker polls."""
        return self.root / STATE_FILE

    def folder(self, version: str) -> Path:
        """Where a version's checkpoints are (BASE: the pipeline's models folder)."""
        return self.base_dir if version == BASE else self.root / version

    def checkpoint(self, name: str, version: str) -> Path:
        """The checkpoint file of model `name` in `version`."""
        return checkpoint_path(self.folder(version), name)

    def manifest(self, version: str) -> VersionManifest:
        """A version's manifest; VersionError names the versions there are when it does not exist."""
        path = self.root / version / MANIFEST_FILE
        if not path.is_file():
            known = ", ".join(m.id for m in self.manifests()) or "none yet: run `movie-genie retrain`"
            raise VersionError(f"no model version {version!r} in {self.root} (versions: {known})")
        try:
            return VersionManifest.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DataError(f"{path} is not a valid version manifest ({exc.__class__.__name__})") from exc

    def manifests(self) -> list[VersionManifest]:
        """Every complete version, oldest first (a retrain that did not finish left no manifest)."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in sorted(self.root.glob(f"{VERSION_PREFIX}*")):
            path = folder / MANIFEST_FILE
            if path.is_file():
                try:
                    found.append(VersionManifest.model_validate_json(path.read_text(encoding="utf-8")))
                except (OSError, ValidationError):
                    continue  # a damaged manifest hides that one version, never the others
        return found

    def state(self) -> ServingState:
        """The serving state; an empty one (everything on BASE) when there is no serving.json yet."""
        if not self.state_path.is_file():
            return ServingState()
        try:
            return ServingState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DataError(
                f"{self.state_path} is not a valid serving state ({exc.__class__.__name__}); fix or delete it "
                "(deleting serves every model's base version)"
            ) from exc

    @contextmanager
    def editing(self) -> Iterator[ServingState]:
        """Read, change and write back the serving state under an exclusive lock: two commands (or a command and
        the API) never lose each other's change, and a reader sees the old file or the new one, never half."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".serving.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.state()
            yield state
            state.updated_at = datetime.now(UTC)
            tmp = self.state_path.with_suffix(".json.tmp")
            tmp.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, self.state_path)

    def promote(self, version: str, names: Sequence[str] = ()) -> dict[str, tuple[str, str]]:
        """Serve `version` for `names` (default: every model it has); model -> (old, new) version."""
        manifest = self.manifest(version)
        wanted = list(names) or list(manifest.models)
        missing = [n for n in wanted if n not in manifest.models]
        if missing:
            raise VersionError(f"version {version} has no {', '.join(missing)} (it has {', '.join(manifest.models)})")
        changes: dict[str, tuple[str, str]] = {}
        with self.editing() as state:
            for name in wanted:
                old = state.version_of(name)
                if old == version:
                    continue
                state.previous.setdefault(name, []).append(old)
                state.active[name] = version
                changes[name] = (old, version)
        return changes

    def rollback(self, names: Sequence[str] = ()) -> dict[str, tuple[str, str]]:
        """Serve again the version each model served before its last promotion (default: every promoted model)."""
        changes: dict[str, tuple[str, str]] = {}
        with self.editing() as state:
            wanted = list(names) or [n for n in MODEL_NAMES if state.previous.get(n)]
            if not wanted:
                raise VersionError("nothing to roll back: no model has been promoted (`movie-genie models list`)")
            for name in wanted:
                history = state.previous.get(name) or []
                if not history:
                    raise VersionError(f"{name} serves {state.version_of(name)} and has no earlier version")
                old, new = state.version_of(name), history.pop()
                if new == BASE:
                    state.active.pop(name, None)
                else:
                    state.active[name] = new
                changes[name] = (old, new)
        return changes

    def add_experiment(self, experiment: Experiment) -> None:
        """Start an experiment at run time (it joins params.yaml's); a name already in use is a VersionError."""
        with self.editing() as state:
            if any(e.name == experiment.name for e in state.experiments):
                raise ExperimentExistsError(f"an experiment named {experiment.name!r} already exists")
            for variant in experiment.variants:
                name, _, version = variant.partition("@")
                if version and version != BASE and name not in self.manifest(version).models:
                    raise VersionError(f"version {version} has no model {name}")
            state.experiments.append(experiment)
