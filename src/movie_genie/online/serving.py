"""The serving state: which version each model serves, the versions it replaced, and the experiments started at run
time. `promote` and `rollback` rewrite serving.json atomically under a lock; every API worker polls it and swaps in
the models it names without a restart (api/services/loaded_models.py): this is how models refresh from feedback.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.errors import DataError
from movie_genie.files import write_text_atomically
from movie_genie.models.catalogue import MODEL_NAMES
from movie_genie.online.experiments import Experiment
from movie_genie.training.versions import BASE, VersionError, VersionStore

STATE_FILE = "serving.json"


class ExperimentExistsError(VersionError):
    """An experiment of that name is already running."""


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


class ServingStore(VersionStore):
    """The versions folder together with its serving state (serving.json)."""

    @property
    def state_path(self) -> Path:
        """serving.json: what every API worker polls."""
        return self.root / STATE_FILE

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
            write_text_atomically(self.state_path, state.model_dump_json(indent=2) + "\n")

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
