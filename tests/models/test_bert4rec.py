"""BERT4Rec: learns from a real ml-100k slice, is deterministic, pads and masks correctly (checkpoints and refit:
test_transformer.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from movie_genie.models.base import Query, TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.common import RecommendRequestError
from tests.models.conftest import BERT4REC_SMALL, assert_beats_popularity, with_dislikes_as_interactions


@pytest.mark.slow
def test_training_beats_popularity_and_logs_curves(
    trained_bert4rec: tuple[Bert4Rec, float], ml100k_slice: TrainingData
) -> None:
    assert_beats_popularity(*trained_bert4rec, with_dislikes_as_interactions(ml100k_slice))


def test_training_is_deterministic(ml100k_slice: TrainingData) -> None:
    config = BERT4REC_SMALL.changed(max_epochs=1)
    histories = [[0, 5, 9], [49, 171, 180, 99]]
    first, second = Bert4Rec(config), Bert4Rec(config)
    log_a, log_b = first.fit(ml100k_slice), second.fit(ml100k_slice)
    assert log_a.epochs[0]["loss"] == log_b.epochs[0]["loss"]
    np.testing.assert_array_equal(first.score_batch(histories), second.score_batch(histories))


def test_padding_and_batch_mates_do_not_change_scores(trained_bert4rec: tuple[Bert4Rec, float]) -> None:
    model, _ = trained_bert4rec
    short, long = [3, 17, 42], list(range(100, 160))
    alone = model.score_batch([short])[0]
    padded = model.score_batch([short, long])[0]  # the short row is now left-padded to the long one's width
    np.testing.assert_allclose(alone, padded, rtol=1e-4, atol=1e-4)
    # Only the last max_len - 1 items are read, so older items beyond that window change nothing.
    window = BERT4REC_SMALL.max_len - 1
    np.testing.assert_allclose(
        model.score_batch([long])[0], model.score_batch([[7, 8, 9, *long[-window:]]])[0], rtol=1e-4, atol=1e-4
    )


def test_recommend_from_history_alone(trained_bert4rec: tuple[Bert4Rec, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained_bert4rec
    history = [50, 172, 181, 999_999]  # Star Wars trilogy + an id outside the catalogue (ignored)
    recs = model.recommend(Query(history, exclude=[1]), k=10)
    ids = [r.movie_id for r in recs]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert not set(ids) & {50, 172, 181, 1}
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    # Scores match score_batch on the same (known) items.
    scores = model.score_batch([ml100k_slice.id_map.items_to_indices(history)])[0]
    assert recs[0].score == pytest.approx(float(scores[ml100k_slice.id_map.item_index(ids[0])]), rel=1e-5)
    # An empty history still gets a full list (the model's output for [MASK] alone); k beyond the catalogue is cut.
    assert len(model.recommend(Query([]), k=5)) == 5
    assert len(model.recommend(Query([50]), k=10_000)) == ml100k_slice.id_map.n_items - 1
    with pytest.raises(RecommendRequestError):
        model.recommend(Query([50]), k=0)


def test_recency_masking_prefers_recent_positions(trained_bert4rec: tuple[Bert4Rec, float]) -> None:
    model, _ = trained_bert4rec
    uniform = model.config
    model.config = uniform.changed(mask_recency=0.8, mask_prob=0.2, last_mask_prob=0.0)
    try:
        tokens = torch.arange(1, 31).repeat(2000, 1)  # (2000, 30): full rows
        _, mask = model._mask(tokens, torch.Generator().manual_seed(0))
    finally:
        model.config = uniform
    rate = mask.float().mean(dim=0)  # (30,) masking rate per position, oldest first
    assert rate[-1] > 0.5 > rate[0] and rate[0] < 0.01
    assert mask.float().sum(dim=1).mean().item() == pytest.approx(0.2 * 30, rel=0.15)
