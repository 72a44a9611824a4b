"""BERT4Rec: learns from a real ml-100k slice, is deterministic, pads and masks correctly, round-trips checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from movie_genie.evaluation.metrics import make_validator
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.bert4rec import Bert4Rec, Bert4RecConfig
from movie_genie.models.common import RecommendRequestError, with_validation_in_train
from movie_genie.models.sequences import ModelConfigError
from tests.models.conftest import (
    fit_with_early_stopping,
    popularity_valid_ndcg10,
    valid_ndcg10,
    with_dislikes_as_interactions,
)

SMALL = Bert4RecConfig(
    max_len=30,
    dim=32,
    layers=1,
    heads=2,
    batch_size=32,
    lr=3e-3,
    max_epochs=12,
    eval_every=3,
    patience=2,
    warmup_steps=10,
    torch_threads=1,
    progress=False,
)


@pytest.fixture(scope="module")
def trained(ml100k_slice: TrainingData) -> tuple[Bert4Rec, float]:
    """A small BERT4Rec trained with early stopping on the slice, and its best validation NDCG@10.

    It reads every rating, dislikes included: on this 300-user slice the small model without them scores below
    popularity (next-item 0.036 vs 0.038, liked-next 0.051 vs 0.052), so the tests of the training loop would test
    the protocol instead; benchmarks/bench_liking.py measures the protocol on whole data sets.
    """
    model = Bert4Rec(SMALL)
    _, best = fit_with_early_stopping(model, with_dislikes_as_interactions(ml100k_slice))
    return model, best


@pytest.mark.slow
def test_training_beats_popularity_and_logs_curves(trained: tuple[Bert4Rec, float], ml100k_slice: TrainingData):
    model, best = trained
    baseline = popularity_valid_ndcg10(with_dislikes_as_interactions(ml100k_slice))
    learned = valid_ndcg10(model, with_dislikes_as_interactions(ml100k_slice))
    assert learned > baseline, f"BERT4Rec valid NDCG@10 {learned:.4f} does not beat popularity {baseline:.4f}"
    # Early stopping restored the best weights: the model now scores what the log says its best was.
    assert make_validator(with_dislikes_as_interactions(ml100k_slice))(model) == pytest.approx(best)


def test_training_is_deterministic(ml100k_slice: TrainingData) -> None:
    config = replace(SMALL, max_epochs=1)
    histories = [[0, 5, 9], [49, 171, 180, 99]]
    first, second = Bert4Rec(config), Bert4Rec(config)
    log_a, log_b = first.fit(ml100k_slice), second.fit(ml100k_slice)
    assert log_a.epochs[0]["loss"] == log_b.epochs[0]["loss"]
    np.testing.assert_array_equal(first.score_batch(histories), second.score_batch(histories))


def test_padding_and_batch_mates_do_not_change_scores(trained: tuple[Bert4Rec, float]) -> None:
    model, _ = trained
    short, long = [3, 17, 42], list(range(100, 160))
    alone = model.score_batch([short])[0]
    padded = model.score_batch([short, long])[0]  # the short row is now left-padded to the long one's width
    np.testing.assert_allclose(alone, padded, rtol=1e-4, atol=1e-4)
    # Only the last max_len - 1 items are read, so older items beyond that window change nothing.
    window = SMALL.max_len - 1
    np.testing.assert_allclose(
        model.score_batch([long])[0], model.score_batch([[7, 8, 9, *long[-window:]]])[0], rtol=1e-4, atol=1e-4
    )


def test_recommend_from_history_alone(trained: tuple[Bert4Rec, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained
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


def test_checkpoint_round_trip_gives_identical_scores(trained: tuple[Bert4Rec, float], tmp_path: Path) -> None:
    model, _ = trained
    path = tmp_path / "bert4rec.pt"
    model.save(path)
    loaded = Bert4Rec.load(path)
    histories = [[], [0], list(range(10, 80))]
    np.testing.assert_array_equal(model.score_batch(histories), loaded.score_batch(histories))
    assert loaded.config == model.config


def test_sampled_softmax_and_text_features_train(ml100k_slice: TrainingData, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(ml100k_slice.id_map.n_items, 16)).astype(np.float32)
    data = replace(ml100k_slice, item_text_embeddings=text / np.linalg.norm(text, axis=1, keepdims=True))
    config = replace(SMALL, max_epochs=1, full_softmax_max_items=100, sampled_negatives=256)
    model = Bert4Rec(config)
    log = model.fit(data)
    assert np.isfinite(log.epochs[0]["loss"])
    assert model.net is not None and model.net.content.text_proj is not None
    model.save(tmp_path / "b.pt")
    np.testing.assert_array_equal(Bert4Rec.load(tmp_path / "b.pt").score_batch([[1, 2]]), model.score_batch([[1, 2]]))


def test_config_from_params_applies_dataset_overrides() -> None:
    section = {"dim": 48, "heads": 4, "per_dataset": {"ml-latest-small": {"max_len": 150}}}
    assert Bert4RecConfig.from_params(section, "ml-latest-small").max_len == 150
    assert Bert4RecConfig.from_params(section, "ml-100k").max_len == Bert4RecConfig().max_len
    assert Bert4Rec.from_params(section).config.dim == 48
    with pytest.raises(ModelConfigError, match="hidden_size"):
        Bert4RecConfig.from_params({"hidden_size": 64})
    with pytest.raises(ModelConfigError, match="divisible"):
        Bert4RecConfig.from_params({"dim": 30, "heads": 4})


def test_refit_fine_tunes_on_validation_rows(trained: tuple[Bert4Rec, float], ml100k_slice: TrainingData, tmp_path):
    model, _ = trained
    model.save(tmp_path / "b.pt")
    copy = Bert4Rec.load(tmp_path / "b.pt")
    copy.config = replace(copy.config, refit_epochs=1)
    log = copy.refit(with_validation_in_train(ml100k_slice))
    assert len(log.epochs) == 1 and np.isfinite(log.epochs[0]["loss"])
    histories = [[0, 5, 9]]
    assert not np.allclose(copy.score_batch(histories), model.score_batch(histories))


def test_recency_masking_prefers_recent_positions(trained: tuple[Bert4Rec, float]) -> None:
    model, _ = trained
    uniform = model.config
    model.config = replace(uniform, mask_recency=0.8, mask_prob=0.2, last_mask_prob=0.0)
    try:
        tokens = torch.arange(1, 31).repeat(2000, 1)  # (2000, 30): full rows
        _, mask = model._mask(tokens, torch.Generator().manual_seed(0))
    finally:
        model.config = uniform
    rate = mask.float().mean(dim=0)  # (30,) masking rate per position, oldest first
    assert rate[-1] > 0.5 > rate[0] and rate[0] < 0.01
    assert mask.float().sum(dim=1).mean().item() == pytest.approx(0.2 * 30, rel=0.15)
