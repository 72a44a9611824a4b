"""Users as the user list and a profile page show them: the list (paged, searched), a profile with its counts and
recent history, the films a user rated, people of similar taste, and signing up a new app user.

A user's figures (number of ratings, top genres, taste) are db/user_stats.py's; the word search of the list is
db/user_search.py's; signing in, exporting and deleting a profile are db/profiles.py's.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movie_genie.db import user_search
from movie_genie.db.errors import DatabaseUnavailableError, InvalidInputError
from movie_genie.db.models import FeedbackEvent, Movie, Rating, RatingSource, User, utcnow
from movie_genie.db.profiles import new_user_id
from movie_genie.db.queries import (
    Page,
    aware,
    check_paging,
    chunks,
    commit,
    escape_like,
    require_movies,
    require_user,
    storable,
)
from movie_genie.db.user_stats import TasteProfile, refresh_taste_terms, taste_profiles, user_stats

MAX_RECENT = 200
MAX_LIKED_MOVIES = 200
MAX_DISPLAY_NAME = 100
_SIGN_UP_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A row of the user list."""

    user_id: int
    source: str
    display_name: str
    rating_count: int
    top_genres: list[str]
    profile: TasteProfile = dataclasses.field(default_factory=TasteProfile)


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One thing a user did: a data set rating (source 'dataset') or an app feedback event (source 'app')."""

    movie_id: int
    title: str
    kind: str
    value: float | None
    at: datetime
    source: RatingSource


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDetail(UserSummary):
    """A user's profile (the list's row and more): demographics, counts by kind and most recent activity (newest
    first)."""

    age: int | None
    gender: str | None
    occupation: str | None
    zip_code: str | None
    created_at: datetime
    like_count: int
    dislike_count: int
    watched_count: int
    recent: list[HistoryItem]


_USER_COLUMNS = (
    User.user_id,
    User.source,
    User.display_name,
    User.rating_count,
    User.top_genres,
    User.taste,
    User.favourite_movie_ids,
    User.first_rated_at,
    User.last_rated_at,
)


def list_users(session: Session, page: int = 1, per_page: int = 20, query: str | None = None) -> Page[UserSummary]:
    """Users matching `query`, with per-user stats and taste. A number matches that user id exactly (and the names
    people gave app users), never every id containing its digits; the exact id comes first. Words match names,
    occupations, distinctive genres/tags and favourite films' titles, best match first (db/user_search.py: more
    words matched, then a name match, then the most distinctive taste term, then id)."""
    check_paging(page, per_page)
    stmt = select(*_USER_COLUMNS)
    order: list[Any] = [User.user_id]
    if query is not None and query.strip():
        search = user_search.search(session.get_bind().dialect.name, query)
        stmt = stmt.where(search.where)
        order = search.order
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    return Page(_summaries(session, rows), int(total), page, per_page)


def users_by_id(session: Session, user_ids: Sequence[int]) -> dict[int, UserSummary]:
    """The users of these ids (unknown ids left out) with stats and taste, as the user list shows them."""
    rows = [
        row
        for chunk in chunks(storable(user_ids))
        for row in session.execute(select(*_USER_COLUMNS).where(User.user_id.in_(chunk)))
    ]
    return {user.user_id: user for user in _summaries(session, rows)}


def _summaries(session: Session, rows: Sequence[Any]) -> list[UserSummary]:
    """The list's rows of these users rows (_USER_COLUMNS), with their stats and taste."""
    stats, profiles = user_stats(session, rows), taste_profiles(session, rows)
    return [UserSummary(r.user_id, r.source, r.display_name, *stats[r.user_id], profiles[r.user_id]) for r in rows]


def get_user(session: Session, user_id: int, recent: int = 20) -> UserDetail:
    """A user's profile, counts by kind, top genres and `recent` latest history items; UserNotFoundError if absent."""
    if not 0 <= recent <= MAX_RECENT:
        raise InvalidInputError(f"recent must be 0..{MAX_RECENT}, got {recent}")
    user = require_user(session, user_id)
    summary = _summaries(session, [user])[0]  # the user list's row: stats and taste
    kinds = dict(
        session.execute(
            select(FeedbackEvent.kind, func.count())
            .where(FeedbackEvent.user_id == user.user_id)
            .group_by(FeedbackEvent.kind)
        ).all()
    )
    return UserDetail(
        **{field.name: getattr(summary, field.name) for field in dataclasses.fields(UserSummary)},
        age=user.age,
        gender=user.gender,
        occupation=user.occupation,
        zip_code=user.zip_code,
        created_at=aware(user.created_at),
        like_count=int(kinds.get("like", 0)),
        dislike_count=int(kinds.get("dislike", 0)),
        watched_count=int(kinds.get("watched", 0)),
        recent=_recent(session, user.user_id, recent),
    )


