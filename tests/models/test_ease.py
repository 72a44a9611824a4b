"""EASE: the closed form on a hand-checkable matrix, lambda tuning on validation, refit, and the memory guard."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_genie.data.idmap import IdMap
from movie_genie.evaluation.metrics import EvaluationParams, make_validator
from movie_genie.models import ease as ease_module
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.common import interaction_matrix
from movie_genie.models.ease import Ease, EaseConfig, EaseMemoryError, ease_memory_bytes, ease_weights, gram_matrix
from movie_genie.training.loop import train_models


def test_weights_match_the_closed_form_and_have_zero_diagonal() -> None:
    x = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1], [1, 0, 0, 1]], dtype=np.float64)
    gram = x.T @ x
    b = ease_weights(gram, 2.0, threads=1)
    p = np.linalg.inv(gram + 2.0 * np.eye(4))
    expected = np.eye(4) - p / np.diag(p)[None, :]
    np.testing.assert_allclose(b, expected, atol=1e-5)
    assert np.all(np.diag(b) == 0)
    # B is the ridge solution of X ~ X B with diag(B) = 0: co-rated items get positive weight
    assert b[0, 1] > 0 and b[2, 3] > 0


def test_bad_lambda_grid_is_rejected() -> None:
    with pytest.raises(ValueError, match="lambdas"):
        EaseConfig(lambdas=())
    with pytest.raises(ValueError, match="lambdas"):
        EaseConfig(lambdas=(10.0, -1.0))


def _two_cluster_data() -> TrainingData:
    """Users 0-19 like items 0-4, users 20-39 like items 5-9; each user's validation item is in their cluster."""
    rng = np.random.default_rng(0)
    rows, valid = [], []
    for user in range(40):
        cluster = range(0, 5) if user < 20 else range(5, 10)
        items = rng.permutation(list(cluster))
        rows += [(user, int(i), t) for t, i in enumerate(items[:3])]
        valid.append((user, int(items[3]), 3))
    id_map = IdMap.build(range(40), range(10))
    columns = ["user_idx", "item_idx", "timestamp"]
    train = pd.DataFrame(rows, columns=columns).assign(user_id=lambda f: f.user_idx, movie_id=lambda f: f.item_idx)
    valid_frame = pd.DataFrame(valid, columns=columns).assign(
        user_id=lambda f: f.user_idx, movie_id=lambda f: f.item_idx
    )
    movies = pd.DataFrame({"movie_id": range(10), "title": [f"m{i}" for i in range(10)], "genres": [[]] * 10})
    return TrainingData(id_map=id_map, train=train, valid=valid_frame, movies=movies)


def test_fit_tunes_lambda_on_validation_and_recommends_within_the_cluster() -> None:
    data = _two_cluster_data()
    model = Ease(EaseConfig(lambdas=(0.5, 5.0, 5000.0)))
    log = model.fit(data, make_validator(data))
    assert [e["lambda"] for e in log.epochs] == [0.5, 5.0, 5000.0]
    assert model.chosen_lambda in (0.5, 5.0, 5000.0)
    best = max(log.epochs, key=lambda e: e["valid_ndcg10"])
    assert model.chosen_lambda == best["lambda"]
    assert log.best_valid_ndcg10 == best["valid_ndcg10"]
    top = [r.movie_id for r in model.recommend(Query([0, 1]), k=3)]
    assert set(top) == {2, 3, 4}
    assert model.recommend(Query([0, 1]), k=3)[0].score > 0


def test_empty_or_unknown_history_gets_the_most_popular_items() -> None:
    data = _two_cluster_data()
    extra = data.train.iloc[[0]].assign(user_idx=39, user_id=39, timestamp=9)  # item of user 0 gets one more user
    data.train = pd.concat([data.train, extra], ignore_index=True)
    model = Ease(EaseConfig(lambdas=(5.0,)))
    model.fit(data)
    counts = np.bincount(data.train.drop_duplicates(["user_idx", "item_idx"])["item_idx"], minlength=10)
    top = [r.movie_id for r in model.recommend(Query([12345]), k=1)]
    assert top == [int(np.argmax(counts))]
    np.testing.assert_array_equal(model.score_batch([[]])[0], counts.astype(np.float32))


def test_gram_matrix_in_blocks_equals_the_dense_product(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ease_module, "GRAM_BLOCK", 3)  # several blocks on a 10-item catalogue
    data = _two_cluster_data()
    x = interaction_matrix(data.train, data.id_map.n_users, data.id_map.n_items)
    dense = x.toarray()
    np.testing.assert_array_equal(gram_matrix(x), dense.T @ dense)


def test_memory_estimate_counts_the_square_matrices_alive_at_once() -> None:
    assert ease_memory_bytes(1000, "float32") == 12 * 1000**2  # Gram, solver, best B
    assert ease_memory_bytes(1000, "float64") == 20 * 1000**2  # ... and the float32 copy of the float64 result
    # ml-32m's catalogue needs more than 80 GiB: the reason for the guard
    assert ease_memory_bytes(87_585) > 80 * 2**30


def test_float64_weights_match_float32() -> None:
    x = (np.random.default_rng(0).random((300, 40)) < 0.2).astype(np.float64)
    gram = x.T @ x
    np.testing.assert_allclose(ease_weights(gram, 5.0, "float64"), ease_weights(gram, 5.0, "float32"), atol=1e-4)


def test_fit_over_the_memory_budget_refuses_before_any_work() -> None:
    data = _two_cluster_data()
    model = Ease(EaseConfig(lambdas=(5.0,), memory_budget_gib=1e-9))
    with pytest.raises(EaseMemoryError, match=r"train: EASE would need about .* GiB for 10 films") as caught:
        model.fit(data)
    assert "models.ease.memory_budget_gib" in str(caught.value)
    assert model.weights is None and model.id_map is None
    # The same catalogue within the budget trains.
    Ease(EaseConfig(lambdas=(5.0,), memory_budget_gib=1.0)).fit(data)


def test_train_stage_refuses_a_too_large_catalogue_before_training_any_model(tmp_path: Path) -> None:
    data = _two_cluster_data()
    section = {"popularity": {}, "ease": {"lambdas": [5.0], "memory_budget_gib": 1e-9}}
    with pytest.raises(EaseMemoryError, match="10 films"):
        train_models(data, section, tmp_path, EvaluationParams(bootstrap_resamples=0), ["popularity", "ease"])
    assert not any(tmp_path.iterdir())  # popularity, listed first, was not trained and saved either


def test_the_solve_holds_one_square_matrix_besides_the_gram() -> None:
    n = 2000
    x = (np.random.default_rng(1).random((400, n)) < 0.05).astype(np.float32)
    gram = x.T @ x
    tracemalloc.start()
    ease_weights(gram, 10.0, "float32")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5 * 4 * n * n  # factored and inverted in place: what ease_memory_bytes counts
