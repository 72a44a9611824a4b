"""A synthetic MovieLens-shaped data set for measuring cost at scale (`movie-genie data --synthetic SCALE`).

It is for COST, NOT QUALITY: the films, users and ratings are random draws with the statistics that drive the
cost of every stage, and nothing a model learns from them means anything. Scale 1 matches ml-latest-small
(610 users, 9,742 films, 100,836 ratings, 3,683 tags); users, ratings and tags grow linearly with the scale, the
catalogue as scale^0.38, so scale 320 is about ml-32m (195k users, 87k films, 32M ratings). Drawn to match
ml-latest-small:
- film popularity: a power law over popularity rank, p(r) ~ (r + 0.016 n)^-1.25 (the top 1% of films get ~16% of
  the ratings and the top 10% ~60%, as in ml-latest-small);
- user activity: 20 + a log-normal (median ~70, mean ~165 ratings per user), at most a quarter of the catalogue;
- each user rates distinct films, in time order (a start between 1996 and 2023, then gaps of about a day);
- rating values with ml-latest-small's histogram; 1-6 genres per film with its genre frequencies; a release year;
  a title of made-up words (about as long as a real one); free-text tags on rated films.
Seeded: the same scale and seed give the same tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from movie_genie.data.movielens import CanonicalTables, finish
from movie_genie.errors import DataError

# ml-latest-small, the scale-1 data set.
BASE_USERS, BASE_MOVIES, BASE_RATINGS, BASE_TAGS = 610, 9_742, 100_836, 3_683
# The catalogue grows slower than the ratings: ml-32m has 87,585 films for ~317x the ratings (9,742 * 320^0.38).
CATALOGUE_EXPONENT = 0.38
POPULARITY_EXPONENT, POPULARITY_OFFSET = 1.25, 0.016  # p(rank) ~ (rank + offset * n_movies)^-exponent
MIN_USER_RATINGS, ACTIVITY_MEDIAN, ACTIVITY_SIGMA = 20, 50.0, 1.46
MAX_USER_SHARE = 0.25  # no user rates more than this share of the catalogue
FIRST_TIMESTAMP, LAST_TIMESTAMP = 828_000_000, 1_700_000_000  # 1996 .. 2023
MEAN_GAP_S = 86_400.0
RATING_VALUES = np.arange(1, 11, dtype=np.float32) / 2  # 0.5 .. 5.0
RATING_SHARES = np.array([0.0136, 0.0279, 0.0178, 0.0749, 0.0550, 0.1988, 0.1303, 0.2660, 0.0848, 0.1310])
GENRE_SHARES = {
    "Drama": 0.448, "Comedy": 0.386, "Thriller": 0.194, "Action": 0.188, "Romance": 0.164, "Adventure": 0.130,
    "Crime": 0.123, "Sci-Fi": 0.101, "Horror": 0.100, "Fantasy": 0.080, "Children": 0.068, "Animation": 0.063,
    "Mystery": 0.059, "Documentary": 0.045, "War": 0.039, "Musical": 0.034, "Western": 0.017, "IMAX": 0.016,
    "Film-Noir": 0.009,
}  # fmt: skip
_SYLLABLES = ("ka", "lo", "mi", "ren", "sa", "tor", "vel", "an", "dor", "el", "fi", "gar", "is", "jun", "ko", "lan",
              "mor", "na", "ol", "pra", "qui", "ros", "su", "tan", "ul", "vor", "wen", "xa", "yo", "zed")  # fmt: skip
USERS_PER_CHUNK = 20_000  # users drawn at once: bounds the generator's memory at any scale


def sizes(scale: float) -> dict[str, int]:
    """Users, movies, ratings and tags of the synthetic data set at `scale` (1 = ml-latest-small)."""
    if not 0 < scale <= 1000:
        raise DataError(f"--synthetic takes a scale between 0 and 1000 (1 = ml-latest-small), got {scale}")
    return {
        "users": max(2, round(BASE_USERS * scale)),
        "movies": max(10, round(BASE_MOVIES * scale**CATALOGUE_EXPONENT)),
        "ratings": round(BASE_RATINGS * scale),
        "tags": round(BASE_TAGS * scale),
    }


def dataset_name(scale: float) -> str:
    """The name the synthetic data set is recorded under (dataset.json, the report): e.g. synthetic-10x."""
    return f"synthetic-{scale:g}x"


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` made-up words of 1-3 syllables (titles and tags need a realistic number of distinct words)."""
    syllables = np.array(_SYLLABLES)
    counts = rng.integers(1, 4, size=size)
    words = ["".join(rng.choice(syllables, size=c)) for c in counts]
    return np.array(sorted(set(words)))


def _zipf_choice(rng: np.random.Generator, n: int, size: int, exponent: float = 1.0) -> np.ndarray:
    """`size` draws of 0..n-1 where rank r has weight (r + 1)^-exponent."""
    cdf = np.cumsum((np.arange(n) + 1.0) ** -exponent)
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, n - 1)


