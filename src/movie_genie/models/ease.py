"""EASE (Steck, 2019): a closed-form item-item linear autoencoder, the strong baseline every model must beat.

With X the binary user x item matrix, P = (X^T X + lambda I)^-1 and B = I - P diag(1/diag(P)), so diag(B) = 0
and a user's scores are x_u B. lambda is tuned on validation over the grid in params.yaml; the final model is then
refit on train + validation with the chosen lambda (`refit_with_valid`), which is how the known answers in the
issue were measured.

The dense (n_items, n_items) matrices make EASE the one model whose memory grows with the square of the catalogue
(ml-32m's 87k films: ~86 GiB while fitting), so `fit` first checks its memory budget and refuses with a message
that names the memory it would need (`check_memory`), before any work is done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import psutil
import scipy.sparse as sp
from pydantic import model_validator
from scipy.linalg import get_lapack_funcs
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import (
    ModelConfig,
    Query,
    Recommendation,
    RecommenderBase,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.catalogue import EASE
from movie_genie.models.checkpoint import save_checkpoint
from movie_genie.models.common import (
    NotFittedError,
    histories_matrix,
    interaction_matrix,
    recommendations_from_scores,
)


class EaseConfig(ModelConfig):
    """`lambdas`: the L2 grid tried on validation (one value = no tuning); float32 halves time and memory."""

    lambdas: tuple[float, ...] = (100.0, 200.0, 500.0, 1000.0)
    refit_with_valid: bool = True
    dtype: Literal["float32", "float64"] = "float32"
    # BLAS threads for the inverse (0 = the library's default): 1 is fastest on a small shared CPU when cores are busy.
    threads: int = 1
    progress: bool = True  # a progress bar over the lambda grid with each validation score
    # Most memory (GiB) a fit may take; None = 80% of the memory available when the fit starts.
    memory_budget_gib: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.lambdas or any(lam <= 0 for lam in self.lambdas):
            raise ValueError(f"models.ease.lambdas must be a non-empty list of positive numbers, got {self.lambdas}")
        return self


GIB = 2**30
AVAILABLE_SHARE = 0.8  # of the memory available now: the default budget (the rest is for the process and others)
GRAM_BLOCK = 2048  # item columns per sparse block of the Gram matrix: bounds the sparse intermediate


class EaseMemoryError(MovieGenieError):
    """The catalogue is too large for EASE's dense items x items matrices within the memory budget."""


def ease_memory_bytes(n_items: int, dtype: str = "float32") -> int:
    """Peak bytes of a fit, all (n_items, n_items): the float32 Gram, the solver's one matrix in `dtype` (factored
    and inverted in place), the best B kept while the next lambda is solved (or the tuned copy while refitting),
    and with float64 the float32 copy of the result."""
    per_entry = 4 + 4 + (8 + 4 if dtype == "float64" else 4)
    return n_items * n_items * per_entry


def memory_budget_bytes(config: EaseConfig) -> int:
    """The configured budget, else AVAILABLE_SHARE of the memory available right now."""
    if config.memory_budget_gib is not None:
        return int(config.memory_budget_gib * GIB)
    return int(AVAILABLE_SHARE * psutil.virtual_memory().available)


def check_memory(config: EaseConfig, n_items: int, stage: str = "train") -> None:
    """Raise EaseMemoryError naming the stage and the memory needed when a fit would exceed the budget."""
    needed, budget = ease_memory_bytes(n_items, config.dtype), memory_budget_bytes(config)
    if needed > budget:
        source = (
            "models.ease.memory_budget_gib"
            if config.memory_budget_gib is not None
            else f"{AVAILABLE_SHARE:.0%} of the memory available now; set models.ease.memory_budget_gib to override"
        )
        raise EaseMemoryError(
            f"{stage}: EASE would need about {needed / GIB:,.1f} GiB for {n_items:,} films (dense {n_items:,} x "
            f"{n_items:,} {config.dtype} matrices: the Gram matrix, its inverse and the weights), "
            f"over its memory budget of {budget / GIB:,.1f} GiB ({source}). Train the other models without it "
            "(`movie-genie train --model NAME ...`, and drop ease from models.hybrid.components), use a smaller "
            "data set, or a machine with more memory."
        )


def gram_matrix(x: sp.csr_matrix) -> np.ndarray:
    """X^T X as a dense float32 (n_items, n_items) matrix, built a block of columns at a time.

    Co-occurrence counts are exact in float32 below 2^24 users. One sparse product of the whole matrix would hold a
    sparse copy of a nearly dense result (12 bytes per entry) next to the dense one.
    """
    n_items = x.shape[1]
    gram = np.empty((n_items, n_items), dtype=np.float32)
    xt, xc = x.T.tocsr(), x.tocsc()
    for start in range(0, n_items, GRAM_BLOCK):
        stop = min(start + GRAM_BLOCK, n_items)
        gram[:, start:stop] = (xt @ xc[:, start:stop]).toarray()
    return gram


