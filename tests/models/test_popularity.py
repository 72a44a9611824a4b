"""Popularity on a hand-made catalogue: counts distinct users, ranks by count, never returns seen items."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.popularity import Popularity


def tiny_data() -> TrainingData:
    """3 users, 5 movies (ids 10..50); movie 30 is the most popular, 50 is never rated."""
    id_map = IdMap.build([1, 2, 3], [10, 20, 30, 40, 50])
    rows = [(1, 30, 0), (1, 10, 1), (2, 30, 0), (2, 20, 1), (2, 20, 2), (3, 30, 0), (3, 10, 1)]
    train = pd.DataFrame(rows, columns=["user_id", "movie_id", "timestamp"])
    train["rating"] = 4.0
    train["user_idx"] = [id_map.user_index(u) for u in train["user_id"]]
    train["item_idx"] = [id_map.item_index(m) for m in train["movie_id"]]
    valid = train.iloc[[0]].assign(movie_id=40, item_idx=3, timestamp=9)
    movies = pd.DataFrame({"movie_id": [10, 20, 30, 40, 50], "title": list("ABCDE"), "genres": [[]] * 5})
    return TrainingData(id_map=id_map, train=train, valid=valid, movies=movies)


def test_counts_distinct_users_and_ranks_by_them() -> None:
    model = Popularity()
    model.fit(tiny_data())
    assert model.counts is not None
    # movie 20 was rated twice by the same user: it counts once
    assert model.counts.tolist() == [2.0, 1.0, 3.0, 0.0, 0.0]
    assert [r.movie_id for r in model.recommend(Query([]), k=3)] == [30, 10, 20]
    assert [r.movie_id for r in model.recommend(Query([30]), k=2)] == [10, 20]
    # ties (40 and 50 at 0) are broken by catalogue order, the same on every call
    assert [r.movie_id for r in model.recommend(Query([30, 10, 20]), k=5)] == [40, 50]


def test_refit_counts_validation_rows_too() -> None:
    model = Popularity()
    model.refit(with_validation_in_train(tiny_data()))
    assert model.counts is not None and model.counts[3] == 1.0


def test_unfitted_model_says_what_to_do() -> None:
    with pytest.raises(MovieGenieError, match="fit"):
        Popularity().recommend(Query([1]))