def _movies(rng: np.random.Generator, n: int, words: np.ndarray) -> pd.DataFrame:
    """Titles of 1-4 words (~19 characters like real ones), years skewed to recent, ML-like genre lists."""
    n_words = rng.integers(1, 5, size=n)
    picks = _zipf_choice(rng, len(words), int(n_words.sum()))
    titles = [" ".join(w).title() for w in np.split(words[picks], np.cumsum(n_words)[:-1])]
    years = np.clip(2023 - rng.exponential(18.0, size=n).astype(np.int64), 1902, 2023)
    names = np.array(list(GENRE_SHARES))
    shares = np.array(list(GENRE_SHARES.values()))
    n_genres = np.clip(1 + rng.poisson(1.27, size=n), 1, 6)
    genres = [list(rng.choice(names, size=k, replace=False, p=shares / shares.sum())) for k in n_genres]
    return pd.DataFrame(
        {
            "movie_id": np.arange(1, n + 1, dtype=np.int64),
            "title": titles,
            "year": pd.array(years, dtype="Int64"),
            "genres": genres,
        }
    )


def _ratings_chunk(
    rng: np.random.Generator, user_ids: np.ndarray, counts: np.ndarray, cdf: np.ndarray, film_of_rank: np.ndarray
) -> pd.DataFrame:
    """Each user's `count` distinct films (popularity-weighted), in time order, with rating values."""
    # Draw 30% more than needed with replacement, drop repeats, keep each user's first `count` distinct films.
    drawn = np.ceil(counts * 1.3).astype(np.int64) + 5
    users = np.repeat(user_ids, drawn)
    ranks = np.searchsorted(cdf, rng.random(len(users)) * cdf[-1], side="right").clip(0, len(cdf) - 1)
    films = film_of_rank[ranks]
    _, first = np.unique(users * (len(cdf) + 1) + films, return_index=True)
    first.sort()  # back to draw order, grouped by user
    users, films = users[first], films[first]
    starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
    position = np.arange(len(users)) - np.repeat(starts, np.diff(np.r_[starts, len(users)]))
    keep = position < np.repeat(counts, np.diff(np.r_[starts, len(users)]))
    users, films = users[keep], films[keep]
    # Per-user time: a random start, then exponential gaps (cumulative within each user).
    gaps = rng.exponential(MEAN_GAP_S, size=len(users))
    bounds = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
    total = np.cumsum(gaps)
    offset = np.repeat(total[bounds] - gaps[bounds], np.diff(np.r_[bounds, len(users)]))
    first_time = rng.uniform(FIRST_TIMESTAMP, LAST_TIMESTAMP - 3e7, size=len(bounds))
    timestamps = np.repeat(first_time, np.diff(np.r_[bounds, len(users)])) + (total - offset)
    values = RATING_VALUES[rng.choice(len(RATING_VALUES), size=len(users), p=RATING_SHARES / RATING_SHARES.sum())]
    return pd.DataFrame(
        {"user_id": users, "movie_id": films, "rating": values, "timestamp": timestamps.astype(np.int64)}
    )


def synthetic_tables(
    scale: float, seed: int = 0, progress: Callable[[int, int], None] | None = None
) -> CanonicalTables:
    """The canonical tables of a synthetic data set at `scale` (module docstring); `progress(users done, total)`."""
    n = sizes(scale)
    rng = np.random.default_rng(seed)
    words = _vocabulary(rng, 6_000)
    movies = _movies(rng, n["movies"], words)
    # Popularity rank -> film: a random permutation, so popular films are spread over ids and years.
    film_of_rank = rng.permutation(movies["movie_id"].to_numpy())
    cdf = np.cumsum((np.arange(n["movies"]) + POPULARITY_OFFSET * n["movies"]) ** -POPULARITY_EXPONENT)

    activity = MIN_USER_RATINGS + rng.lognormal(math.log(ACTIVITY_MEDIAN), ACTIVITY_SIGMA, size=n["users"])
    # Rescale the part above the minimum so the total matches the target number of ratings.
    extra = activity - MIN_USER_RATINGS
    extra *= max(n["ratings"] - MIN_USER_RATINGS * n["users"], 0) / extra.sum()
    cap = max(MIN_USER_RATINGS, int(MAX_USER_SHARE * n["movies"]))
    counts = np.minimum(np.round(MIN_USER_RATINGS + extra).astype(np.int64), cap)
    user_ids = np.arange(1, n["users"] + 1, dtype=np.int64)

    chunks = []
    for start in range(0, n["users"], USERS_PER_CHUNK):
        stop = min(start + USERS_PER_CHUNK, n["users"])
        chunks.append(_ratings_chunk(rng, user_ids[start:stop], counts[start:stop], cdf, film_of_rank))
        if progress is not None:
            progress(stop, n["users"])
    ratings = pd.concat(chunks, ignore_index=True)

    # Tags: free text on rated films (a Zipf vocabulary of one- and two-word tags), at the rating's time.
    rows = rng.choice(len(ratings), size=min(n["tags"], len(ratings)), replace=False)
    tag_words = words[_zipf_choice(rng, len(words), len(rows), 1.1)]
    tags = pd.DataFrame(
        {
            "user_id": ratings["user_id"].to_numpy()[rows],
            "movie_id": ratings["movie_id"].to_numpy()[rows],
            "tag": tag_words,
            "timestamp": ratings["timestamp"].to_numpy()[rows],
        }
    )
    users = pd.DataFrame({"user_id": user_ids})
    return finish(movies, ratings, users, tags, dataset_name(scale))
