"""The recommender protocol every model implements (DESIGN.md §5).

Histories and results are in MovieLens movie ids, oldest first, so the API and live feedback never see dense
indices. `score_batch` works on dense item indices for fast full-catalogue evaluation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, Self, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Recommendation:
    """One recommended movie with its model score and a short reason the UI can show."""

    movie_id: int
    score: float
    reason: str | None = None


@runtime_checkable
class Recommender(Protocol):
    """What every model offers: recommend from a history alone, score in batches, save/load itself."""

    name: ClassVar[str]

    def recommend(
        self, history: Sequence[int], k: int = 10, exclude: Collection[int] = ()
    ) -> list[Recommendation]:
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
