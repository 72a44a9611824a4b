"""Full-ranking leave-one-out metrics (the protocol is stated in PROTOCOL below and in docs/evaluation.md).

Each evaluated user has a history (item indices, oldest first: the films the model may learn a taste from), films
to exclude (those they rated as a dislike: never recommended again, never model input) and one held-out target with
its rating. The model scores the whole catalogue; history and excluded items are removed from the ranking (the
target itself never is). Scores tied with the target are ordered at random: with g films scored higher and e tied,
the target's rank is uniform over g .. g + e, and every metric is its expectation over that order (the expected
rank is g + e/2). So a constant scorer gets HR@10 = 10 / candidates, never 1. From a 0-based rank r: HR@k = [r < k],
NDCG@k = 1/log2(r + 2) if r < k else 0, MRR = 1/(r + 1) (untruncated).
Liked-next figures are over the users whose target they rated 4★ or more (what the product promises: films you will
like); disliked-next HR@10 over those who rated it 2★ or less (lower is better: a film they went on to dislike should
not be in their top 10). Catalogue coverage is the share of all items in at least one user's top-k list.
Bootstrap 95% intervals resample users with replacement (seeded, percentile method, scipy.stats.bootstrap). A
comparison of two models is paired: the same resampled users for both, i.e. the interval of the per-user difference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import special, stats
from tqdm.auto import tqdm

from movie_genie.config import Params, Section
from movie_genie.data.liking import DISLIKED_MAX_RATING, LIKED_MIN_RATING, split_by_liking
from movie_genie.models.base import Recommender, TrainingData, Validator
from movie_genie.models.common import histories_matrix

CUTOFF = 10
PROTOCOL = (
    "Leave-one-out by time: each user's last rating is the test target, the one before it the validation "
    "target, the rest is training (users with fewer than the split's minimum interactions stay in training only). "
    f"A rating of {DISLIKED_MAX_RATING:g}★ or less is a dislike: it is never model input (the models learn a taste "
    "from the other ratings) and the film is excluded from that user's rankings; every other rating is an "
    "interaction. The target is ranked against ALL catalogue items, excluding the items already in the user's "
    "history or dislikes; films scored the same as the target are ordered at random, and every metric is its "
    "expectation over that order (a constant scorer gets HR@10 = 10 / candidates). "
    "Validation histories are the training rows; test histories are training + validation rows, and models whose "
    "config says so are refit on training + validation (with validation-tuned hyperparameters) before the test. "
    "HR@10 (= Recall@10 with one target), NDCG@10, MRR (untruncated) and catalogue coverage (distinct items in all "
    f"top-10 lists / catalogue size) over every user; liked-next HR@10 and NDCG@10 over the users who rated their "
    f"target {LIKED_MIN_RATING:g}★ or more; disliked-next HR@10 over those who rated it {DISLIKED_MAX_RATING:g}★ or "
    "less (lower is better). 95% intervals are percentile bootstraps over users. Hyperparameters, early stopping and "
    "blend weights are tuned on validation liked-next NDCG@10 only; the test split is used once, for this report."
)
# The figures every split reports, with the users they are averaged over ("all", "liked" or "disliked" targets).
FIGURES: dict[str, tuple[str, str]] = {
    "hr10": ("all", "hr10"),
    "ndcg10": ("all", "ndcg10"),
    "mrr": ("all", "mrr"),
    "liked_hr10": ("liked", "hr10"),
    "liked_ndcg10": ("liked", "ndcg10"),
    "disliked_hr10": ("disliked", "hr10"),
}


@dataclass
class EvalSet:
    """Users to evaluate: their histories (model input, oldest first), films never to rank for them (dislikes),
    and one target item each with its rating (NaN when unknown)."""

    user_idx: np.ndarray  # (U,) int64
    histories: list[list[int]]
    targets: np.ndarray  # (U,) int64
    target_ratings: np.ndarray | None = None  # (U,) float; None = no ratings known
    excluded: list[list[int]] | None = None  # per user: rated items that are not history (dislikes)

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, keep: np.ndarray) -> EvalSet:
        """The users at positions `keep` (an index array), in that order."""
        return EvalSet(
            self.user_idx[keep],
            [self.histories[i] for i in keep],
            self.targets[keep],
            None if self.target_ratings is None else self.target_ratings[keep],
            None if self.excluded is None else [self.excluded[i] for i in keep],
        )

    def sample(self, n: int | None, seed: int) -> EvalSet:
        """A seeded random subset of n users (all users when n is None or at least the set's size)."""
        if n is None or n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        return self.subset(np.sort(rng.choice(len(self), size=n, replace=False)))

    def groups(self) -> dict[str, np.ndarray]:
        """(U,) bool masks of the users each figure averages over: all, liked targets, disliked targets."""
        ratings = np.full(len(self), np.nan) if self.target_ratings is None else self.target_ratings
        return {
            "all": np.ones(len(self), dtype=bool),
            "liked": ratings >= LIKED_MIN_RATING,
            "disliked": ratings <= DISLIKED_MAX_RATING,
        }

    def liked(self) -> EvalSet:
        """The users whose target they liked; every user when no target is known to be liked (no ratings)."""
        mask = self.groups()["liked"]
        return self.subset(np.flatnonzero(mask)) if mask.any() else self


def build_eval_set(history_frames: Sequence[pd.DataFrame], targets: pd.DataFrame) -> EvalSet:
    """Histories from the rows of `history_frames` (in their order) for each user with a row in `targets`; rows
    rated as a dislike become exclusions instead of history (data.liking)."""
    columns = ["user_idx", "item_idx", "timestamp"] + (["rating"] if all("rating" in f for f in history_frames) else [])
    rows = pd.concat([f[columns] for f in history_frames], ignore_index=True)
    # Stable sort by user then time: frames are given oldest split first, so ties keep train before valid.
    rows = rows.sort_values(["user_idx", "timestamp"], kind="stable")
    interactions, dislikes = split_by_liking(rows)
    grouped = interactions.groupby("user_idx", sort=True)["item_idx"].agg(list)
    disliked = dislikes.groupby("user_idx", sort=True)["item_idx"].agg(list)
    target_rows = targets.sort_values("user_idx", kind="stable")
    users = target_rows["user_idx"].to_numpy(dtype=np.int64)
    ratings = target_rows["rating"].to_numpy(dtype=np.float64) if "rating" in target_rows else None
    return EvalSet(
        users,
        [[int(i) for i in grouped.get(u, [])] for u in users],
        target_rows["item_idx"].to_numpy(dtype=np.int64),
        ratings,
        [[int(i) for i in disliked.get(u, [])] for u in users],
    )


def validation_set(train: pd.DataFrame, valid: pd.DataFrame) -> EvalSet:
    """Validation: history = training rows, target = the validation row."""
    return build_eval_set([train], valid)


def training_validation_set(data: TrainingData) -> EvalSet:
    """Validation users of TrainingData: its interactions as history, its dislikes excluded."""
    return build_eval_set(_rated(data), data.valid)


def training_test_set(data: TrainingData, test: pd.DataFrame) -> EvalSet:
    """Test users of TrainingData: its interactions and validation rows as history, its dislikes excluded."""
    return build_eval_set([*_rated(data), data.valid], test)


def _rated(data: TrainingData) -> list[pd.DataFrame]:
    """Every training rating of `data`: the interactions, and the dislikes that were split off them."""
    return [data.train] if data.disliked is None else [data.train, data.disliked]


def test_set(train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame) -> EvalSet:
    """Test: history = training + validation rows, target = the test row."""
    return build_eval_set([train, valid], test)


test_set.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


@dataclass
class TargetRanks:
    """Where each user's target landed: films scored strictly higher (greater) and tied with it (ties), per user."""

    greater: np.ndarray  # (U,) int64
    ties: np.ndarray  # (U,) int64, other candidates with exactly the target's score

    @property
    def expected(self) -> np.ndarray:
        """(U,) the expected 0-based rank under a random order of the ties: greater + half the equal."""
        return self.greater + self.ties / 2.0


def rank_targets(
    model: Recommender, eval_set: EvalSet, n_items: int, k: int = CUTOFF, batch_size: int = 256, progress: bool = False
) -> tuple[TargetRanks, np.ndarray]:
    """Score in batches; return where each target ranks and each user's top-k item indices (U, k)."""
    greater = np.empty(len(eval_set), dtype=np.int64)
    ties = np.empty(len(eval_set), dtype=np.int64)
    top = np.full((len(eval_set), k), -1, dtype=np.int64)
    starts = range(0, len(eval_set), batch_size)
    for start in tqdm(starts, desc=f"rank {model.name}", disable=not progress, leave=False):
        stop = min(start + batch_size, len(eval_set))
        histories = eval_set.histories[start:stop]
        targets = eval_set.targets[start:stop]
        scores = np.array(model.score_batch(histories), dtype=np.float64)  # (B, n_items), a writable copy
        if scores.shape != (len(histories), n_items):
            raise ValueError(
                f"{model.name}.score_batch returned shape {scores.shape}, expected {(len(histories), n_items)}"
            )
        scores[np.isnan(scores)] = -np.inf
        rows = np.arange(len(histories))
        target_scores = scores[rows, targets]
        seen = (
            histories
            if eval_set.excluded is None
            else [h + x for h, x in zip(histories, eval_set.excluded[start:stop], strict=True)]
        )
        mask = histories_matrix(seen, n_items).tocoo()
        scores[mask.row, mask.col] = -np.inf
        scores[rows, targets] = target_scores  # a re-watched target stays rankable
        greater[start:stop] = (scores > target_scores[:, None]).sum(axis=1)
        # Removed candidates (-inf) never tie with a target, even one scored -inf itself.
        equal = (scores == target_scores[:, None]) & np.isfinite(scores)
        ties[start:stop] = np.maximum(equal.sum(axis=1) - np.isfinite(target_scores), 0)
        kk = min(k, n_items)
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        top[start:stop, :kk] = part
    return TargetRanks(greater, ties), top


def per_user_metrics(ranks: TargetRanks | np.ndarray, k: int = CUTOFF) -> dict[str, np.ndarray]:
    """HR@k, NDCG@k and reciprocal rank per user, each its expectation over a random order of the ties.

    A plain array is taken as ranks without ties. With g films above and e tied, the rank is uniform over g .. g + e.
    """
    if not isinstance(ranks, TargetRanks):
        ranks = TargetRanks(np.asarray(ranks, dtype=np.int64), np.zeros(len(ranks), dtype=np.int64))
    g = ranks.greater.astype(np.float64)
    n = ranks.ties.astype(np.float64) + 1.0  # equally likely positions
    # gains[r] = sum of 1/log2(i + 2) for i < r: the NDCG of positions g .. g + e is a difference of two of these.
    gains = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])
    first = np.minimum(ranks.greater, k)
    last = np.minimum(ranks.greater + ranks.ties + 1, k)
    return {
        f"hr{k}": np.clip(k - g, 0.0, n) / n,
        f"ndcg{k}": (gains[last] - gains[first]) / n,
        # sum of 1/(r + 1) for r in g .. g + e, as a difference of harmonic numbers (digamma(x + 1) = H(x) - gamma).
        "mrr": (special.digamma(g + n + 1.0) - special.digamma(g + 1.0)) / n,
    }