def create_user(
    session: Session, display_name: str, liked_movie_ids: Sequence[int] = (), *, secret_hash: str | None = None
) -> UserDetail:
    """Create an app user (a random id, db/profiles.py new_user_id) with their liked movies stored as 'like'
    feedback; commit.
    `secret_hash` is the hash of the owner's bearer secret (the secret itself is never stored)."""
    name = " ".join(str(display_name).split())
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidInputError(f"display_name must have 1 to {MAX_DISPLAY_NAME} characters, got {len(name)}")
    liked = list(dict.fromkeys(int(m) for m in liked_movie_ids))
    if len(liked) > MAX_LIKED_MOVIES:
        raise InvalidInputError(f"at most {MAX_LIKED_MOVIES} liked movies, got {len(liked)}")
    require_movies(session, liked)
    for attempt in range(_SIGN_UP_ATTEMPTS):
        # Random, unused and never used. Another worker may take the same id between our read and our insert: then
        # the primary key refuses ours and we draw another.
        user_id = new_user_id(session)
        try:
            now = utcnow()
            session.add(User(user_id=user_id, source="app", display_name=name, created_at=now, secret_hash=secret_hash))
            session.flush()
            session.add_all(
                FeedbackEvent(user_id=user_id, movie_id=m, kind="like", value=None, created_at=now) for m in liked
            )
            if liked:
                refresh_taste_terms(session, user_id)
            commit(session)
        except IntegrityError:
            session.rollback()
            if session.get(User, user_id) is None:
                raise  # not a lost race for the id: a real constraint violation
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # de-synchronise the contenders
            continue
        except BaseException:
            session.rollback()
            raise
        return get_user(session, user_id)
    raise DatabaseUnavailableError(
        f"could not allocate a new user id after {_SIGN_UP_ATTEMPTS} attempts (heavy concurrent sign-ups); try again"
    )


def user_ratings(session: Session, user_id: int, page: int = 1, per_page: int = 20) -> Page[HistoryItem]:
    """Every film the user rated with their rating, newest first, paged: app ratings (always newer) first, then the
    data set's ratings of the other films (an app rating replaces the data set's). UserNotFoundError if absent."""
    check_paging(page, per_page)
    require_user(session, user_id)
    app_filter = (FeedbackEvent.user_id == user_id, FeedbackEvent.kind == "rating")
    n_app = session.execute(select(func.count()).select_from(FeedbackEvent).where(*app_filter)).scalar_one()
    overridden = exists().where(
        FeedbackEvent.user_id == Rating.user_id,
        FeedbackEvent.movie_id == Rating.movie_id,
        FeedbackEvent.kind == "rating",
    )
    data_filter = (Rating.user_id == user_id, ~overridden)
    n_data = session.execute(select(func.count()).select_from(Rating).where(*data_filter)).scalar_one()
    offset = (page - 1) * per_page
    items: list[HistoryItem] = []
    if offset < n_app:
        events = session.execute(
            select(FeedbackEvent.movie_id, Movie.title, FeedbackEvent.value, FeedbackEvent.created_at)
            .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
            .where(*app_filter)
            .order_by(FeedbackEvent.id.desc())
            .offset(offset)
            .limit(per_page)
        )
        items = [HistoryItem(m, t, "rating", float(v or 0.0), aware(at), "app") for m, t, v, at in events]
    if len(items) < per_page:
        ratings = session.execute(
            select(Rating.movie_id, Movie.title, Rating.rating, Rating.timestamp)
            .join(Movie, Movie.movie_id == Rating.movie_id)
            .where(*data_filter)
            .order_by(Rating.seq.desc())
            .offset(max(0, offset - n_app))
            .limit(per_page - len(items))
        )
        items.extend(
            HistoryItem(m, t, "rating", float(v), datetime.fromtimestamp(ts, tz=UTC), "dataset")
            for m, t, v, ts in ratings
        )
    return Page(items, int(n_app) + int(n_data), page, per_page)


def taste_neighbours(session: Session, user_id: int, k: int = 10) -> list[tuple[int, float]]:
    """Users who share the most of this user's distinctive genres and tags (Jaccard of the trait names), best
    first, without the user; the fallback of "people with similar taste" when no model can answer."""
    profile = taste_profiles(session, [require_user(session, user_id)])[user_id]
    names = {t.name.lower() for t in profile.taste}
    if not names:
        return []
    conditions = [User.taste_terms.like("%|" + escape_like(n) + "|%", escape="\\") for n in names]
    rows = session.execute(
        select(User.user_id, User.taste_terms).where(User.user_id != user_id, or_(*conditions)).limit(5000)
    )
    scored = []
    for other, terms in rows:
        theirs = {t for t in (terms or "").split("|") if t}
        scored.append((int(other), len(names & theirs) / len(names | theirs)))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:k]


def _recent(session: Session, user_id: int, limit: int) -> list[HistoryItem]:
    """The latest `limit` history items, newest first: app events (always newer) before data set ratings."""
    if limit <= 0:
        return []
    events = session.execute(
        select(FeedbackEvent.movie_id, Movie.title, FeedbackEvent.kind, FeedbackEvent.value, FeedbackEvent.created_at)
        .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id.desc())
        .limit(limit)
    )
    items = [HistoryItem(m, t, k, v, aware(at), "app") for m, t, k, v, at in events]
    if len(items) < limit:
        ratings = session.execute(
            select(Rating.movie_id, Movie.title, literal("rating"), Rating.rating, Rating.timestamp)
            .join(Movie, Movie.movie_id == Rating.movie_id)
            .where(Rating.user_id == user_id)
            .order_by(Rating.seq.desc())
            .limit(limit - len(items))
        )
        items.extend(
            HistoryItem(m, t, "rating", float(v), datetime.fromtimestamp(ts, tz=UTC), "dataset")
            for m, t, _, v, ts in ratings
        )
    return items
