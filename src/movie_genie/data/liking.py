"""What a rating says about liking, the one rule every layer applies (training, evaluation, serving, retraining).

MovieLens ratings run from 0.5 to 5 stars in half stars. A rating of LIKED_MIN_RATING or more says the person liked
the film: only those become reasons ("Because you liked X") and the *liked-next* figures of the report. A rating of
DISLIKED_MAX_RATING or less says they disliked it: the film is not an interaction the models learn a taste from (it
is removed from their input, as an explicit dislike is), it is never shown to that person again, and serving pushes
the films most like it down. Ratings in between are interactions without a verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LIKED_MIN_RATING = 4.0
DISLIKED_MAX_RATING = 2.0


def is_disliked_rating(rating: float | None) -> bool:
    """Whether a rating says the person disliked the film (None: no rating, no verdict)."""
    return rating is not None and rating <= DISLIKED_MAX_RATING


def disliked_mask(ratings: pd.Series | np.ndarray) -> np.ndarray:
    """(N,) bool: True for the rows whose rating is a dislike."""
    return np.asarray(ratings, dtype=np.float64) <= DISLIKED_MAX_RATING


def liked_mask(ratings: pd.Series | np.ndarray) -> np.ndarray:
    """(N,) bool: True for the rows whose rating says the person liked the film."""
    return np.asarray(ratings, dtype=np.float64) >= LIKED_MIN_RATING


def split_by_liking(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rating rows as (interactions, dislikes): the models learn a taste from the first; the second are only never
    recommended again. Frames without a rating column are all interactions."""
    if "rating" not in rows.columns:
        return rows, rows.iloc[0:0]
    disliked = disliked_mask(rows["rating"])
    return rows.loc[~disliked].reset_index(drop=True), rows.loc[disliked].reset_index(drop=True)
