"""Reference numbers measured independently with the evaluation protocol (docs/evaluation.md): our split + metrics
must reproduce them.

Popularity and EASE are fit on train (lambda fixed), refit on train + validation, then ranked on test with
history = train + validation, exactly as the train and evaluate stages do. The reference numbers count every rating
as an interaction, so the frames go in without their rating column (no rating is then a dislike, data.liking).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.split import leave_one_out
from movie_genie.evaluation.metrics import evaluate, test_set
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.ease import Ease, EaseConfig
from movie_genie.models.popularity import Popularity
from movie_genie.training.loop import training_data_from_frames

TOLERANCE = 0.003

# dataset -> (popularity NDCG@10, EASE lambda, EASE NDCG@10, EASE HR@10)
KNOWN = {
    "ml-100k": (0.0450, 500.0, 0.0737, 0.1453),
    "ml-latest-small": (0.0194, 50.0, 0.0411, 0.0852),
}


@pytest.mark.slow
@pytest.mark.parametrize("dataset", sorted(KNOWN))
def test_baselines_reproduce_known_answers(shared_datasets: Path, dataset: str) -> None:
    with Archive(shared_datasets / dataset) as archive:
        tables = read_movielens(archive)
    split = leave_one_out(tables.ratings, tables.movies["movie_id"], min_interactions=3)
    train, valid = split.train.drop(columns="rating"), split.valid.drop(columns="rating")
    data = training_data_from_frames(split.id_map, train, valid, tables.movies)
    full = with_validation_in_train(data)
    target = test_set(train, valid, split.test)
    pop_ndcg, lam, ease_ndcg, ease_hr = KNOWN[dataset]

    popularity = Popularity()
    popularity.refit(full)
    pop = evaluate(popularity, target, split.id_map.n_items, n_bootstrap=0)
    assert pop.ndcg10 == pytest.approx(pop_ndcg, abs=TOLERANCE)

    ease = Ease(EaseConfig(lambdas=(lam,)))
    ease.refit(full)
    result = evaluate(ease, target, split.id_map.n_items, n_bootstrap=200)
    assert result.ndcg10 == pytest.approx(ease_ndcg, abs=TOLERANCE)
    assert result.hr10 == pytest.approx(ease_hr, abs=TOLERANCE)
    low, high = result.ci["ndcg10"]
    assert low < result.ndcg10 < high
    assert result.ndcg10 > 1.4 * pop.ndcg10
