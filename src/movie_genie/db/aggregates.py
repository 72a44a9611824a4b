"""`db load`'s figures over the whole data set at once (pandas, vectorised): each movie's rating count, mean and
damped score (the browse sort keys), and each user's number of ratings, top genres, distinctive taste (db/taste.py),
favourite films and first/last rating time.

db/user_stats.py computes the same user figures live, with the same db/taste.py functions, for users who gave
feedback in the app; tests/db checks that both agree.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from movie_genie.data.liking import disliked_mask, liked_mask
from movie_genie.db import taste
from movie_genie.db.models import TOP_GENRES


def with_rating_aggregates(movies: pd.DataFrame, ratings: pd.DataFrame, prior_weight: float) -> pd.DataFrame:
    """Add rating_count, rating_mean and the damped mean rating_score (the browse sort keys)."""
    grouped = ratings.groupby("movie_id")["rating"].agg(["count", "sum"])
    counts = movies["movie_id"].map(grouped["count"]).fillna(0).astype("int64")
    sums = movies["movie_id"].map(grouped["sum"]).fillna(0.0).astype("float64")
    global_mean = float(ratings["rating"].mean()) if len(ratings) else 0.0
    out = movies.copy()
    out["rating_count"] = counts
    # Rounded so the values are identical on every backend and every reload (float sums differ in the last bit).
    out["rating_mean"] = (sums / counts.where(counts > 0)).round(6)
    out["rating_score"] = ((sums + prior_weight * global_mean) / (counts + prior_weight)).where(counts > 0).round(6)
    return out


def with_user_aggregates(
    users: pd.DataFrame, movies: pd.DataFrame, ratings: pd.DataFrame, shared_tags: set[str] | None = None
) -> tuple[pd.DataFrame, taste.Population]:
    """Add each user's number of ratings, their TOP_GENRES most rated genres (ties by name), their distinctive
    taste (db/taste.py), favourite films and first/last rating time, as db/user_stats.py computes them live for
    users with app feedback; also return the population's shares the taste is measured against."""
    genres = movies[["movie_id", "genres"]].explode("genres").dropna().drop_duplicates()
    pairs = ratings[["user_id", "movie_id"]].merge(genres, on="movie_id")
    counts = pairs.groupby(["user_id", "genres"]).size().reset_index(name="n")
    counts = counts.sort_values(["user_id", "n", "genres"], ascending=[True, False, True], kind="stable")
    top = counts.groupby("user_id").head(TOP_GENRES).groupby("user_id")["genres"].agg(list)
    out = users.copy()
    out["rating_count"] = out["user_id"].map(ratings.groupby("user_id").size()).fillna(0).astype("int64")
    out["top_genres"] = [list(top.get(u, [])) for u in out["user_id"]]
    traits, pop = _distinctive_traits(movies, ratings, shared_tags or set())
    out["taste"] = pd.Series([traits.get(int(u), []) for u in out["user_id"]], index=out.index, dtype=object)
    favourites = _favourites(movies, ratings)
    out["favourite_movie_ids"] = [favourites.get(int(u), []) for u in out["user_id"]]
    span = ratings.groupby("user_id")["timestamp"].agg(["min", "max"])
    out["first_rated_at"] = [_moment(span["min"].get(u)) for u in out["user_id"]]
    out["last_rated_at"] = [_moment(span["max"].get(u)) for u in out["user_id"]]
    return out, pop


def _moment(timestamp: Any) -> datetime | None:
    """A Unix timestamp as an aware UTC datetime (None for a user without ratings)."""
    if timestamp is None or (isinstance(timestamp, float) and math.isnan(timestamp)):
        return None
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def _distinctive_traits(
    movies: pd.DataFrame, ratings: pd.DataFrame, shared_tags: set[str]
) -> tuple[dict[int, list[taste.Trait]], taste.Population]:
    """Every user's distinctive genres and tags (taste.distinctive), and the population's shares.

    The basis of each user (taste.basis) in one vectorised pass: their films rated LIKED_MIN_RATING or more, or all
    their films but their dislikes when fewer than MIN_LIKED qualify. Counting is vectorised; ranking calls the
    shared function. Only `shared_tags` enter the population, so the live computation (which ranks only what the
    population has) skips the others too.
    """
    liked = pd.Series(liked_mask(ratings["rating"]), index=ratings.index)
    n_liked = liked.groupby(ratings["user_id"]).transform("sum")
    fallback = (n_liked < taste.MIN_LIKED) & ~disliked_mask(ratings["rating"])
    chosen = ratings.loc[liked | fallback, ["user_id", "movie_id"]]
    n_films = chosen.groupby("user_id").size()
    film_users = chosen.groupby("movie_id").size()
    labels = {
        "genres": movies[["movie_id", "genres"]].explode("genres").dropna().drop_duplicates(),
        "tags": movies[["movie_id", "tags"]].explode("tags").dropna().drop_duplicates()
        if "tags" in movies.columns
        else pd.DataFrame({"movie_id": [], "tags": []}),
    }
    labels["tags"] = labels["tags"][labels["tags"]["tags"].isin(shared_tags)]
    genre_of = labels["genres"].groupby("movie_id")["genres"].agg(list)
    tag_of = labels["tags"].groupby("movie_id")["tags"].agg(list)
    pop = taste.population((int(n), list(genre_of.get(m, [])), list(tag_of.get(m, []))) for m, n in film_users.items())
    per_user: dict[str, dict[int, dict[str, int]]] = {}
    for column, frame in labels.items():
        grouped = chosen.merge(frame, on="movie_id").groupby(["user_id", column]).size()
        found: dict[int, dict[str, int]] = {}
        for user_id, label, n in zip(
            grouped.index.get_level_values(0).tolist(),
            grouped.index.get_level_values(1).tolist(),
            grouped.tolist(),
            strict=True,
        ):
            found.setdefault(int(user_id), {})[str(label)] = int(n)
        per_user[column] = found
    traits = {
        int(u): taste.distinctive(int(n), per_user["genres"].get(int(u), {}), per_user["tags"].get(int(u), {}), pop)
        for u, n in zip(n_films.index.tolist(), n_films.tolist(), strict=True)
    }
    return traits, pop


def _favourites(movies: pd.DataFrame, ratings: pd.DataFrame) -> dict[int, list[int]]:
    """Each user's taste.FAVOURITES highest-rated liked films, ties to the better-known film, then the lower id (as
    taste.favourites)."""
    frame = ratings.loc[liked_mask(ratings["rating"]), ["user_id", "movie_id", "rating"]].copy()
    frame["popularity"] = frame["movie_id"].map(movies.set_index("movie_id")["rating_count"]).fillna(0)
    frame = frame.sort_values(
        ["user_id", "rating", "popularity", "movie_id"], ascending=[True, False, False, True], kind="stable"
    )
    top = frame.groupby("user_id").head(taste.FAVOURITES).groupby("user_id")["movie_id"].agg(list)
    return {int(u): [int(m) for m in ms] for u, ms in zip(top.index.tolist(), top.tolist(), strict=True)}
