"""The recommenders, loaded through the models registry at the version each one serves: which loaded, their
versions, why the others did not, and the hot reload that swaps in a newly promoted version without a restart.

The API names a model as the registry does (models/registry.py MODEL_NAMES); SERVED is the order in which
/api/health and /api/models list them. An experiment may also name `<model>@<version>` (a retrained challenger,
training/versions.py): those are loaded under that key beside the serving models.

Hot reload: each worker process polls serving.json (ServingStore.state_path) in a background thread, with the
progress file of a first run that trains models behind the server (training/progress.py). When one changes, the
models whose version changed (or whose checkpoint appeared) are loaded and warmed up while requests go on being
served by the old ones; then one reference is swapped. A request reads that reference once (`snapshot`), so it is
answered wholly by the old models or wholly by the new; none waits and none fails. A version that fails to load
leaves the old one serving and the error in /api/models.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from movie_genie.api import schemas as s
from movie_genie.api.errors import ServiceUnavailableError, public_text
from movie_genie.api.metrics import time_inference
from movie_genie.api.services.artefacts import file_version, unreadable
from movie_genie.models.base import Query, Recommender
from movie_genie.models.catalogue import MODEL_NAMES
from movie_genie.models.registry import load_model
from movie_genie.online.experiments import Experiment
from movie_genie.online.serving import ServingState, ServingStore
from movie_genie.training.versions import BASE

log = logging.getLogger(__name__)

# The models the API serves (the `model` values of GET /api/recommendations), in the order the API lists them.
SERVED: tuple[str, ...] = get_args(s.ModelName)


@dataclass(frozen=True)
class Snapshot:
    """One consistent set of loaded models: key (a model name, or name@version) -> model, file version, release."""

    models: dict[str, Recommender]
    versions: dict[str, str]  # short content hash of the checkpoint: part of every cache key
    releases: dict[str, str]  # the version (BASE or a retrain's id) each key was loaded from
    errors: dict[str, str] = field(default_factory=dict)


# key -> (model name, version): what a worker should have loaded.
Wanted = dict[str, tuple[str, str]]


def wanted_versions(state: ServingState, experiments: Sequence[Experiment]) -> Wanted:
    """key -> (model name, version) for every serving model and every `name@version` challenger an experiment
    names."""
    wanted = {name: (name, state.version_of(name)) for name in MODEL_NAMES}
    for experiment in experiments:
        for variant in experiment.variants:
            name, _, version = variant.partition("@")
            if version:
                wanted[variant] = (name, version)
    return wanted


class LoadedModels:
    """The recommenders that loaded, their versions, and why the others did not; swapped whole on a reload."""

    def __init__(self, snapshot: Snapshot, store: ServingStore | None = None) -> None:
        self._snapshot = snapshot
        self.store = store
        self.reload_error: str | None = None
        self._lock = threading.Lock()  # one reload at a time (the poller, or a test calling reload())

    @classmethod
    def load(cls, models_dir: Path, store: ServingStore | None = None, wanted: Wanted | None = None) -> LoadedModels:
        """Load each wanted key (default: every model from `models_dir`) from its version's folder in `store`;
        one broken model never hides the others."""
        if store is None or wanted is None:
            return cls(_load({name: (name, BASE) for name in MODEL_NAMES}, lambda _version: models_dir, None), store)
        return cls(_load(wanted, store.folder, None), store)

    # --- what requests read ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current set of models: read it once per request for a consistent model and version."""
        return self._snapshot

    @property
    def models(self) -> dict[str, Recommender]:
        return self._snapshot.models

    @property
    def versions(self) -> dict[str, str]:
        return self._snapshot.versions

    @property
    def releases(self) -> dict[str, str]:
        return self._snapshot.releases

    @property
    def errors(self) -> dict[str, str]:
        return self._snapshot.errors

    def first_loaded(self, names: Sequence[str]) -> str:
        """The first of these models that is loaded; 503 when none is."""
        for name in names:
            if name in self.models:
                return name
        raise ServiceUnavailableError(
            f"none of the models {', '.join(names)} is loaded: run `movie-genie train`", code="model_unavailable"
        )

    def get(self, name: str, snapshot: Snapshot | None = None) -> Recommender:
        """The loaded model of this name (in `snapshot`, default the current one); 503 saying how to get it when it
        is not loaded."""
        loaded = snapshot or self._snapshot
        model = loaded.models.get(name)
        if model is None:
            raise ServiceUnavailableError(
                f"model '{name}' is not loaded: {loaded.errors.get(name) or loaded.errors.get('*') or 'unknown'}",
                code="model_unavailable",
            )
        return model

    # --- hot reload ------------------------------------------------------------------------------------------

    def reload(self, wanted: Wanted) -> list[str]:
        """Load the wanted versions (models whose version is unchanged are kept as they are), then swap; the keys
        that changed. A failure leaves the old models serving and is kept in `reload_error`."""
        if self.store is None:
            return []
        with self._lock:
            try:
                fresh = _load(wanted, self.store.folder, previous=self._snapshot)
            except Exception as exc:  # a broken version never takes the server down
                self.reload_error = public_text(str(exc))
                log.error("model reload failed, the loaded models keep serving: %s", exc)
                return []
            changed = [k for k in fresh.models if self.versions.get(k) != fresh.versions.get(k)]
            changed += [k for k in self.models if k not in fresh.models]
            self._snapshot = fresh  # the swap: one reference assignment, atomic for every reader
            kept = [f"{k}@{wanted[k][1]}: {e}" for k, e in fresh.errors.items() if k in fresh.models]
            self.reload_error = "; ".join(kept) or None
            if changed:
                log.info("models reloaded: %s", ", ".join(f"{k}@{fresh.releases.get(k, '-')}" for k in changed))
            return changed


