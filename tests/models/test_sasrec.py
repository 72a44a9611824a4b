"""SASRec: causal attention, padding outside the loss, learns from a real ml-100k slice (checkpoints and refit:
test_transformer.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from movie_genie.models.base import Query, TrainingData
from movie_genie.models.sasrec import SasRec, loss_mask
from movie_genie.models.sequences import dislikes_after, pad_left
from tests.models.conftest import SASREC_SMALL, assert_beats_popularity


@pytest.mark.slow
def test_training_beats_popularity(trained_sasrec: tuple[SasRec, float], ml100k_slice: TrainingData) -> None:
    assert_beats_popularity(*trained_sasrec, ml100k_slice)


def test_a_position_never_sees_later_items(trained_sasrec: tuple[SasRec, float]) -> None:
    model, _ = trained_sasrec
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


def test_padding_never_contributes_to_the_loss(trained_sasrec: tuple[SasRec, float]) -> None:
    model, _ = trained_sasrec
    net = model.net
    assert net is not None
    generator = torch.Generator().manual_seed(0)
    short, long = np.array([4, 8, 15, 16]), np.arange(50, 80)

    def loss(rows: list[np.ndarray], width: int | None = None) -> tuple[float, int]:
        tokens = torch.from_numpy(pad_left(rows, width))
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        with torch.no_grad():
            no_dislikes = torch.zeros_like(inputs)
            return float(model._loss(inputs, targets, no_dislikes, generator)), int(loss_mask(inputs, targets).sum())

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
    model = SasRec(SASREC_SMALL.changed(max_len=10))
    seq = np.arange(1, 38)  # 37 items: 36 transitions
    for seed in range(5):
        rows = model._epoch_rows([seq], np.random.default_rng(seed))
        assert all(2 <= len(r) <= 11 for r in rows)
        np.testing.assert_array_equal(rows[0], seq[-11:])  # the latest window always comes first
        targets = {int(t) for r in rows for t in r[1:]}
        assert targets == set(range(2, 38))


def test_max_windows_keeps_the_latest_window_and_draws_the_others() -> None:
    seq = np.arange(1, 38)  # 37 items: the latest window of 11 and four older ones at max_len 10
    every = SasRec(SASREC_SMALL.changed(max_len=10))._epoch_rows([seq], np.random.default_rng(0))
    capped = SasRec(SASREC_SMALL.changed(max_len=10, max_windows=2))
    drawn = set()
    for seed in range(20):
        rows = capped._epoch_rows([seq, seq[:5]], np.random.default_rng(seed))
        assert len(rows) == 3  # two windows of the long history, the short one whole
        np.testing.assert_array_equal(rows[0], seq[-11:])
        np.testing.assert_array_equal(rows[2], seq[:5])
        drawn.add(int(rows[1][0]))
    assert len(every) == 5 and len(drawn) > 2  # the older window differs from epoch to epoch


def test_recommend_from_history_alone(trained_sasrec: tuple[SasRec, float], ml100k_slice: TrainingData) -> None:
    model, _ = trained_sasrec
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


def test_a_dislike_is_aligned_with_the_interaction_before_it() -> None:
    interactions = pd.DataFrame(
        {"user_idx": [0, 0, 0, 1, 1], "item_idx": [5, 6, 7, 1, 2], "timestamp": [1, 3, 5, 2, 4]}
    )
    disliked = pd.DataFrame({"user_idx": [0, 0, 1, 1], "item_idx": [9, 8, 3, 4], "timestamp": [3, 6, 1, 4]})
    aligned = dislikes_after(interactions, disliked, n_users=2)
    # user 0: 9 came after item 6 (same second counts as after), 8 after item 7; user 1: 3 before any interaction
    # (no state to teach: left out), 4 after item 2.
    assert [a.tolist() for a in aligned] == [[-1, 9, 8], [-1, 4]]
    assert [a.tolist() for a in dislikes_after(interactions, None, n_users=2)] == [[-1, -1, -1], [-1, -1]]


def test_the_not_to_recommend_loss_lowers_the_disliked_film_at_that_state(trained_sasrec: tuple[SasRec, float]) -> None:
    """A few steps on a row whose last position was followed by a dislike of the model's own favourite there:
    with dislike_weight the favourite's probability at that state falls; without it, it does not."""
    base, _ = trained_sasrec
    row = torch.from_numpy(pad_left([np.array([4, 8, 15, 16, 23])]))  # tokens (1, 5)
    inputs, targets = row[:, :-1], row[:, 1:]

    probability = torch.softmax(_logits(base, inputs), dim=-1)
    favourite, before = int(probability.argmax()), float(probability.max())
    avoid = torch.zeros_like(inputs)
    avoid[0, -1] = favourite + 1  # the token disliked after the last input position
    after = {}
    for weight in (0.0, 5.0):
        model = _copy(base)
        model.config = model.config.changed(dislike_weight=weight)
        assert model.net is not None
        model.net.train()
        optimizer = torch.optim.SGD(model.net.parameters(), lr=0.05)
        for _ in range(5):
            optimizer.zero_grad()
            model._loss(inputs, targets, avoid, torch.Generator().manual_seed(0)).backward()
            optimizer.step()
        model.net.eval()
        after[weight] = float(torch.softmax(_logits(model, inputs), dim=-1)[favourite])
    assert after[5.0] < before / 2
    assert after[5.0] < after[0.0]


def _copy(model: SasRec) -> SasRec:
    """An independent copy through the checkpoint format."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sasrec.pt"
        model.save(path)
        return SasRec.load(path)


def _logits(model: SasRec, inputs: torch.Tensor) -> torch.Tensor:
    net = model.net
    assert net is not None
    with torch.no_grad():
        table = net.item_table()
        return net.logits(net.encode(inputs, table)[:, -1], table)[0]
