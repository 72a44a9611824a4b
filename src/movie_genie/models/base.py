"""The recommender protocol every model implements, and the optional capabilities some models add.

Histories and results are in MovieLens movie ids, oldest first, so the API and live feedback never see dense
indices. `score_batch` works on dense item indices for fast full-catalogue evaluation. A capability (similar items,
item vectors, similar users, refitting, being built on other models) is a small protocol of its own: callers ask
`isinstance(model, SimilarItems)` instead of probing attributes. Hyperparameters live in `config`; what `fit`
learned (weights, a tuned lambda, blend weights) lives in the model and its checkpoint, and `learned()` lists the
values a report should show.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd
from pydantic import ValidationError

from movie_genie.config import Section
from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.models.checkpoint import Checkpoint, load_checkpoint
from movie_genie.models.reasons import Reason


@dataclass(frozen=True)
class Recommendation:
    """One recommended movie with its model score and, as data, why (worded only at the API's edge)."""

    movie_id: int
    score: float
    reason: Reason | None = None


@dataclass(frozen=True)
class Query:
    """What a model is asked: the history (movie ids, oldest first), the user when known, ids never to return.

    Only models that hold per-user state (Two-Tower's user features) read `user_id`; a user the model never saw, or
    none, is served from the history alone. History items are never returned either.
    """

    history: Sequence[int] = ()
    user_id: int | None = None
    exclude: Collection[int] = ()


@dataclass(frozen=True)
class SimilarUser:
    """A training user whose taste vector is close to the query's."""

    user_id: int
    score: float


@dataclass
class TrainingData:
    """Everything a model may learn from; built once by the train stage from data/split and data/processed."""

    id_map: IdMap
    # Split rows with user_idx/item_idx, sorted by user then time (ties in file order): the interactions a model
    # learns a taste from. Ratings that say the person disliked the film are not among them (data.liking) ...
    train: pd.DataFrame
    # One row per eligible user: the validation target (tune and early-stop on this, never on test).
    valid: pd.DataFrame
    # Processed movies table, one row per catalogue item, in item-index order (row i = item index i).
    movies: pd.DataFrame
    # Users table (demographics where the layout has them), or None.
    users: pd.DataFrame | None = None
    # Sentence embeddings of each movie's text, shape (n_items, d), item-index order; None when not built.
    item_text_embeddings: np.ndarray | None = None
    # ... they are here, same columns: films never to recommend to that user (None: no ratings were split off).
    disliked: pd.DataFrame | None = None


@dataclass
class TrainingLog:
    """What a fit did, for the report: per-epoch curves, the best validation score and wall time."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_valid_ndcg10: float | None = None
    seconds: float = 0.0


# Given a model mid-training, return its validation NDCG@10 (higher is better). The train stage builds it from
# movie_genie.evaluation so that models need not import the evaluation layer.
Validator = Callable[["Recommender"], float]


class ModelConfigError(MovieGenieError):
    """A model section of params.yaml has an unknown key or a value of the wrong type."""


class ModelConfig(Section):
    """Base of every model's config: a frozen pydantic model of hyperparameters (`config.Section`, the project's one
    config idiom), read from params.yaml one way."""

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> Self:
        """Build from a `models.<name>` section of params.yaml: top-level values, then `per_dataset[dataset]` ones.

        Unknown keys raise ModelConfigError naming the key, so a typo in params.yaml never passes silently.
        """
        section = dict(section or {})
        overrides = section.pop("per_dataset", None) or {}
        if not isinstance(overrides, Mapping):
            raise ModelConfigError(f"{cls.__name__}: per_dataset must map data set names to settings")
        values = dict(section)
        if dataset is not None and dataset in overrides:
            values.update(overrides[dataset] or {})
        known = set(cls.model_fields)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelConfigError(f"{cls.__name__}: unknown params.yaml key(s) {unknown}; valid keys: {sorted(known)}")
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ModelConfigError(f"{cls.__name__}: invalid params.yaml settings: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The values as a checkpoint stores them: plain JSON-like values, tuples as lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.model_dump().items()}


class RecommenderBase:
    """How every model starts: `Model(config)` (the defaults when None) or `Model.from_params(section, dataset)`,
    with no catalogue until fit or load."""

    name: ClassVar[str]
    config_class: ClassVar[type[ModelConfig]]
    config: Any  # a config_class instance (each model narrows the type)

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or self.config_class()
        self.id_map: IdMap | None = None

    @classmethod
    def _restore(cls, path: Path) -> tuple[Self, Checkpoint]:
        """The model a checkpoint file describes, with its config and catalogue; the caller restores what it learned
        from the returned checkpoint."""
        ckpt = load_checkpoint(path, expected_model=cls.name)
        model = cls(cls.config_class(**ckpt.config))
        model.id_map = ckpt.id_map
        return model, ckpt

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> Self:
        """An untrained model configured by its params.yaml section (with the overrides for `dataset`, when given)."""
        return cls(cls.config_class.from_params(section, dataset))


@runtime_checkable
class Recommender(Protocol):
    """What every model offers: build from params, fit, recommend for a query, score in batches, save/load itself."""

    name: ClassVar[str]
    config: Any  # the hyperparameters (a frozen pydantic model read from params.yaml), never values learned by fit
    id_map: IdMap | None  # the catalogue it was trained on (None before fit/load)

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> Self:
        """An untrained model configured by its `models.<name>` section of params.yaml (`per_dataset` applied)."""
        ...

    @classmethod
    def tiny_config(cls) -> Any:
        """A config that trains in seconds, for the contract tests."""
        ...

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Learn from the training split; neural models early-stop on `validate` and restore the best weights."""
        ...

    def learned(self) -> dict[str, Any]:
        """What fit chose that a report should show (e.g. EASE's lambda, the hybrid's weights); JSON-ready."""
        ...

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k movie ids for the query; history and excluded ids are never returned, unknown ids are ignored."""
        ...

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores over the whole catalogue, shape (len(histories), n_items), from histories of item indices."""
        ...

    def save(self, path: Path) -> None:
        """Write a self-describing checkpoint (weights + config + learned values + id map + version)."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the model from the checkpoint file alone."""
        ...


