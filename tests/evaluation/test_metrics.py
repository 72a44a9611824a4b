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
    TargetRanks,
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
    assert ranks.greater.tolist() == [0, 3, 2]
    assert ranks.ties.tolist() == [0, 0, 0]
    assert top[0].tolist() == [1, 2]  # seen item 3 never in a top list
    assert sorted(top[2].tolist()) == [1, 3]


def test_ties_rank_the_target_at_its_expected_place_and_rewatched_target_stays_rankable() -> None:
    model = FixedScores({(0,): [0.7, 0.7, 0.7, 0.1], (1,): [0.2, 0.9, 0.5, 0.5]})
    # user 0: target 1 ties with item 2 (item 0 is seen, so it does not count) -> greater 0, 1 tie: rank 0 or 1
    # user 1: target 1 was also in the history (a re-watch): it is still ranked, at 0
    eval_set = EvalSet(np.arange(2), [[0], [1]], np.array([1, 1]))
    ranks, _ = rank_targets(model, eval_set, n_items=4)  # type: ignore[arg-type]
    assert ranks.greater.tolist() == [0, 0]
    assert ranks.ties.tolist() == [1, 0]
    assert ranks.expected.tolist() == [0.5, 0.0]
    metrics = per_user_metrics(ranks, k=1)
    # user 0 is first half of the time: HR@1 = 0.5, NDCG@1 = 0.5, MRR = (1 + 1/2) / 2
    assert metrics["hr1"].tolist() == [0.5, 1.0]
    assert metrics["ndcg1"].tolist() == [0.5, 1.0]
    assert metrics["mrr"] == pytest.approx([0.75, 1.0])


def test_a_constant_scorer_gets_hr10_of_ten_over_the_candidates() -> None:
    """Ranking ties optimistically gave a model that scores every film the same HR@10 = 1; in expectation over a
    random order of the ties it is 10 / candidates, and NDCG@10 and MRR are their exact expectations too."""
    n_items, n_users = 500, 40
    rng = np.random.default_rng(0)
    histories = [sorted(rng.choice(n_items, size=20, replace=False).tolist()) for _ in range(n_users)]
    targets = np.array([next(i for i in rng.permutation(n_items) if i not in h) for h in histories])
    model = FixedScores({tuple(h): [0.3] * n_items for h in histories})
    report = evaluate(model, EvalSet(np.arange(n_users), histories, targets), n_items, n_bootstrap=0)  # type: ignore[arg-type]
    candidates = n_items - 20
    assert report.hr10 == pytest.approx(10 / candidates)
    assert report.ndcg10 == pytest.approx(sum(1 / math.log2(r + 2) for r in range(10)) / candidates)
    assert report.mrr == pytest.approx(sum(1 / (r + 1) for r in range(candidates)) / candidates)


def test_expected_metrics_match_a_brute_force_average_over_tie_orders() -> None:
    greater = np.array([0, 3, 8, 9, 12, 2])
    ties = np.array([4, 0, 5, 1, 3, 30])
    metrics = per_user_metrics(TargetRanks(greater, ties))
    for user, (g, e) in enumerate(zip(greater, ties, strict=True)):
        ranks = np.arange(g, g + e + 1)
        plain = per_user_metrics(ranks)
        for name in ("hr10", "ndcg10", "mrr"):
            assert metrics[name][user] == pytest.approx(plain[name].mean())


def test_liked_and_disliked_figures_average_over_their_own_users_and_dislikes_are_never_ranked() -> None:
    # Items 0..5 scored 6..1. Targets: user 0 liked item 1 (5★), user 1 disliked item 2 (1★), user 2 rated 3★.
    scores = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    model = FixedScores({(): scores, (0,): scores})
    eval_set = EvalSet(
        np.arange(3),
        [[], [], [0]],
        np.array([1, 2, 5]),
        target_ratings=np.array([5.0, 1.0, 3.0]),
        excluded=[[0], [], [1, 2, 3]],  # user 0 disliked item 0: it no longer outranks their target
    )
    report = evaluate(model, eval_set, n_items=6, n_bootstrap=0)  # type: ignore[arg-type]
    assert (report.n_liked, report.n_disliked) == (1, 1)
    assert report.liked_hr10 == 1.0 and report.liked_ndcg10 == 1.0  # rank 0 once item 0 is excluded
    assert report.disliked_hr10 == 1.0  # user 1's disliked target is in their top 10
    assert report.per_user["liked_ndcg10"].tolist() == [1.0]
    # user 2: items 0 (history), 1, 2, 3 (excluded) removed; only item 4 beats the target -> rank 1
    assert report.per_user["ndcg10"][2] == pytest.approx(1 / math.log2(3))


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
    def rows(data: list[tuple[int, int, int, float]]) -> pd.DataFrame:
        return pd.DataFrame(data, columns=["user_idx", "item_idx", "timestamp", "rating"])

    train = rows([(0, 5, 1, 4.0), (0, 3, 1, 3.0), (1, 2, 4, 5.0), (0, 4, 0, 2.0), (0, 1, 0, 3.5)])
    valid = rows([(0, 7, 2, 1.5), (1, 8, 5, 4.0)])
    test = rows([(1, 9, 6, 2.0), (0, 6, 3, 4.5)])
    v = validation_set(train, valid)
    assert v.user_idx.tolist() == [0, 1]
    assert v.histories == [[1, 5, 3], [2]]  # by time, ties in row order; item 4 rated 2★ is a dislike, not history
    assert v.excluded == [[4], []]
    assert v.targets.tolist() == [7, 8]
    assert v.target_ratings is not None and v.target_ratings.tolist() == [1.5, 4.0]
    t = test_set(train, valid, test)
    assert t.histories == [[1, 5, 3], [2, 8]]
    assert t.excluded == [[4, 7], []]
    assert t.targets.tolist() == [6, 9]
    assert len(v.sample(1, seed=0)) == 1
    assert v.sample(None, seed=0) is v
    assert v.liked().user_idx.tolist() == [1]
