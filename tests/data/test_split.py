"""Leave-one-out split by time: no leakage, nothing lost, eligibility, ties, duplicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.schema import RATING_COLUMNS, SPLIT_COLUMNS
from movie_genie.data.split import leave_one_out
from movie_genie.errors import DataError


@pytest.fixture(scope="module", params=["ml-100k.zip", "ml-latest-small.zip"])
def real(request: pytest.FixtureRequest, shared_datasets: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with Archive(shared_datasets / request.param) as archive:
        tables = read_movielens(archive)
    return tables.ratings, tables.movies


def test_split_partitions_all_ratings_without_leakage(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ratings, movies = real
    split = leave_one_out(ratings, movies["movie_id"], min_interactions=3)
    parts = [split.train, split.valid, split.test]
    # train + valid + test == all ratings (as a multiset of rows)
    together = pd.concat(parts).sort_values(list(RATING_COLUMNS)).reset_index(drop=True)[list(RATING_COLUMNS)]
    everything = ratings.sort_values(list(RATING_COLUMNS)).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, everything)
    # no held-out (user, movie) pair appears in the same user's training rows
    train_pairs = set(zip(split.train["user_id"], split.train["movie_id"], strict=True))
    for held_out in (split.valid, split.test):
        assert not train_pairs & set(zip(held_out["user_id"], held_out["movie_id"], strict=True))
    # exactly one valid and one test row per user (every MovieLens user here has >= 20 ratings)
    n_users = ratings["user_id"].nunique()
    assert split.test["user_id"].is_unique and len(split.test) == n_users
    assert split.valid["user_id"].is_unique and len(split.valid) == n_users
    # test is the last interaction by time, valid the one before; training is never later than valid
    last = ratings.groupby("user_id").tail(1).set_index("user_id")
    assert (split.test.set_index("user_id")["movie_id"] == last["movie_id"]).all()
    latest_train = split.train.groupby("user_id")["timestamp"].max()
    assert (latest_train <= split.valid.set_index("user_id")["timestamp"]).all()
    assert (split.valid.set_index("user_id")["timestamp"] <= split.test.set_index("user_id")["timestamp"]).all()
    # the id map covers the whole catalogue, ascending, and the indices agree with it
    assert split.id_map.item_ids == tuple(sorted(movies["movie_id"]))
    for part in parts:
        assert list(part.columns) == list(SPLIT_COLUMNS)
        assert (np.asarray(split.id_map.item_ids)[part["item_idx"]] == part["movie_id"]).all()
        assert (np.asarray(split.id_map.user_ids)[part["user_idx"]] == part["user_id"]).all()


def _ratings(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    users, items, times = zip(*rows, strict=True)
    return pd.DataFrame({"user_id": users, "movie_id": items, "rating": 4.0, "timestamp": times})


def test_small_users_stay_in_training() -> None:
    ratings = _ratings([(1, 10, 1), (1, 11, 2), (2, 10, 1), (2, 11, 2), (2, 12, 3), (2, 13, 4)])
    split = leave_one_out(ratings, pd.Series([10, 11, 12, 13, 14]), min_interactions=3)
    assert split.train[split.train["user_id"] == 1]["movie_id"].tolist() == [10, 11]
    assert split.test["movie_id"].tolist() == [13] and split.valid["movie_id"].tolist() == [12]
    split4 = leave_one_out(ratings, pd.Series([10, 11, 12, 13]), min_interactions=5)
    assert split4.test.empty and len(split4.train) == 6
    assert split.id_map.n_items == 5  # a movie nobody rated still has an index


def test_time_ties_keep_file_order() -> None:
    ratings = _ratings([(1, 10, 1), (1, 12, 5), (1, 11, 5)])  # 12 and 11 tie: 11 is later in the file
    split = leave_one_out(ratings, pd.Series([10, 11, 12]), min_interactions=3)
    assert split.test["movie_id"].tolist() == [11] and split.valid["movie_id"].tolist() == [12]


def test_repeated_rating_keeps_the_latest_so_nothing_leaks() -> None:
    ratings = _ratings([(1, 10, 1), (1, 11, 2), (1, 12, 3), (1, 10, 4)])  # movie 10 rated again last
    split = leave_one_out(ratings, pd.Series([10, 11, 12]), min_interactions=3)
    assert split.duplicates_dropped == 1
    assert split.test["movie_id"].tolist() == [10] and 10 not in split.train["movie_id"].tolist()


def test_bad_min_interactions_and_unknown_movie() -> None:
    ratings = _ratings([(1, 10, 1), (1, 11, 2), (1, 12, 3)])
    with pytest.raises(DataError, match="at least 3"):
        leave_one_out(ratings, pd.Series([10, 11, 12]), min_interactions=2)
    with pytest.raises(DataError, match="missing from movies"):
        leave_one_out(ratings, pd.Series([10, 11]), min_interactions=3)