# --- optional capabilities ------------------------------------------------------------------------------------


@runtime_checkable
class Refittable(Protocol):
    """Fits again on training + validation rows with what `fit` tuned, before the test (when `refits` says so)."""

    @property
    def refits(self) -> bool:
        """Whether the train stage should call `refit` (the config's `refit_with_valid`)."""
        ...

    def refit(self, data: TrainingData) -> TrainingLog:
        """Fit on `data` (train + validation) without tuning again."""
        ...


@runtime_checkable
class MemoryBounded(Protocol):
    """Its memory grows faster than the data (EASE: with the square of the catalogue), so it can tell before any
    training whether a catalogue fits its memory budget."""

    def check_memory(self, id_map: IdMap) -> None:
        """Raise a MovieGenieError naming the memory needed when fitting on this catalogue would not fit."""
        ...


@runtime_checkable
class SimilarItems(Protocol):
    """Answers "films like this one"."""

    def similar_items(self, movie_id: int, k: int = 10) -> list[Recommendation]:
        """The k films closest to `movie_id` (never the film itself)."""
        ...


@runtime_checkable
class ItemVectors(Protocol):
    """Exposes one unit-norm vector per catalogue item, in item-index order of its `id_map`."""

    def item_vectors(self) -> np.ndarray:
        """(n_items, d) float32, L2-normalised."""
        ...


@runtime_checkable
class SimilarUsers(Protocol):
    """Finds training users with a similar taste to a history."""

    def similar_users(self, history: Sequence[int], k: int = 10) -> list[SimilarUser]:
        """The k training users closest to the taste of `history` (movie ids); empty when it cannot say."""
        ...


@runtime_checkable
class Composite(Protocol):
    """A model built on other trained models (the hybrid): it is given them before fit and saved beside them."""

    def component_names(self) -> tuple[str, ...]:
        """The registry names of the models it needs."""
        ...

    def replace_components(self, components: Mapping[str, Recommender]) -> None:
        """Use these trained models (e.g. the refit finals after tuning on the phase-1 ones)."""
        ...

    @classmethod
    def load_sharing(cls, path: Path, components: Mapping[str, Recommender]) -> Any:
        """Load, reusing components already loaded from the same folder instead of reading them twice."""
        ...
