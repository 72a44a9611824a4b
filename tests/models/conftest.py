"""Fixtures for model tests: a real ml-100k slice, split leave-one-out by time exactly as the pipeline does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import CanonicalTables, read_movielens
from movie_genie.data.split import leave_one_out
from movie_genie.evaluation.metrics import make_validator, ndcg_at_10, training_validation_set
from movie_genie.training.loop import training_data_from_frames
from movie_genie.models.base import Recommender, TrainingData, TrainingLog
from movie_genie.models.popularity import Popularity


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
