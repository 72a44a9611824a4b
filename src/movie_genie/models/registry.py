"""Model name -> class, and loading every trained checkpoint for serving.

Classes are imported lazily (from each spec's `loader` in models/catalogue.py) so a missing optional model never
breaks the others. Every class implements the `Recommender` protocol of models/base.py (plus whichever optional
capabilities it has).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from movie_genie.errors import ArtifactMissingError, MovieGenieError
from movie_genie.models.base import Composite, Recommender
from movie_genie.models.catalogue import CATALOGUE, MODEL_NAMES


class UnknownModelError(MovieGenieError):
    """A model name that is not in the registry."""


class ModelUnavailableError(MovieGenieError):
    """A registered model whose module or class cannot be imported in this installation."""


def model_class(name: str) -> type[Recommender]:
    """The class registered under `name`."""
    try:
        spec = CATALOGUE.spec(name)
    except KeyError:
        raise UnknownModelError(f"unknown model '{name}'; choose one of: {', '.join(MODEL_NAMES)}") from None
    if spec.loader is None:
        raise UnknownModelError(
            f"model '{name}' is not trained (it is served by search); choose one of: {', '.join(MODEL_NAMES)}"
        )
    module_name, _, class_name = spec.loader.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # a real missing dependency inside the module: let it surface
        raise ModelUnavailableError(f"model '{name}' is not available: module {module_name} does not exist") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ModelUnavailableError(f"model '{name}' is not available: {module_name} has no class {class_name}")
    return cls


def available_models() -> list[str]:
    """Registered model names whose classes can be imported, in training order."""
    names = []
    for name in MODEL_NAMES:
        try:
            model_class(name)
        except ModelUnavailableError:
            continue
        names.append(name)
    return names


def checkpoint_path(models_dir: Path, name: str) -> Path:
    """Where the checkpoint of `name` lives: <models_dir>/<name>.pt."""
    return Path(models_dir) / f"{name}.pt"


def load_model(models_dir: Path, name: str, loaded: Mapping[str, Recommender] | None = None) -> Recommender:
    """Load one model from its checkpoint; a composite (the hybrid) reuses components already `loaded`."""
    cls = model_class(name)
    path = checkpoint_path(models_dir, name)
    if issubclass(cls, Composite):
        return cast(Recommender, cls.load_sharing(path, loaded or {}))
    return cls.load(path)


def load_models(models_dir: Path, names: tuple[str, ...] | list[str] | None = None) -> dict[str, Recommender]:
    """Load every model with a checkpoint in `models_dir` (or exactly `names`, which must all exist)."""
    models_dir = Path(models_dir)
    if names is None:
        wanted = [n for n in MODEL_NAMES if checkpoint_path(models_dir, n).is_file()]
        if not wanted:
            raise ArtifactMissingError(f"no model checkpoints in {models_dir}: run `movie-genie train` first")
    else:
        wanted = list(names)
    models: dict[str, Recommender] = {}
    for name in wanted:  # registry order: the hybrid comes after its components and shares them
        models[name] = load_model(models_dir, name, models)
    return models
