"""Scores the engine fuses: the best rows of a score array, cosines relative to a query's candidates, the
popularity x quality prior of every film, and masks combined."""

from __future__ import annotations

import numpy as np
import pandas as pd


def top_rows(
    scores: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    minimum: float,
    tie_break: np.ndarray | None = None,
) -> dict[int, float]:
    """Best k rows with score >= minimum among allowed rows, as {row: score} best first."""
    ok = scores >= minimum
    if allowed is not None:
        ok &= allowed
    candidates = np.flatnonzero(ok)
    if candidates.size == 0:
        return {}
    if candidates.size > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    secondary = -tie_break[candidates] if tie_break is not None else candidates
    order = candidates[np.lexsort((secondary, -scores[candidates]))]
    return {int(r): float(scores[r]) for r in order}


def relative(rows: np.ndarray, sims: np.ndarray) -> dict[int, float]:
    """Cosines relative to this query's candidates, {row: 0-1}: the best is 1, the last candidate 0."""
    top, floor = float(sims[0]), float(sims[-1])
    span = top - floor if top - floor > 1e-6 else 1.0
    return {int(r): max(0.0, (float(c) - floor) / span) for r, c in zip(rows, sims, strict=True)}


def prior(catalogue: pd.DataFrame, damping: float) -> np.ndarray:
    """Popularity x quality of every movie, 0-1: log ratings over the most rated, times the damped mean / 5."""
    counts = catalogue["rating_count"].to_numpy(dtype=np.float64)  # [n]
    popularity = np.log1p(counts) / (np.log1p(counts.max()) or 1.0)
    if "rating_mean" not in catalogue.columns:  # an index built before the mean was stored
        return popularity
    means = catalogue["rating_mean"].to_numpy(dtype=np.float64)
    rated = np.isfinite(means) & (counts > 0)
    overall = float(np.average(means[rated], weights=counts[rated])) if rated.any() else 3.5
    damped = (np.where(rated, means, 0.0) * counts + overall * damping) / (counts + damping + 1e-9)
    return popularity * np.clip(damped / 5.0, 0.0, 1.0)


def both_masks(first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
    """Rows both masks allow (None: no mask)."""
    if first is None or second is None:
        return second if first is None else first
    return first & second
