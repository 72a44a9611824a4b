"""EASE (Steck, 2019): a closed-form item-item linear autoencoder, the strong baseline every model must beat.

With X the binary user x item matrix, P = (X^T X + lambda I)^-1 and B = I - P diag(1/diag(P)), so diag(B) = 0
and a user's scores are x_u B. lambda is tuned on validation over the grid in params.yaml; the final model is then
refit on train + validation with the chosen lambda (`refit_with_valid`), which is how the known answers in the
issue were measured.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import torch
from tqdm.auto import tqdm

from movie_genie.data.idmap import IdMap
from movie_genie.models.base import Query, Recommendation, TrainingData, TrainingLog, Validator
from movie_genie.models.checkpoint import load_checkpoint, save_checkpoint
from movie_genie.models.common import (
    NotFittedError,
    histories_matrix,
    interaction_matrix,
    recommendations_from_scores,
)
from movie_genie.models.seeding import torch_threads
from movie_genie.models.sequences import config_from_params


@dataclass(frozen=True)
class EaseConfig:
    """`lambdas`: the L2 grid tried on validation (one value = no tuning); float32 halves time and memory."""

    lambdas: tuple[float, ...] = (100.0, 200.0, 500.0, 1000.0)
    refit_with_valid: bool = True
    dtype: Literal["float32", "float64"] = "float32"
    # torch threads for the inverse (0 = torch's default): 1 is fastest on a small shared CPU when cores are busy.
    threads: int = 1
    progress: bool = True  # a progress bar over the lambda grid with each validation score

    def __post_init__(self) -> None:
        object.__setattr__(self, "lambdas", tuple(float(v) for v in self.lambdas))  # params.yaml gives a list
        if not self.lambdas or any(lam <= 0 for lam in self.lambdas):
            raise ValueError(f"models.ease.lambdas must be a non-empty list of positive numbers, got {self.lambdas}")

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> EaseConfig:
        """Build from the `models.ease` section of params.yaml (with its `per_dataset` overrides for `dataset`)."""
        return config_from_params(cls, section, dataset)


def ease_weights(gram: np.ndarray, lam: float, dtype: torch.dtype = torch.float32, threads: int = 1) -> np.ndarray:
    """B = I - P diag(1/diag(P)) with P = (G + lam I)^-1, G = X^T X of shape (n_items, n_items)."""
    with torch_threads(threads):
        return _ease_weights(gram, lam, dtype)


def _ease_weights(gram: np.ndarray, lam: float, dtype: torch.dtype) -> np.ndarray:
    g = torch.from_numpy(gram).to(dtype)
    g.diagonal().add_(lam)
    # G + lam I is symmetric positive definite, so a Cholesky inverse is exact and about twice as fast as LU.
    p = torch.cholesky_inverse(torch.linalg.cholesky(g))
    del g
    b = p.div_(-torch.diagonal(p).clone())  # column j divided by -P_jj
    b.diagonal().zero_()
    return b.to(torch.float32).numpy()


class Ease:
    """Item-item weights B (n_items, n_items); scores are the sum of B's rows for the history's items."""

    name: ClassVar[str] = "ease"

    def __init__(self, config: EaseConfig | None = None) -> None:
        self.config = config or EaseConfig()
        self.id_map: IdMap | None = None
        self.chosen_lambda: float | None = None  # the grid's best on validation, set by fit
        self.weights: np.ndarray | None = None  # (n_items, n_items) float32
        # (n_items,) users per item (the Gram diagonal): the ranking for an empty or all-unknown history.
        self.item_counts: np.ndarray | None = None

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> Self:
        """A model configured by its params.yaml section."""
        return cls(EaseConfig.from_params(section, dataset))

    @classmethod
    def tiny_config(cls) -> EaseConfig:
        """The config the contract tests train with: a two-value grid so tuning runs too."""
        return EaseConfig(lambdas=(50.0, 200.0), progress=False)

    @property
    def lam(self) -> float:
        """The lambda in use: the tuned one after fit, else the grid's only/first value."""
        return self.chosen_lambda if self.chosen_lambda is not None else self.config.lambdas[0]

    def _fitted(self) -> tuple[IdMap, np.ndarray, np.ndarray]:
        if self.id_map is None or self.weights is None or self.item_counts is None:
            raise NotFittedError("EASE model is not trained: call fit() or load a checkpoint")
        return self.id_map, self.weights, self.item_counts

    def _torch_dtype(self) -> torch.dtype:
        return torch.float64 if self.config.dtype == "float64" else torch.float32

    def _gram(self, data: TrainingData) -> np.ndarray:
        x = interaction_matrix(data.train, data.id_map.n_users, data.id_map.n_items)
        return np.asarray((x.T @ x).toarray(), dtype=np.float64)

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Solve for B at each grid lambda, keep the one with the best validation NDCG@10."""
        start = time.perf_counter()
        self.id_map = data.id_map
        gram = self._gram(data)
        self.item_counts = np.diag(gram).astype(np.float32)
        log = TrainingLog()
        grid = self.config.lambdas if validate is not None else (self.lam,)
        best: tuple[float, float, np.ndarray] | None = None
        bar = tqdm(grid, desc="ease lambda", unit="solve", disable=not self.config.progress or len(grid) < 2)
        for lam in bar:
            self.weights = ease_weights(gram, lam, self._torch_dtype(), self.config.threads)
            if validate is None:
                best = (lam, float("nan"), self.weights)
                break
            score = float(validate(self))
            log.epochs.append({"lambda": float(lam), "valid_ndcg10": score})
            bar.set_postfix(lam=f"{lam:g}", ndcg10=f"{score:.4f}")
            if best is None or score > best[1]:
                best = (lam, score, self.weights)
            else:
                self.weights = None  # free the losing matrix before the next solve
        assert best is not None
        self.chosen_lambda = best[0]
        self.weights = best[2]
        log.best_valid_ndcg10 = None if validate is None else best[1]
        log.seconds = time.perf_counter() - start
        return log

    def learned(self) -> dict[str, Any]:
        """The lambda chosen on validation, and the grid it came from."""
        return {"chosen_lambda": self.lam, "lambdas": list(self.config.lambdas)}

    @property
    def refits(self) -> bool:
        """Whether the train stage refits on train + validation (`refit_with_valid`)."""
        return self.config.refit_with_valid

    def refit(self, data: TrainingData) -> TrainingLog:
        """Fit again on `data` (train + validation) with the lambda chosen by `fit`, no tuning."""
        start = time.perf_counter()
        self.id_map = data.id_map
        gram = self._gram(data)
        self.item_counts = np.diag(gram).astype(np.float32)
        self.weights = ease_weights(gram, self.lam, self._torch_dtype(), self.config.threads)
        return TrainingLog(seconds=time.perf_counter() - start)

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k unseen movies for any history; unknown ids are ignored, an empty history gets the most popular."""
        id_map, weights, counts = self._fitted()
        idx = sorted(set(id_map.items_to_indices(query.history)))
        scores = weights[idx].sum(axis=0) if idx else counts
        return recommendations_from_scores(id_map, scores, idx, k, query.exclude)

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """x B for each history: (len(histories), n_items) float32 (popularity counts for an empty history)."""
        id_map, weights, counts = self._fitted()
        x = histories_matrix(histories, id_map.n_items)
        scores = np.asarray(x @ weights, dtype=np.float32)
        empty = np.flatnonzero(np.diff(x.indptr) == 0)
        scores[empty] = counts
        return scores

    def save(self, path: Path) -> None:
        """Write B, the config, the chosen lambda and the id map."""
        id_map, weights, counts = self._fitted()
        config = asdict(self.config)
        config["lambdas"] = list(self.config.lambdas)
        save_checkpoint(
            path,
            model=self.name,
            config=config,
            id_map=id_map,
            state={"weights": weights, "item_counts": counts},
            extra={"chosen_lambda": self.chosen_lambda},
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild from a checkpoint file alone."""
        ckpt = load_checkpoint(path, cls.name)
        model = cls(EaseConfig(**ckpt.config))
        model.id_map = ckpt.id_map
        model.chosen_lambda = ckpt.extra.get("chosen_lambda")
        model.weights = ckpt.array("weights")
        model.item_counts = ckpt.array("item_counts")
        return model
