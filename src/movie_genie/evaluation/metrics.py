"""Full-ranking leave-one-out metrics (the protocol is stated in PROTOCOL below and in docs/evaluation.md).

Each evaluated user has a history (item indices, oldest first) and one held-out target. The model scores the whole
catalogue; items in the history are removed from the ranking (the target itself never is), and the target's rank
is the number of remaining items scored strictly higher (so ties never hurt the target, as in the known answers).
From the 0-based rank r: HR@k = [r < k], NDCG@k = 1/log2(r + 2) if r < k else 0, MRR = 1/(r + 1) (untruncated).
Catalogue coverage is the share of all items that appear in at least one user's top-k list.
Bootstrap 95% intervals resample users with replacement (seeded, percentile method, scipy.stats.bootstrap). A
comparison of two models is paired: the same resampled users for both, i.e. the interval of the per-user difference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from movie_genie.models.base import Recommender, TrainingData, Validator
from movie_genie.models.common import histories_matrix

CUTOFF = 10
PROTOCOL = (
    "Leave-one-out by time: each user's last interaction is the test target, the one before it the validation "
    "target, the rest is training (users with fewer than the split's minimum interactions stay in training only). "
    "Every rating counts as an interaction. The target is ranked against ALL catalogue items, excluding the items "
    "already in the user's history; its rank is the number of those items scored strictly higher. "
    "Validation histories are the training rows; test histories are training + validation rows, and models whose "
    "config says so are refit on training + validation (with validation-tuned hyperparameters) before the test. "
    "HR@10 (= Recall@10 with one target), NDCG@10, MRR (untruncated) and catalogue coverage (distinct items in all "
    "top-10 lists / catalogue size); 95% intervals are percentile bootstraps over users. Hyperparameters and blend "
    "weights are tuned on validation only; the test split is used once, for this report."
)


@dataclass
class EvalSet:
    """Users to evaluate: their histories (item indices, oldest first) and one target item each."""

    user_idx: np.ndarray  # (U,) int64
    histories: list[list[int]]
    targets: np.ndarray  # (U,) int64

    def __len__(self) -> int:
        return len(self.targets)

    def sample(self, n: int | None, seed: int) -> EvalSet:
        """A seeded random subset of n users (all users when n is None or at least the set's size)."""
        if n is None or n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(self), size=n, replace=False))
        return EvalSet(self.user_idx[keep], [self.histories[i] for i in keep], self.targets[keep])


def build_eval_set(history_frames: Sequence[pd.DataFrame], targets: pd.DataFrame) -> EvalSet:
    """Histories from the rows of `history_frames` (in their order) for each user with a row in `targets`."""
    rows = pd.concat([f[["user_idx", "item_idx", "timestamp"]] for f in history_frames], ignore_index=True)
    # Stable sort by user then time: frames are given oldest split first, so ties keep train before valid.
    rows = rows.sort_values(["user_idx", "timestamp"], kind="stable")
    grouped = rows.groupby("user_idx", sort=True)["item_idx"].agg(list)
    target_rows = targets.sort_values("user_idx", kind="stable")
    users = target_rows["user_idx"].to_numpy(dtype=np.int64)
    histories = [[int(i) for i in grouped.get(u, [])] for u in users]
    return EvalSet(users, histories, target_rows["item_idx"].to_numpy(dtype=np.int64))


def validation_set(train: pd.DataFrame, valid: pd.DataFrame) -> EvalSet:
    """Validation: history = training rows, target = the validation row."""
    return build_eval_set([train], valid)


def test_set(train: pd.DataFrame, valid: pd.DataFrame, test: pd.DataFrame) -> EvalSet:
    """Test: history = training + validation rows, target = the test row."""
    return build_eval_set([train, valid], test)


test_set.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


def rank_targets(
    model: Recommender, eval_set: EvalSet, n_items: int, k: int = CUTOFF, batch_size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Score in batches; return each target's 0-based rank (U,) and each user's top-k item indices (U, k)."""
    ranks = np.empty(len(eval_set), dtype=np.int64)
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
        seen = histories_matrix(histories, n_items).tocoo()
        scores[seen.row, seen.col] = -np.inf
        scores[rows, targets] = target_scores  # a re-watched target stays rankable
        ranks[start:stop] = (scores > target_scores[:, None]).sum(axis=1)
        kk = min(k, n_items)
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        top[start:stop, :kk] = part
    return ranks, top


def per_user_metrics(ranks: np.ndarray, k: int = CUTOFF) -> dict[str, np.ndarray]:
    """HR@k, NDCG@k and reciprocal rank per user from 0-based ranks."""
    ranks = np.asarray(ranks, dtype=np.float64)
    hit = ranks < k
    return {
        f"hr{k}": hit.astype(np.float64),
        f"ndcg{k}": np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0),
        "mrr": 1.0 / (ranks + 1.0),
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
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    seconds: float = 0.0
    # NDCG@10 of each user, in the evaluation set's order: what a paired comparison of two models resamples.
    per_user_ndcg10: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (intervals as [low, high]; per-user values left out)."""
        out = asdict(self)
        del out["per_user_ndcg10"]
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
    """Full-ranking HR@10, NDCG@10, MRR, coverage and bootstrap intervals of `model` on `eval_set`."""
    if len(eval_set) == 0:
        raise ValueError("cannot evaluate on an empty set of users: the split has no eligible users")
    start = time.perf_counter()
    ranks, top = rank_targets(model, eval_set, n_items, CUTOFF, batch_size, progress)
    per_user = per_user_metrics(ranks)
    ci = {name: bootstrap_ci(values, n_bootstrap, seed) for name, values in per_user.items()} if n_bootstrap else {}
    return MetricReport(
        n_users=len(eval_set),
        hr10=float(per_user["hr10"].mean()),
        ndcg10=float(per_user["ndcg10"].mean()),
        mrr=float(per_user["mrr"].mean()),
        coverage=coverage(top, n_items),
        ci=ci,
        seconds=time.perf_counter() - start,
        per_user_ndcg10=per_user["ndcg10"],
    )


def ndcg_at_10(model: Recommender, eval_set: EvalSet, n_items: int, batch_size: int = 256) -> float:
    """Mean NDCG@10 only (no intervals): the cheap number early stopping and tuning need."""
    ranks, _ = rank_targets(model, eval_set, n_items, CUTOFF, batch_size)
    return float(per_user_metrics(ranks)["ndcg10"].mean())


def make_validator(
    data: TrainingData, sample_users: int | None = None, seed: int = 0, batch_size: int = 256
) -> Validator:
    """Validation NDCG@10 on all (or a seeded sample of) validation users, for tuning and early stopping."""
    eval_set = validation_set(data.train, data.valid).sample(sample_users, seed)
    n_items = data.id_map.n_items

    def validate(model: Recommender) -> float:
        return ndcg_at_10(model, eval_set, n_items, batch_size)

    return validate
