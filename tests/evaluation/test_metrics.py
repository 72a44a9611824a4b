"""Metrics against hand-computed cases: ranks, HR/NDCG/MRR, coverage, exclusions, intervals, eval sets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from movie_genie.evaluation.metrics import (
    EvalSet,
    bootstrap_ci,
    coverage,
    evaluate,
    paired_difference_ci,
    per_user_metrics,
    rank_targets,
    test_set,
    validation_set,
)


class FixedScores:
    """A stand-in recommender whose scores are given per user row (only score_batch is used by the metrics)."""

    name: ClassVar[str] = "fixed"

    def __init__(self, rows: dict[tuple[int, ...], list[float]]) -> None:
        self.rows = rows

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        return np.array([self.rows[tuple(h)] for h in histories], dtype=np.float32)


def test_rank_counts_unseen_items_scored_strictly_higher() -> None:
    scores = [0.1, 0.5, 0.3, 0.9, 0.2]
    model = FixedScores({(3,): scores, (): scores, (0, 2): scores})
    eval_set = EvalSet(np.arange(3), [[3], [], [0, 2]], np.array([1, 4, 4]))
    ranks, top = rank_targets(model, eval_set, n_items=5, k=2)  # type: ignore[arg-type]
    # user 0: item 3 (0.9) is seen, nothing else beats 0.5 -> rank 0
    # user 1: 0.9, 0.5, 0.3 beat 0.2 -> rank 3
    # user 2: items 0 and 2 seen; 0.9 and 0.5 beat 0.2 -> rank 2
    assert ranks.tolist() == [0, 3, 2]
    assert top[0].tolist() == [1, 2]  # seen item 3 never in a top list
    assert sorted(top[2].tolist()) == [1, 3]


def test_ties_do_not_hurt_the_target_and_rewatched_target_stays_rankable() -> None:
    model = FixedScores({(0,): [0.7, 0.7, 0.7, 0.1], (1,): [0.2, 0.9, 0.5, 0.5]})
    # user 0: target 1 ties with items 0 (seen) and 2 -> strictly higher: none -> rank 0
    # user 1: target 1 was also in the history (a re-watch): it is still ranked, at 0
    eval_set = EvalSet(np.arange(2), [[0], [1]], np.array([1, 1]))
    ranks, _ = rank_targets(model, eval_set, n_items=4)  # type: ignore[arg-type]
    assert ranks.tolist() == [0, 0]


def test_per_user_metrics_hand_computed() -> None:
    metrics = per_user_metrics(np.array([0, 3, 9, 10, 99]))
    assert metrics["hr10"].tolist() == [1, 1, 1, 0, 0]
    assert metrics["ndcg10"] == pytest.approx([1.0, 1 / math.log2(5), 1 / math.log2(11), 0.0, 0.0])
    assert metrics["mrr"] == pytest.approx([1.0, 0.25, 0.1, 1 / 11, 0.01])


def test_evaluate_means_and_coverage() -> None:
    n = 12
    base = [float(n - i) for i in range(n)]  # item 0 best ... item 11 worst
    model = FixedScores({(): base, (0,): base})
    # user 0: target 11, nothing seen -> 11 items beat it -> rank 11 (miss)
    # user 1: target 1, item 0 seen -> rank 0 (hit)
    eval_set = EvalSet(np.arange(2), [[], [0]], np.array([11, 1]))
    report = evaluate(model, eval_set, n_items=n, n_bootstrap=0)  # type: ignore[arg-type]
    assert report.hr10 == pytest.approx(0.5)
    assert report.ndcg10 == pytest.approx(0.5)
    assert report.mrr == pytest.approx((1 / 12 + 1) / 2)
    # top-10 lists: items 0..9 and 1..10 -> 11 distinct of 12
    assert report.coverage == pytest.approx(11 / 12)
    assert report.n_users == 2


def test_coverage_ignores_padding() -> None:
    assert coverage(np.array([[0, 1, -1], [1, 2, -1]]), 10) == pytest.approx(0.3)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    values = np.random.default_rng(1).random(500)
    first = bootstrap_ci(values, 500, seed=7)
    assert first == bootstrap_ci(values, 500, seed=7)
    assert first[0] < values.mean() < first[1]
    assert first[1] - first[0] < 0.1
    assert bootstrap_ci(np.ones(10), 100, seed=0) == (1.0, 1.0)


def test_paired_difference_sees_a_consistent_win_that_separate_intervals_miss() -> None:
    """Per-user scores that vary a lot between users but where model A is a little better on almost every user: the
    two models' own intervals overlap, the paired interval of the difference lies above zero."""
    rng = np.random.default_rng(3)
    baseline = rng.random(300)  # a wide spread between users
    better = baseline + 0.02 + rng.normal(0, 0.005, 300)  # a small, consistent gain per user
    low_a, _ = bootstrap_ci(better, 1000, seed=0)
    _, high_b = bootstrap_ci(baseline, 1000, seed=0)
    assert low_a < high_b  # unpaired: the intervals overlap
    difference, low, high = paired_difference_ci(better, baseline, 1000, seed=0)
    assert 0 < low <= difference <= high
    assert difference == pytest.approx(float((better - baseline).mean()))
    # A model against itself: exactly no difference.
    assert paired_difference_ci(baseline, baseline, 1000, seed=0) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same users"):
        paired_difference_ci(baseline, baseline[:10], 1000, seed=0)


def test_score_shape_mismatch_is_a_clear_error() -> None:
    model = FixedScores({(): [0.1, 0.2]})
    with pytest.raises(ValueError, match="expected"):
        rank_targets(model, EvalSet(np.arange(1), [[]], np.array([0])), n_items=3)  # type: ignore[arg-type]


def test_eval_sets_use_train_for_validation_and_train_plus_valid_for_test() -> None:
    def rows(data: list[tuple[int, int, int]]) -> pd.DataFrame:
        return pd.DataFrame(data, columns=["user_idx", "item_idx", "timestamp"])

    train = rows([(0, 5, 1), (0, 3, 1), (1, 2, 4), (0, 4, 0)])
    valid = rows([(0, 7, 2), (1, 8, 5)])
    test = rows([(1, 9, 6), (0, 6, 3)])
    v = validation_set(train, valid)
    assert v.user_idx.tolist() == [0, 1]
    assert v.histories == [[4, 5, 3], [2]]  # by time, ties in row order
    assert v.targets.tolist() == [7, 8]
    t = test_set(train, valid, test)
    assert t.histories == [[4, 5, 3, 7], [2, 8]]
    assert t.targets.tolist() == [6, 9]
    assert len(v.sample(1, seed=0)) == 1
    assert v.sample(None, seed=0) is v
