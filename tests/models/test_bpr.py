"""BPR-MF, the primer's model: its loss is the BPR objective, it learns on a real ml-100k slice in seconds and beats
popularity there, and a user's vector never contains the film it is trained to predict."""

from __future__ import annotations

import math
import time

import torch

from movie_genie.models.base import Query, TrainingData
from movie_genie.models.bpr import Bpr, BprConfig, BprNet, bpr_loss
from tests.models.conftest import assert_beats_popularity, fit_with_early_stopping


def test_loss_is_minus_log_sigmoid_of_the_score_difference() -> None:
    """With zero vectors but a bias of +2 for the positive and 0 for the negative: -log sigmoid(2), no penalty."""
    net = BprNet(n_items=3, dim=4)
    with torch.no_grad():
        net.item_out.zero_()
        net.bias.copy_(torch.tensor([2.0, 0.0, 0.0]))
    users = torch.zeros(1, 4)
    loss = bpr_loss(net, users, torch.tensor([0]), torch.tensor([1]), l2=0.5)
    assert math.isclose(float(loss), math.log1p(math.exp(-2.0)), rel_tol=1e-6)


def test_default_config_trains_in_seconds_and_beats_popularity(ml100k_slice: TrainingData) -> None:
    """The params.yaml defaults learn on real ratings: validation NDCG@10 above popularity's, best weights kept."""
    model = Bpr(BprConfig(epochs=20))
    start = time.perf_counter()
    log, best = fit_with_early_stopping(model, ml100k_slice)
    assert time.perf_counter() - start < 60
    assert_beats_popularity(model, best, ml100k_slice)
    assert model.learned()["best_epoch"] in {e["epoch"] for e in log.epochs if "valid_ndcg10" in e}
    losses = [e["loss"] for e in log.epochs]
    assert losses[-1] < losses[0] < math.log(2) + 0.01  # starts near -log sigmoid(0) and goes down


def test_refit_trains_the_chosen_number_of_epochs(ml100k_slice: TrainingData) -> None:
    model = Bpr(Bpr.tiny_config())
    fit_with_early_stopping(model, ml100k_slice)
    log = model.refit(ml100k_slice)
    assert len(log.epochs) == model.best_epoch


def test_an_empty_history_is_ranked_by_the_biases(ml100k_slice: TrainingData) -> None:
    model = Bpr(Bpr.tiny_config())
    model.fit(ml100k_slice)
    assert model.net is not None and model.id_map is not None
    best = int(torch.argmax(model.net.bias))
    assert model.recommend(Query([]), k=1)[0].movie_id == model.id_map.indices_to_items([best])[0]
