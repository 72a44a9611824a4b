"""The recommender protocol every model implements (DESIGN.md §5).

Histories and results are in MovieLens movie ids, oldest first, so the API and live feedback never see dense
indices. `score_batch` works on dense item indices for fast full-catalogue evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from movie_genie.data.idmap import IdMap


@dataclass(frozen=True)
class Recommendation:
    """One recommended movie with its model score and a short reason the UI can show."""

    movie_id: int
    score: float
    reason: str | None = None


@dataclass
class TrainingData:
    """Everything a model may learn from; built once by the train stage from data/split and data/processed."""

    id_map: IdMap
    # Split rows with user_idx/item_idx, sorted by user then time (ties in file order).
    train: pd.DataFrame
    # One row per eligible user: the validation target (tune and early-stop on this, never on test).
    valid: pd.DataFrame
    # Processed movies table, one row per catalogue item, in item-index order (row i = item index i).
    movies: pd.DataFrame
    # Users table (demographics where the layout has them), or None.
    users: pd.DataFrame | None = None
    # Sentence embeddings of each movie's text, shape (n_items, d), item-index order; None when not built.
    item_text_embeddings: np.ndarray | None = None


@dataclass
class TrainingLog:
    """What a fit did, for the report: per-epoch curves, the best validation score and wall time."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_valid_ndcg10: float | None = None
    seconds: float = 0.0


# Given a model mid-training, return its validation NDCG@10 (higher is better). The train stage builds it from
# movie_genie.evaluation so that models need not import the evaluation layer.
Validator = Callable[["Recommender"], float]


@runtime_checkable
class Recommender(Protocol):
    """What every model offers: recommend from a history alone, score in batches, save/load itself."""

    name: ClassVar[str]

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Learn from the training split; neural models early-stop on `validate` and restore the best weights."""
        ...

    def recommend(self, history: Sequence[int], k: int = 10, exclude: Collection[int] = ()) -> list[Recommendation]:
        """Top-k movie ids for a user given only their history (movie ids, oldest first).

        Items in `history` and `exclude` are never returned; unknown movie ids in the history are ignored.
        """
        ...

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores over the whole catalogue, shape (len(histories), n_items), from histories of item indices."""
        ...

    def save(self, path: Path) -> None:
        """Write a self-describing checkpoint (weights + config + id map + version)."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the model from the checkpoint file alone."""
        ...