def coverage(top_lists: np.ndarray, n_items: int) -> float:
    """Distinct items across all top-k lists divided by the catalogue size."""
    items = np.unique(top_lists[top_lists >= 0])
    return float(items.size / n_items) if n_items else 0.0


def bootstrap_ci(values: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean over users."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        mean = float(values.mean()) if values.size else 0.0
        return mean, mean
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=0.95,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_difference_ci(
    values: np.ndarray, baseline: np.ndarray, n_resamples: int, seed: int
) -> tuple[float, float, float]:
    """Mean of `values - baseline` (per user, same users in the same order) and its paired bootstrap 95% interval."""
    values, baseline = np.asarray(values, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if values.shape != baseline.shape:
        raise ValueError(f"a paired comparison needs the same users: {values.shape} vs {baseline.shape}")
    difference = values - baseline
    low, high = bootstrap_ci(difference, n_resamples, seed)
    return float(difference.mean()), low, high


@dataclass
class MetricReport:
    """One model on one split: means, 95% intervals, coverage and how long ranking took."""

    n_users: int
    hr10: float
    ndcg10: float
    mrr: float
    coverage: float
    n_liked: int = 0  # users whose target they rated as liked (the liked-next figures' users)
    n_disliked: int = 0  # users whose target they rated as a dislike
    liked_hr10: float | None = None
    liked_ndcg10: float | None = None
    disliked_hr10: float | None = None  # lower is better
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    seconds: float = 0.0
    # Each figure's per-user values over its users, in the evaluation set's order: what a paired comparison of two
    # models on the same users resamples.
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (intervals as [low, high]; per-user values left out)."""
        out = {name: value for name, value in vars(self).items() if name != "per_user"}
        out["ci"] = {name: [lo, hi] for name, (lo, hi) in self.ci.items()}
        return out


def evaluate(
    model: Recommender,
    eval_set: EvalSet,
    n_items: int,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> MetricReport:
    """Full-ranking HR@10, NDCG@10, MRR (all, liked-next, disliked-next), coverage and bootstrap intervals."""
    if len(eval_set) == 0:
        raise ValueError("cannot evaluate on an empty set of users: the split has no eligible users")
    start = time.perf_counter()
    ranks, top = rank_targets(model, eval_set, n_items, CUTOFF, batch_size, progress)
    metrics = per_user_metrics(ranks)
    groups = eval_set.groups()
    per_user = {name: metrics[metric][groups[group]] for name, (group, metric) in FIGURES.items()}
    means = {name: float(values.mean()) if values.size else None for name, values in per_user.items()}
    ci = {}
    if n_bootstrap:
        ci = {name: bootstrap_ci(values, n_bootstrap, seed) for name, values in per_user.items() if values.size}
    return MetricReport(
        n_users=len(eval_set),
        hr10=float(metrics["hr10"].mean()),
        ndcg10=float(metrics["ndcg10"].mean()),
        mrr=float(metrics["mrr"].mean()),
        coverage=coverage(top, n_items),
        n_liked=int(groups["liked"].sum()),
        n_disliked=int(groups["disliked"].sum()),
        liked_hr10=means["liked_hr10"],
        liked_ndcg10=means["liked_ndcg10"],
        disliked_hr10=means["disliked_hr10"],
        ci=ci,
        seconds=time.perf_counter() - start,
        per_user=per_user,
    )


def ndcg_at_10(model: Recommender, eval_set: EvalSet, n_items: int, batch_size: int = 256) -> float:
    """Mean NDCG@10 only (no intervals): the cheap number early stopping and tuning need."""
    ranks, _ = rank_targets(model, eval_set, n_items, CUTOFF, batch_size)
    return float(per_user_metrics(ranks)["ndcg10"].mean())


def make_validator(
    data: TrainingData, sample_users: int | None = None, seed: int = 0, batch_size: int = 256
) -> Validator:
    """Validation liked-next NDCG@10, for tuning and early stopping: over the validation users whose target they
    liked (all of them when the data has no ratings), or a seeded sample of those."""
    eval_set = training_validation_set(data).liked().sample(sample_users, seed)
    n_items = data.id_map.n_items

    def validate(model: Recommender) -> float:
        return ndcg_at_10(model, eval_set, n_items, batch_size)

    return validate


class EvaluationParams(Section):
    """The `evaluation` section of params.yaml."""

    seed: int = 0
    # Validation users sampled for tuning/early stopping (null = all of them).
    validation_users: int | None = Field(default=None, ge=1)
    bootstrap_resamples: int = Field(default=1000, ge=0)
    batch_size: int = Field(default=256, ge=1)

    @classmethod
    def from_params(cls, params: Params) -> EvaluationParams:
        """Validate the `evaluation` section; raise ConfigError naming the bad key."""
        return params.validated("evaluation", cls)

    def evaluate(self, model: Recommender, eval_set: EvalSet, n_items: int) -> MetricReport:
        """Full-ranking metrics of `model` on `eval_set` with these settings (resamples, seed, batch size)."""
        return evaluate(
            model,
            eval_set,
            n_items,
            n_bootstrap=self.bootstrap_resamples,
            seed=self.seed,
            batch_size=self.batch_size,
        )
