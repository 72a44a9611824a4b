"""What the user list and a profile show of a user: their number of ratings, top genres and taste profile
(distinctive genres and tags, favourite films, first and last activity).

`db load` stores these figures for the data set's users (db/aggregates.py, vectorised); for users with app
feedback they are computed live here from their ratings and marks, with the same functions of db/taste.py, and a
write refreshes the user's `taste_terms` (what the user search matches) in the same transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Subquery, exists, func, select, union_all
from sqlalchemy.orm import Session

from movie_genie.data.liking import LIKED_MIN_RATING
from movie_genie.db import taste
from movie_genie.db.models import TOP_GENRES, FeedbackEvent, LoadState, Movie, MovieGenre, Rating
from movie_genie.db.queries import aware, chunks, require_user
from movie_genie.db.taste import Trait


@dataclass(frozen=True, slots=True)
class TasteProfile:
    """What describes a user to people: distinctive genres and tags (db/taste.py), their highest-rated films
    (movie ids, best first) and when they rated first and last."""

    taste: list[Trait] = dataclasses.field(default_factory=list)
    favourite_ids: list[int] = dataclasses.field(default_factory=list)
    first_rated_at: datetime | None = None
    last_rated_at: datetime | None = None


def taste_of(session: Session, user_id: int) -> list[Trait]:
    """The user's distinctive genres and tags, as their profile shows them; UserNotFoundError if absent."""
    user = require_user(session, user_id)
    return taste_profiles(session, [user])[user.user_id].taste


def taste_profiles(session: Session, users: Sequence[Any]) -> dict[int, TasteProfile]:
    """Taste, favourites and activity per user row: stored by `db load` for users without app feedback, computed
    live (db/taste.py, on the population stored by the load) for the others."""
    ids = [u.user_id for u in users]
    with_feedback = set(
        session.execute(select(FeedbackEvent.user_id).where(FeedbackEvent.user_id.in_(ids)).distinct()).scalars()
    )
    found = {
        u.user_id: TasteProfile(
            [Trait.from_json(t) for t in u.taste],
            [int(m) for m in u.favourite_movie_ids or []],
            aware(u.first_rated_at) if u.first_rated_at else None,
            aware(u.last_rated_at) if u.last_rated_at else None,
        )
        for u in users
        if u.user_id not in with_feedback and u.taste is not None
    }
    live = [i for i in ids if i not in found]
    if live:
        found.update(live_taste_profiles(session, live))
    return found


def live_taste_profiles(session: Session, user_ids: list[int]) -> dict[int, TasteProfile]:
    """TasteProfile from the users' ratings and app marks: the latest app rating replaces the data set's, likes
    count as liked films, a dislike or "not interested" takes a film out of what describes them."""
    ratings: dict[int, dict[int, float]] = defaultdict(dict)
    liked: dict[int, dict[int, None]] = defaultdict(dict)
    moments: dict[int, list[datetime]] = defaultdict(list)
    for chunk in chunks(user_ids):
        for u, m, r, ts in session.execute(
            select(Rating.user_id, Rating.movie_id, Rating.rating, Rating.timestamp).where(Rating.user_id.in_(chunk))
        ):
            ratings[u][m] = float(r)
            moments[u].append(datetime.fromtimestamp(ts, tz=UTC))
        events = session.execute(
            select(FeedbackEvent.user_id, FeedbackEvent.movie_id, FeedbackEvent.kind, FeedbackEvent.value)
            .add_columns(FeedbackEvent.created_at)
            .where(FeedbackEvent.user_id.in_(chunk))
            .order_by(FeedbackEvent.id)
        )
        for u, m, kind, value, at in events:
            moments[u].append(aware(at))
            if kind == "rating" and value is not None:
                ratings[u][m] = float(value)
            elif kind == "like":
                liked[u][m] = None
            elif kind in ("dislike", "dismiss"):
                liked[u].pop(m, None)
                if ratings[u].get(m, 0.0) >= LIKED_MIN_RATING:
                    ratings[u].pop(m)
    bases = {u: taste.basis(ratings[u], liked[u]) for u in user_ids}
    wanted = sorted({m for u in user_ids for m in [*bases[u], *ratings[u]]})
    labels: dict[int, tuple[list[str], list[str], int]] = {}
    for chunk in chunks(wanted):
        for m, genres, tags, count in session.execute(
            select(Movie.movie_id, Movie.genres, Movie.tags, Movie.rating_count).where(Movie.movie_id.in_(chunk))
        ):
            labels[int(m)] = (list(genres or []), list(tags or []), int(count or 0))
    stored = session.execute(select(LoadState.value).where(LoadState.key == taste.POPULATION_KEY)).scalar()
    pop = taste.Population.from_json(json.loads(stored)) if stored else taste.Population({}, {})
    found: dict[int, TasteProfile] = {}
    for u in user_ids:
        genre_counts: dict[str, int] = defaultdict(int)
        tag_counts: dict[str, int] = defaultdict(int)
        for m in bases[u]:
            genres, tags, _ = labels.get(m, ([], [], 0))
            for g in set(genres):
                genre_counts[g] += 1
            for t in set(tags):
                tag_counts[t] += 1
        popularity = {m: labels.get(m, ([], [], 0))[2] for m in ratings[u]}
        # The best-rated liked films, then (when fewer) the films marked liked, latest first.
        rated = taste.favourites(ratings[u], popularity)
        favourites = [*rated, *(m for m in reversed(liked[u]) if m not in rated)][: taste.FAVOURITES]
        found[u] = TasteProfile(
            taste.distinctive(len(bases[u]), genre_counts, tag_counts, pop),
            favourites,
            min(moments[u]) if moments[u] else None,
            max(moments[u]) if moments[u] else None,
        )
    return found