def _load(wanted: Wanted, folder_of: Callable[[str], Path], previous: Snapshot | None) -> Snapshot:
    """Load every wanted key; a key whose release and file are unchanged keeps its already loaded model."""
    models: dict[str, Recommender] = {}
    versions: dict[str, str] = {}
    releases: dict[str, str] = {}
    errors: dict[str, str] = {}
    by_folder: dict[Path, dict[str, Recommender]] = {}  # a hybrid shares components loaded from its own folder
    for key, (name, release) in wanted.items():
        folder = folder_of(release)
        path = folder / f"{name}.pt"
        if not path.is_file():
            if previous is not None and previous.releases.get(key) == release and key in previous.models:
                # Its stage is retraining it (DVC removes a stage's outputs first): the old model keeps serving.
                models[key], versions[key], releases[key] = previous.models[key], previous.versions[key], release
                by_folder.setdefault(folder, {})[name] = models[key]
                continue
            log.warning("model %s (%s) not loaded: %s not found", name, release, path)
            trained = (
                "run `movie-genie train`" if release == BASE else f"retrain or promote another version than {release}"
            )
            errors[key] = f"no trained checkpoint: {trained}"
            continue
        digest = file_version(path)
        if previous is not None and previous.releases.get(key) == release and previous.versions.get(key) == digest:
            model = previous.models[key]
        else:
            try:
                with time_inference(name, "load"):
                    model = load_model(folder, name, by_folder.get(folder, {}))
                    # Warm-up: lazily built tensors (item vectors, ...) are made now, not in the first request.
                    model.recommend(Query(), k=1)
            except Exception as exc:  # an unreadable checkpoint of any kind is reported, never fatal
                log.error("model %s (%s) not loaded from %s: %s", name, release, path, exc)
                errors[key] = unreadable("its checkpoint", "train", exc)
                if previous is not None and key in previous.models:  # a reload: the old model keeps serving
                    models[key], versions[key] = previous.models[key], previous.versions[key]
                    releases[key] = previous.releases[key]
                continue
        by_folder.setdefault(folder, {})[name] = model
        models[key], versions[key], releases[key] = model, digest, release
    return Snapshot(models, versions, releases, errors)


class ReloadPoller:
    """A daemon thread per worker that calls `on_change` when one of `paths` changes (checked every `every_s`):
    serving.json, the first run's progress file, the evaluation report."""

    def __init__(self, paths: Sequence[Path], on_change: Callable[[], object], every_s: float) -> None:
        self.paths, self.on_change, self.every_s = tuple(paths), on_change, every_s
        self._seen = self._stamp()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-reload", daemon=True)

    def start(self) -> ReloadPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        return tuple(_file_stamp(path) for path in self.paths)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            stamp = self._stamp()
            if stamp != self._seen:
                self._seen = stamp
                try:
                    self.on_change()
                except Exception:  # the poller must outlive any one bad change
                    log.exception("reacting to a change of %s failed", ", ".join(map(str, self.paths)))


def _file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size), or None for a missing file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size
