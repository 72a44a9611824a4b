"""Popularity baseline: score every movie by how many training users interacted with it.

The weakest honest baseline (docs/evaluation.md): it ignores the user, so any personalised model must beat it. It also
serves new users with an empty history and backs the hybrid's "popular" reasons.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from movie_genie.data.idmap import IdMap
from movie_genie.models.base import (
    ModelConfig,
    Query,
    Recommendation,
    RecommenderBase,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.catalogue import POPULARITY
from movie_genie.models.checkpoint import save_checkpoint
from movie_genie.models.common import NotFittedError, interaction_matrix, recommendations_from_scores


class PopularityConfig(ModelConfig):
    """Popularity has nothing to tune; `refit_with_valid` counts the validation rows too in the final model."""

    refit_with_valid: bool = True


class Popularity(RecommenderBase):
    """Most-interacted-with movies first, the same list for everyone (minus what they have seen)."""

    name: ClassVar[str] = POPULARITY.name
    config_class = PopularityConfig
    config: PopularityConfig
    counts: np.ndarray | None = None  # what fit learns: (n_items,) float32, distinct training users per item

    @classmethod
    def tiny_config(cls) -> PopularityConfig:
        """The config the contract tests train with (popularity is already instant)."""
        return PopularityConfig()

    def _fitted(self) -> tuple[IdMap, np.ndarray]:
        if self.id_map is None or self.counts is None:
            raise NotFittedError("popularity model is not trained: call fit() or load a checkpoint")
        return self.id_map, self.counts

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Count distinct users per item in the training split."""
        start = time.perf_counter()
        self.id_map = data.id_map
        matrix = interaction_matrix(data.train, data.id_map.n_users, data.id_map.n_items)
        self.counts = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()
        log = TrainingLog()
        if validate is not None:
            log.best_valid_ndcg10 = float(validate(self))
            log.epochs.append({"epoch": 0.0, "valid_ndcg10": log.best_valid_ndcg10})
        log.seconds = time.perf_counter() - start
        return log

    def learned(self) -> dict[str, Any]:
        """Nothing is tuned: the counts are the whole model."""
        return {}

    @property
    def refits(self) -> bool:
        """Whether the train stage refits on train + validation (`refit_with_valid`)."""
        return self.config.refit_with_valid

    def refit(self, data: TrainingData) -> TrainingLog:
        """Fit again on `data` (train + validation) with nothing to tune."""
        return self.fit(data)

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """The most popular movies the user has not seen; unknown ids in the history are ignored."""
        id_map, counts = self._fitted()
        return recommendations_from_scores(id_map, counts, id_map.items_to_indices(query.history), k, query.exclude)

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """The popularity vector repeated per history: (len(histories), n_items)."""
        _, counts = self._fitted()
        return np.broadcast_to(counts, (len(histories), counts.size)).copy()

    def save(self, path: Path) -> None:
        """Write the counts, config and id map."""
        id_map, counts = self._fitted()
        save_checkpoint(path, model=self.name, config=self.config.to_dict(), id_map=id_map, state={"counts": counts})

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild from a checkpoint file alone."""
        model, ckpt = cls._restore(path)
        model.counts = ckpt.array("counts").astype(np.float32)
        return model
