"""The recommenders, loaded once through the models registry: which loaded, their versions, and why the others did
not. The API names a model as the registry does (models/registry.py MODEL_NAMES); SERVED is the order in which
/api/health and /api/models list them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from movie_genie.api import schemas as s
from movie_genie.api.errors import ServiceUnavailableError
from movie_genie.api.metrics import time_inference
from movie_genie.api.services.artefacts import file_version, unreadable
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import Query, Recommender
from movie_genie.models.registry import MODEL_NAMES, checkpoint_path, load_model

log = logging.getLogger(__name__)

# The models the API serves (the `model` values of GET /api/recommendations), in the order the API lists them.
SERVED: tuple[str, ...] = get_args(s.ModelName)


@dataclass
class LoadedModels:
    """The recommenders that loaded, their versions, and why the others did not."""

    models: dict[str, Recommender]
    versions: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, models_dir: Path) -> LoadedModels:
        """Load each checkpoint through the models registry; one broken model never hides the others."""
        models: dict[str, Recommender] = {}
        versions: dict[str, str] = {}
        errors: dict[str, str] = {}
        for name in MODEL_NAMES:
            path = checkpoint_path(models_dir, name)
            if not path.is_file():
                errors[name] = f"{path} not found: run `movie-genie train`"
                continue
            try:
                with time_inference(name, "load"):
                    model = load_model(models_dir, name, models)
                    # Warm-up: lazily built tensors (item vectors, ...) are made now, not in the first request.
                    model.recommend(Query(), k=1)
            except Exception as exc:  # an unreadable checkpoint of any kind is reported, never fatal
                log.error("model %s not loaded: %s", name, exc)
                errors[name] = str(exc) if isinstance(exc, MovieGenieError) else unreadable(path, exc, "train")
                continue
            models[name] = model
            versions[name] = file_version(path)
        return cls(models, versions, errors)

    def first_loaded(self, names: Sequence[str]) -> str:
        """The first of these models that is loaded; 503 when none is."""
        for name in names:
            if name in self.models:
                return name
        raise ServiceUnavailableError(
            f"none of the models {', '.join(names)} is loaded: run `movie-genie train`", code="model_unavailable"
        )

    def get(self, name: str) -> Recommender:
        """The loaded model of this name; 503 saying how to get it when it is not loaded."""
        model = self.models.get(name)
        if model is None:
            raise ServiceUnavailableError(
                f"model '{name}' is not loaded: {self.errors.get(name) or self.errors.get('*') or 'unknown'}",
                code="model_unavailable",
            )
        return model