def ease_weights(gram: np.ndarray, lam: float, dtype: str = "float32", threads: int = 1) -> np.ndarray:
    """B = I - P diag(1/diag(P)) with P = (G + lam I)^-1, G = X^T X of shape (n_items, n_items)."""
    with threadpool_limits(threads or None):
        return _ease_weights(gram, lam, np.dtype(dtype))


def _ease_weights(gram: np.ndarray, lam: float, dtype: np.dtype) -> np.ndarray:
    # G + lam I is symmetric positive definite, so a Cholesky inverse is exact and about twice as fast as LU.
    # LAPACK's potrf + potri factor and invert in place: one (n, n) solver matrix besides the Gram, which the next
    # lambda reuses (torch.cholesky_inverse needs a second one and was 7x slower than potri here).
    a = np.array(gram, dtype=dtype)  # C order; its transpose is the same symmetric matrix in Fortran order,
    a[np.diag_indices_from(a)] += lam  # which LAPACK overwrites instead of copying
    potrf, potri = get_lapack_funcs(("potrf", "potri"), (a.T,))
    factor, info = potrf(a.T, lower=True, overwrite_a=True, clean=False)
    del a
    if info == 0:
        factor, info = potri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: G + {lam:g} I is not positive definite (LAPACK info {info})")
    p = factor.T  # back to C order; potri filled its upper triangle
    _mirror_upper(p)
    b = p.astype(np.float32, copy=False)  # float64 makes one float32 copy here (counted by ease_memory_bytes)
    b /= -np.diagonal(b).copy()  # column j divided by -P_jj
    b[np.diag_indices_from(b)] = 0.0
    return b


def _mirror_upper(a: np.ndarray, block: int = 256) -> None:
    """Copy the upper triangle of a square matrix onto the lower one in place, a block of rows at a time (the
    temporaries are a block of rows, never another (n, n) matrix)."""
    for start in range(0, a.shape[0], block):
        stop = min(start + block, a.shape[0])
        a[stop:, start:stop] = a[start:stop, stop:].T
        tile = a[start:stop, start:stop]
        tile[...] = np.triu(tile) + np.triu(tile, 1).T


class Ease(RecommenderBase):
    """Item-item weights B (n_items, n_items); scores are the sum of B's rows for the history's items."""

    name: ClassVar[str] = EASE.name
    config_class = EaseConfig
    config: EaseConfig
    # What fit learns (None until fit or load):
    chosen_lambda: float | None = None  # the grid's best on validation
    weights: np.ndarray | None = None  # (n_items, n_items) float32
    # (n_items,) users per item (the Gram diagonal): the ranking for an empty or all-unknown history.
    item_counts: np.ndarray | None = None

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

    def _gram(self, data: TrainingData) -> np.ndarray:
        return gram_matrix(interaction_matrix(data.train, data.id_map.n_users, data.id_map.n_items))

    def check_memory(self, id_map: IdMap) -> None:
        """Refuse (EaseMemoryError) before any work when fitting this catalogue would exceed the memory budget."""
        check_memory(self.config, id_map.n_items)

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Solve for B at each grid lambda, keep the one with the best validation NDCG@10."""
        start = time.perf_counter()
        self.check_memory(data.id_map)
        self.id_map = data.id_map
        gram = self._gram(data)
        self.item_counts = np.diag(gram).astype(np.float32)
        log = TrainingLog()
        grid = self.config.lambdas if validate is not None else (self.lam,)
        best: tuple[float, float, np.ndarray] | None = None
        bar = tqdm(grid, desc="ease lambda", unit="solve", disable=not self.config.progress or len(grid) < 2)
        for lam in bar:
            self.weights = ease_weights(gram, lam, self.config.dtype, self.config.threads)
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
        self.check_memory(data.id_map)
        self.id_map = data.id_map
        self.weights = None  # free the old B before solving: the budget counts one B besides the solver's
        gram = self._gram(data)
        self.item_counts = np.diag(gram).astype(np.float32)
        self.weights = ease_weights(gram, self.lam, self.config.dtype, self.config.threads)
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
        save_checkpoint(
            path,
            model=self.name,
            config=self.config.to_dict(),
            id_map=id_map,
            state={"weights": weights, "item_counts": counts},
            extra={"chosen_lambda": self.chosen_lambda},
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild from a checkpoint file alone."""
        model, ckpt = cls._restore(path)
        model.chosen_lambda = ckpt.extra.get("chosen_lambda")
        model.weights = ckpt.array("weights")
        model.item_counts = ckpt.array("item_counts")
        return model
