"""Two-Tower: learns from a real ml-100k slice, is deterministic, round-trips, answers similar movies and users."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movie_genie.models.base import Query, TrainingData
from movie_genie.models.common import RecommendRequestError, with_validation_in_train
from movie_genie.models.two_tower import TwoTower, TwoTowerConfig, UnknownMovieError
from tests.models.conftest import assert_beats_popularity, fit_with_early_stopping

SMALL = TwoTowerConfig(
    max_len=30, dim=32, batch_size=256, sample_frac=0.3, max_epochs=4, patience=2, torch_threads=1, progress=False
)


@pytest.fixture(scope="module")
def trained(ml100k_slice: TrainingData) -> tuple[TwoTower, float]:
    """A small Two-Tower trained with early stopping on the slice, and its best validation NDCG@10."""
    model = TwoTower(SMALL)
    log, best = fit_with_early_stopping(model, ml100k_slice)
    assert all("loss" in row and "valid_ndcg10" in row for row in log.epochs)
    return model, best


@pytest.mark.slow
def test_training_beats_popularity(trained: tuple[TwoTower, float], ml100k_slice: TrainingData) -> None:
    assert_beats_popularity(*trained, ml100k_slice)


def test_training_is_deterministic(ml100k_slice: TrainingData) -> None:
    config = SMALL.changed(max_epochs=1, sample_frac=0.1)
    first, second = TwoTower(config), TwoTower(config)
    log_a, log_b = first.fit(ml100k_slice), second.fit(ml100k_slice)
    assert log_a.epochs[0]["loss"] == log_b.epochs[0]["loss"]
    histories = [[], [0, 5, 9], [49, 171, 180]]
    np.testing.assert_array_equal(first.score_batch(histories), second.score_batch(histories))


def test_outputs_are_unit_vectors_and_padding_is_ignored(trained: tuple[TwoTower, float]) -> None:
    model, _ = trained
    np.testing.assert_allclose(np.linalg.norm(model.item_vectors(), axis=1), 1.0, rtol=1e-5)
    short, long = [3, 17, 42], list(range(100, 160))
    np.testing.assert_allclose(model.score_batch([short])[0], model.score_batch([short, long])[0], rtol=1e-5, atol=1e-5)
    scores = model.score_batch([short])[0]
    assert np.all(np.abs(scores) <= 1.0 / SMALL.temperature + 1e-4)  # cosine / temperature


def test_recommend_from_history_alone(trained: tuple[TwoTower, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained
    recs = model.recommend(Query([50, 172, 181, 999_999], exclude=[1]), k=10)
    ids = [r.movie_id for r in recs]
    assert len(ids) == 10 and len(set(ids)) == 10 and not set(ids) & {50, 172, 181, 1}
    assert len(model.recommend(Query([]), k=7)) == 7
    assert len(model.recommend(Query([50]), k=10_000)) == ml100k_slice.id_map.n_items - 1
    with pytest.raises(RecommendRequestError):
        model.recommend(Query([50]), k=-1)


def test_user_features_apply_only_to_known_users(trained: tuple[TwoTower, float]) -> None:
    model, _ = trained
    history = [50, 172]
    plain = model.recommend(Query(history), k=20)
    assert model.recommend(Query(history, user_id=10**9), k=20) == plain  # unknown user: no features, same answer
    known = model.score_batch([[49, 171]], user_ids=[1])[0]
    assert not np.allclose(known, model.score_batch([[49, 171]])[0])


def test_similar_items_and_users(trained: tuple[TwoTower, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained
    similar = model.similar_items(50, k=10)
    assert len(similar) == 10 and 50 not in [r.movie_id for r in similar]
    assert [r.score for r in similar] == sorted((r.score for r in similar), reverse=True)
    assert all(-1.0 - 1e-5 <= r.score <= 1.0 + 1e-5 for r in similar)  # cosine similarities
    with pytest.raises(UnknownMovieError):
        model.similar_items(999_999)
    # A training user's own history finds that user among the most similar ones.
    user_idx = 5
    history_idx = ml100k_slice.train.loc[ml100k_slice.train["user_idx"] == user_idx, "item_idx"].tolist()
    history = ml100k_slice.id_map.indices_to_items(history_idx)
    users = model.similar_users(history, k=5)
    assert len(users) == 5 and len({u.user_id for u in users}) == 5
    assert ml100k_slice.id_map.user_ids[user_idx] in [u.user_id for u in users]


def test_checkpoint_round_trip(trained: tuple[TwoTower, float], tmp_path: Path) -> None:
    model, _ = trained
    model.save(tmp_path / "two_tower.pt")
    loaded = TwoTower.load(tmp_path / "two_tower.pt")
    histories = [[], [0], list(range(10, 80))]
    np.testing.assert_array_equal(model.score_batch(histories), loaded.score_batch(histories))
    np.testing.assert_array_equal(model.score_batch([[4, 5]], user_ids=[3]), loaded.score_batch([[4, 5]], user_ids=[3]))
    assert loaded.similar_users([50, 172], k=3) == model.similar_users([50, 172], k=3)


def test_refit_fine_tunes_and_updates_user_vectors(
    trained: tuple[TwoTower, float], ml100k_slice: TrainingData, tmp_path: Path
) -> None:
    model, _ = trained
    model.save(tmp_path / "t.pt")
    copy = TwoTower.load(tmp_path / "t.pt")
    copy.config = copy.config.changed(refit_epochs=1, sample_frac=0.1)
    log = copy.refit(with_validation_in_train(ml100k_slice))
    assert len(log.epochs) == 1 and np.isfinite(log.epochs[0]["loss"])
    assert not np.allclose(copy.score_batch([[0, 5, 9]]), model.score_batch([[0, 5, 9]]))
    assert copy.user_table is not None and copy.user_table.shape == model.user_table.shape  # type: ignore[union-attr]
