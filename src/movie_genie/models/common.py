"""Helpers every recommender shares: history mapping, deterministic top-k, interaction matrices, refit data."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movie_genie.data.idmap import IdMap
from movie_genie.data.liking import split_by_liking
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import Recommendation, TrainingData
from movie_genie.models.reasons import Reason


class RecommendRequestError(MovieGenieError):
    """A recommend call was made with invalid arguments (e.g. k < 1)."""


class NotFittedError(MovieGenieError):
    """A model was asked to recommend, score or save before `fit` or `load`."""


def check_k(k: int) -> int:
    """Validate the number of results asked for."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise RecommendRequestError(f"k must be a positive integer, got {k!r}")
    return int(k)


def top_k_indices(scores: np.ndarray, k: int, blocked: Iterable[int] = ()) -> np.ndarray:
    """Indices of the k highest scores, best first, never a blocked index; ties broken by lower index.

    `scores` has shape (n_items,). Fewer than k indices come back when the catalogue runs out.
    """
    masked = np.asarray(scores, dtype=np.float64).copy()
    blocked_idx = np.fromiter((int(i) for i in blocked), dtype=np.int64)
    if blocked_idx.size:
        masked[blocked_idx] = -np.inf
    available = int(np.isfinite(masked).sum()) if blocked_idx.size else masked.size
    k = min(k, available)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    # argpartition finds a superset holding every item tied with the k-th score, then a stable sort orders it.
    kth = np.partition(masked, masked.size - k)[masked.size - k]
    candidates = np.flatnonzero(masked >= kth)
    order = np.lexsort((candidates, -masked[candidates]))
    return candidates[order[:k]].astype(np.int64)


def recommendations_from_scores(
    id_map: IdMap,
    scores: np.ndarray,
    history_idx: Sequence[int],
    k: int,
    exclude: Collection[int] = (),
    reason: Reason | None = None,
) -> list[Recommendation]:
    """Turn a full-catalogue score vector into top-k Recommendations, skipping history and excluded movie ids."""
    k = check_k(k)
    blocked = list(history_idx) + id_map.items_to_indices(exclude)
    top = top_k_indices(scores, k, blocked)
    return [Recommendation(id_map.item_ids[int(i)], float(scores[int(i)]), reason) for i in top]


def interaction_matrix(frame: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary user x item matrix (n_users, n_items) from user_idx/item_idx columns; repeats count once."""
    rows = frame["user_idx"].to_numpy(dtype=np.int64)
    cols = frame["item_idx"].to_numpy(dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_users, n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def histories_matrix(histories: Sequence[Sequence[int]], n_items: int) -> sp.csr_matrix:
    """Binary (len(histories), n_items) matrix from lists of item indices (repeats count once)."""
    lengths = [len(h) for h in histories]
    rows = np.repeat(np.arange(len(histories), dtype=np.int64), lengths)
    cols = np.fromiter((int(i) for h in histories for i in h), dtype=np.int64, count=sum(lengths))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def with_validation_in_train(data: TrainingData) -> TrainingData:
    """The same data with the validation rows appended to training (for the final refit after tuning); a validation
    rating that is a dislike joins the dislikes instead (data.liking)."""
    interactions, dislikes = split_by_liking(data.valid)
    # Stable sort keeps each user's events in time order with ties in the order they came.
    train = pd.concat([data.train, interactions], ignore_index=True)
    train = train.sort_values(["user_idx", "timestamp"], kind="stable", ignore_index=True)
    disliked = data.disliked
    if disliked is not None or len(dislikes):
        disliked = pd.concat([d for d in (disliked, dislikes) if d is not None], ignore_index=True)
    return replace(data, train=train, valid=data.valid.iloc[0:0], disliked=disliked)
