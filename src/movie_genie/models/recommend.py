"""`movie-genie recommend`: ask one trained model for a user's (or a given history's) top films, as a table."""

from __future__ import annotations

import pandas as pd

from movie_genie.config import Layout
from movie_genie.data.split import load_split
from movie_genie.data.tables import read_parquet
from movie_genie.errors import MovieGenieError
from movie_genie.models import reasons
from movie_genie.models.base import Query, Recommendation
from movie_genie.models.registry import load_model


class UnknownUserError(MovieGenieError):
    """A user id that is not in the data set."""


def user_history(layout: Layout, user_id: int) -> list[int]:
    """Every movie the user rated in the data set (train, validation and test rows), oldest first."""
    _, frames = load_split(layout)
    rows = pd.concat([frames[name] for name in ("train", "valid", "test")], ignore_index=True)
    rows = rows.loc[rows["user_id"] == user_id].sort_values("timestamp", kind="stable")
    if rows.empty:
        raise UnknownUserError(f"user {user_id} has no ratings in this data set; pass --history 1,2,3 instead")
    return [int(m) for m in rows["movie_id"]]


def format_table(recommendations: list[Recommendation], movies: pd.DataFrame) -> str:
    """A fixed-width ranked table: rank, movie id, title (year), genres, score, reason."""
    by_id = movies.set_index("movie_id")
    lines = [f"{'#':>3}  {'movie':>6}  {'title':<44} {'score':>9}  reason"]
    for rank, rec in enumerate(recommendations, start=1):
        title = "?"
        if rec.movie_id in by_id.index:
            row = by_id.loc[rec.movie_id]
            year = row.get("year")
            title = f"{row['title']}" + (f" ({int(year)})" if year is not None and not pd.isna(year) else "")
        if len(title) > 44:
            title = title[:43] + "…"
        reason = "" if rec.reason is None else reasons.words(rec.reason, lambda m: str(by_id.loc[m, "title"]))
        lines.append(f"{rank:>3}  {rec.movie_id:>6}  {title:<44} {rec.score:>9.4f}  {reason}")
    return "\n".join(lines)


def recommend_table(
    layout: Layout, model_name: str, k: int, user_id: int | None = None, history: list[int] | None = None
) -> str:
    """Recommendations of `model_name` for a known user or an explicit history, rendered as a table."""
    model = load_model(layout.models_dir, model_name)
    if user_id is not None:
        history = user_history(layout, user_id)
        header = f"{model_name}: top {k} for user {user_id} ({len(history)} rated films)"
    else:
        history = list(history or [])
        header = f"{model_name}: top {k} for a history of {len(history)} film(s)"
    movies = read_parquet(layout.processed_dir / "movies.parquet")
    unknown = [m for m in history if m not in set(movies["movie_id"])]
    recommendations = model.recommend(Query(history), k=k)
    note = f"\n(ignored {len(unknown)} unknown movie id(s): {unknown[:5]})" if unknown else ""
    return f"{header}{note}\n{format_table(recommendations, movies)}"