def refresh_taste_terms(session: Session, user_id: int) -> None:
    """Recompute the user's `taste_terms` (what the user search and taste neighbours match) from their history as
    this transaction leaves it, so a like or rating is reflected there at the same commit as the event itself."""
    session.flush()  # the new event (or the deletion) must be visible to the queries below
    profile = live_taste_profiles(session, [user_id])[user_id]
    require_user(session, user_id).taste_terms = taste.terms(profile.taste)


def user_stats(session: Session, users: Sequence[Any]) -> dict[int, tuple[int, list[str]]]:
    """(number of ratings, top genres) per user row: stored by `db load` for users without app feedback, computed
    live (two grouped queries for the whole page) for the others and wherever nothing is stored yet."""
    ids = [u.user_id for u in users]
    with_feedback = set(
        session.execute(select(FeedbackEvent.user_id).where(FeedbackEvent.user_id.in_(ids)).distinct()).scalars()
    )
    stats = {
        u.user_id: (int(u.rating_count), list(u.top_genres))
        for u in users
        if u.user_id not in with_feedback and u.rating_count is not None and u.top_genres is not None
    }
    live = [i for i in ids if i not in stats]
    counts, genres = rating_counts(session, live), top_genres(session, live)
    stats.update({i: (counts.get(i, 0), genres.get(i, [])) for i in live})
    return stats


def rating_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    """Number of distinct movies each user rated (data set ratings plus app ratings of other movies)."""
    if not user_ids:
        return {}
    rated = interactions(user_ids, ratings_only=True)
    rows = session.execute(select(rated.c.user_id, func.count()).group_by(rated.c.user_id))
    return {int(u): int(n) for u, n in rows}


def top_genres(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """The TOP_GENRES most frequent genres among each user's interactions (ties by name), one grouped query."""
    if not user_ids:
        return {}
    pairs = interactions(user_ids)
    n = func.count().label("n")
    result = session.execute(
        select(pairs.c.user_id, MovieGenre.genre, n)
        .join(MovieGenre, MovieGenre.movie_id == pairs.c.movie_id)
        .group_by(pairs.c.user_id, MovieGenre.genre)
    )
    # Ties by code point in Python: SQL collations differ (PostgreSQL's locale order is not SQLite's nor pandas').
    rows = sorted(result, key=lambda r: (r[0], -r[2], r[1]))
    top: dict[int, list[str]] = defaultdict(list)
    for user_id, genre, _ in rows:
        if len(top[user_id]) < TOP_GENRES:
            top[user_id].append(genre)
    return dict(top)


def interactions(user_ids: list[int], *, ratings_only: bool = False) -> Subquery:
    """Distinct (user_id, movie_id) pairs: the users' data set ratings plus their app feedback on other movies
    (ratings only, or every kind but dislikes and dismissals). UNION ALL with NOT EXISTS: no sort to deduplicate
    the big side."""
    kind = FeedbackEvent.kind == "rating" if ratings_only else FeedbackEvent.kind.not_in(("dislike", "dismiss"))
    app = (
        select(FeedbackEvent.user_id, FeedbackEvent.movie_id)
        .where(
            FeedbackEvent.user_id.in_(user_ids),
            kind,
            ~exists().where(Rating.user_id == FeedbackEvent.user_id, Rating.movie_id == FeedbackEvent.movie_id),
        )
        .distinct()
    )
    return union_all(select(Rating.user_id, Rating.movie_id).where(Rating.user_id.in_(user_ids)), app).subquery()
