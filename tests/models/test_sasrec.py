"""SASRec: causal attention, padding outside the loss, learns from a real ml-100k slice, round-trips checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from movie_genie.evaluation.metrics import make_validator
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.sasrec import SasRec, SasRecConfig, loss_mask
from movie_genie.models.sequences import ModelConfigError, pad_left
from tests.models.conftest import fit_with_early_stopping, popularity_valid_ndcg10

SMALL = SasRecConfig(
    max_len=30,
    dim=32,
    layers=1,
    heads=2,
    batch_size=32,
    lr=3e-3,
    max_epochs=8,
    eval_every=2,
    patience=2,
    warmup_steps=10,
    torch_threads=1,
    progress=False,
)


@pytest.fixture(scope="module")
def trained(ml100k_slice: TrainingData) -> tuple[SasRec, float]:
    """A small SASRec trained with early stopping on the slice, and its best validation NDCG@10."""
    model = SasRec(SMALL)
    _, best = fit_with_early_stopping(model, ml100k_slice)
    return model, best


@pytest.mark.slow
def test_training_beats_popularity(trained: tuple[SasRec, float], ml100k_slice: TrainingData) -> None:
    model, best = trained
    baseline = popularity_valid_ndcg10(ml100k_slice)
    assert best > baseline, f"SASRec valid NDCG@10 {best:.4f} does not beat popularity {baseline:.4f}"
    # Early stopping restored the best weights: the model now scores what the log says its best was.
    assert make_validator(ml100k_slice)(model) == pytest.approx(best)


def test_a_position_never_sees_later_items(trained: tuple[SasRec, float]) -> None:
    model, _ = trained
    net = model.net
    assert net is not None
    tokens = torch.tensor([[0, 0, 5, 9, 40, 41, 300, 7]])  # (1, 8) right-aligned, two padding positions
    changed = tokens.clone()
    changed[0, 5:] = torch.tensor([100, 200, 3])  # new items from position 5 on
    net.eval()
    with torch.inference_mode():
        table = net.item_table()
        before, after = net.encode(tokens, table), net.encode(changed, table)
    assert torch.isfinite(before).all()  # padding positions see themselves: no NaN leaks into later positions
    torch.testing.assert_close(before[0, :5], after[0, :5], rtol=0, atol=0)
    assert not torch.allclose(before[0, 5:], after[0, 5:])


def test_padding_never_contributes_to_the_loss(trained: tuple[SasRec, float]) -> None:
    model, _ = trained
    net = model.net
    assert net is not None
    generator = torch.Generator().manual_seed(0)
    short, long = np.array([4, 8, 15, 16]), np.arange(50, 80)

    def loss(rows: list[np.ndarray], width: int | None = None) -> tuple[float, int]:
        tokens = torch.from_numpy(pad_left(rows, width))
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        with torch.no_grad():
            return float(model._loss(inputs, targets, generator)), int(loss_mask(inputs, targets).sum())

    net.eval()
    alone, n_short = loss([short])
    padded, n_padded = loss([short], width=25)  # 21 padding positions more
    assert n_short == n_padded == len(short) - 1  # one target per transition, none at padding
    assert padded == pytest.approx(alone, rel=1e-5)
    # In a batch, the mean runs over real targets only: the short row's padding to the long row's width adds nothing.
    together, n_both = loss([short, long])
    long_alone, n_long = loss([long])
    assert n_both == n_short + n_long
    assert together == pytest.approx((alone * n_short + long_alone * n_long) / n_both, rel=1e-5)


def test_training_windows_cover_every_transition() -> None:
    model = SasRec(replace(SMALL, max_len=10))
    seq = np.arange(1, 38)  # 37 items: 36 transitions
    for seed in range(5):
        rows = model._epoch_rows([seq], np.random.default_rng(seed))
        assert all(2 <= len(r) <= 11 for r in rows)
        np.testing.assert_array_equal(rows[0], seq[-11:])  # the latest window always comes first
        targets = {int(t) for r in rows for t in r[1:]}
        assert targets == set(range(2, 38))


def test_recommend_from_history_alone(trained: tuple[SasRec, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained
    history = [50, 172, 181, 999_999]  # Star Wars trilogy + an id outside the catalogue (ignored)
    recs = model.recommend(Query(history, exclude=[1]), k=10)
    ids = [r.movie_id for r in recs]
    assert len(ids) == len(set(ids)) == 10
    assert not set(ids) & {50, 172, 181, 1}
    scores = model.score_batch([ml100k_slice.id_map.items_to_indices(history)])[0]
    assert recs[0].score == pytest.approx(float(scores[ml100k_slice.id_map.item_index(ids[0])]), rel=1e-5)
    # An empty history ranks by the learned output bias alone; padding and batch mates change nothing.
    assert model.net is not None
    np.testing.assert_allclose(model.score_batch([[]])[0], model.net.out_bias.detach().numpy())
    short = [3, 17, 42]
    np.testing.assert_allclose(
        model.score_batch([short])[0], model.score_batch([short, list(range(100, 160))])[0], rtol=1e-4, atol=1e-4
    )


def test_checkpoint_round_trip_gives_identical_scores(trained: tuple[SasRec, float], tmp_path: Path) -> None:
    model, _ = trained
    path = tmp_path / "sasrec.pt"
    model.save(path)
    loaded = SasRec.load(path)
    histories = [[], [0], list(range(10, 80))]
    np.testing.assert_array_equal(model.score_batch(histories), loaded.score_batch(histories))
    assert loaded.config == model.config


def test_sampled_softmax_and_text_features_train(ml100k_slice: TrainingData, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(ml100k_slice.id_map.n_items, 16)).astype(np.float32)
    data = replace(ml100k_slice, item_text_embeddings=text / np.linalg.norm(text, axis=1, keepdims=True))
    model = SasRec(replace(SMALL, max_epochs=1, full_softmax_max_items=100, sampled_negatives=256))
    log = model.fit(data)
    assert np.isfinite(log.epochs[0]["loss"])
    assert model.net is not None and model.net.content.text_proj is not None
    model.save(tmp_path / "s.pt")
    np.testing.assert_array_equal(SasRec.load(tmp_path / "s.pt").score_batch([[1, 2]]), model.score_batch([[1, 2]]))


def test_refit_fine_tunes_on_validation_rows(trained: tuple[SasRec, float], ml100k_slice: TrainingData, tmp_path):
    model, _ = trained
    model.save(tmp_path / "s.pt")
    copy = SasRec.load(tmp_path / "s.pt")
    copy.config = replace(copy.config, refit_epochs=1)
    log = copy.refit(with_validation_in_train(ml100k_slice))
    assert len(log.epochs) == 1 and np.isfinite(log.epochs[0]["loss"])
    assert not np.allclose(copy.score_batch([[0, 5, 9]]), model.score_batch([[0, 5, 9]]))


def test_config_from_params_applies_dataset_overrides() -> None:
    section = {"dim": 48, "heads": 4, "per_dataset": {"ml-latest-small": {"max_len": 150}}}
    assert SasRecConfig.from_params(section, "ml-latest-small").max_len == 150
    assert SasRecConfig.from_params(section, "ml-100k").max_len == SasRecConfig().max_len
    assert SasRec.from_params(section).config.dim == 48
    with pytest.raises(ModelConfigError, match="mask_prob"):
        SasRecConfig.from_params({"mask_prob": 0.2})
    with pytest.raises(ModelConfigError, match="divisible"):
        SasRecConfig.from_params({"dim": 30, "heads": 4})
