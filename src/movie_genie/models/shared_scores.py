"""Scores shared within one request: inside `sharing_scores()`, a model scores a given batch of histories once.

The home page explains each model row's picks by leave-one-out attribution (api/services/explanations.py): every
row scores the same batch (the history, and the history without each of the latest liked films). The hybrid scores
that batch with each of its components, SASRec and BERT4Rec among them, which have rows of their own; sharing
their scores saves those rows' attribution from scoring the batch again. The memo is keyed by the whole batch, not
by row: a batch computed again returns exactly what it returned the first time (a model may round a row
differently in another batch), so sharing never changes a score.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from movie_genie.models.base import Recommender

BatchKey = tuple[int, tuple[tuple[int, ...], ...]]  # (id of the model, the histories)
# Each entry keeps its model alive, so no other model can take its id while the memo lives.
_MEMO: ContextVar[dict[BatchKey, tuple[Recommender, np.ndarray]] | None] = ContextVar("shared_scores", default=None)


@contextmanager
def sharing_scores() -> Iterator[None]:
    """Within the block (one request, one thread), `score_batch` computes each (model, batch) once."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def score_batch(model: Recommender, histories: Sequence[Sequence[int]]) -> np.ndarray:
    """`model.score_batch(histories)`, from the memo when sharing and this model already scored this batch. The
    array is read-only when shared: a caller that must change it copies it first."""
    memo = _MEMO.get()
    if memo is None:
        return model.score_batch(histories)
    key = (id(model), tuple(map(tuple, histories)))  # numpy and Python ints hash and compare alike
    found = memo.get(key)
    if found is None:
        scores = model.score_batch(histories)
        scores.setflags(write=False)
        found = memo[key] = (model, scores)
    return found[1]
