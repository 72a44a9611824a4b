"""SQLAlchemy 2 declarative models: the catalogue, users, the data set's ratings and live feedback.

The data set's tables (movies, movielens users, ratings) are owned by `db load` and replaced from the processed
Parquet files; app users and feedback events are owned by the app and survive every reload. Changes to this file
need a migration: `alembic revision --autogenerate` against `movie_genie/db/migrations` (see db/migrate.py), and
tests/db checks that the migration head matches these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names so migrations can address them (and SQLite batch mode can recreate them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# What a user can do with a film in the app (feedback_events.kind); the API's `kind` values are these.
FeedbackKind = Literal["rating", "like", "dislike", "watched", "dismiss"]
FEEDBACK_KINDS: tuple[str, ...] = get_args(FeedbackKind)
# Where a user's rating of a film comes from: the data set's ratings table or an app feedback event.
RatingSource = Literal["dataset", "app"]
# The INTEGER id columns (32-bit on PostgreSQL): ids outside cannot exist, and the API refuses larger ones.
MIN_ID, MAX_ID = -(2**31), 2**31 - 1
# Profiles made in the app get a random id from here (about 1.1 billion values, above every data set's user ids),
# so one profile's id says nothing about another's: ids cannot be listed by counting.
APP_USER_IDS = range(10**9, MAX_ID + 1)
USER_SOURCES = ("movielens", "app")
MIN_RATING = 0.5
MAX_RATING = 5.0
TOP_GENRES = 3  # genres shown per user (stored by `db load`, computed live after app feedback)

# JSON lists (genres, cast, ...): JSONB on PostgreSQL (compact, indexable), JSON text elsewhere.
JsonList = JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (stored as such on PostgreSQL, as naive UTC on SQLite)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention above."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Movie(Base):
    """A film of the catalogue: the canonical columns, optional metadata and its data set rating aggregates."""

    __tablename__ = "movies"

    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(500))
    year: Mapped[int | None] = mapped_column(Integer)
    genres: Mapped[list[str]] = mapped_column(JsonList, default=list)
    overview: Mapped[str | None] = mapped_column(Text)
    tagline: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str] | None] = mapped_column(JsonList)
    cast: Mapped[list[str] | None] = mapped_column(JsonList)
    directors: Mapped[list[str] | None] = mapped_column(JsonList)
    runtime: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    poster_path: Mapped[str | None] = mapped_column(String(500))
    imdb_id: Mapped[str | None] = mapped_column(String(32))
    tmdb_id: Mapped[int | None] = mapped_column(Integer)
    # The data set's most frequent user tags, most frequent first (params database.movie_tags of them), from `db
    # load`; NULL until a load after migration 0003, empty where the data set has no tags (ml-100k, ml-1m).
    tags: Mapped[list[str] | None] = mapped_column(JsonList)
    # Aggregates of the data set's ratings, recomputed by `db load`: the sort keys of browsing (indexed, so paging
    # by popularity or rating never aggregates the ratings table). Live figures with feedback: movies.movie_stats.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_mean: Mapped[float | None] = mapped_column(Float)
    # Damped mean (global mean weighted by params database.rating_prior_weight): the key of "sort by rating".
    rating_score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        Index("ix_movies_popularity", "rating_count", "movie_id"),
        Index("ix_movies_rating_score", "rating_score", "movie_id"),
        Index("ix_movies_year", "year", "movie_id"),
        Index("ix_movies_title", "title"),
    )


class MovieGenre(Base):
    """One (movie, genre) pair: genre filters and per-genre counts without dialect-specific JSON functions."""

    __tablename__ = "movie_genres"

    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.movie_id", ondelete="CASCADE"), primary_key=True)
    genre: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_movie_genres_genre_movie_id", "genre", "movie_id"),)


class User(Base):
    """A MovieLens user (with demographics where the data set has them) or a user created in the app."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(100))
    age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(16))
    occupation: Mapped[str | None] = mapped_column(String(64))
    zip_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The data set's ratings of this user, summarised by `db load` (NULL for app users and before the first load):
    # the user list shows them without aggregating ratings; users with app feedback get live figures instead.
    rating_count: Mapped[int | None] = mapped_column(Integer)
    top_genres: Mapped[list[str] | None] = mapped_column(JsonList)
    # What is distinctive in the user's taste (db/taste.py: genres and tags by lift over the population, as
    # {kind, name, count, lift} objects), the same names as '|a|b|' text for the user search, their highest-rated
    # films and when they rated first and last; from `db load`, NULL for app users and before a load after 0005.
    taste: Mapped[list[dict[str, object]] | None] = mapped_column(JsonList)
    taste_terms: Mapped[str | None] = mapped_column(Text)
    favourite_movie_ids: Mapped[list[int] | None] = mapped_column(JsonList)
    first_rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # SHA-256 (hex) of the bearer secret an app profile's owner was given once at creation (api/ownership.py);
    # NULL for MovieLens users (demo profiles) and app users created before profiles had secrets.
    secret_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("source IN ('movielens', 'app')", name="source_known"),
        Index("ix_users_source", "source"),
        # Signing in with a profile key finds the profile by the key's hash (POST /api/sign-in).
        Index("ix_users_secret_hash", "secret_hash"),
    )


class Rating(Base):
    """A rating of the data set. `seq` is its position in the user's history (time order, ties in file order)."""

    __tablename__ = "ratings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True)
    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.movie_id", ondelete="CASCADE"), primary_key=True)
    rating: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(f"rating >= {MIN_RATING} AND rating <= {MAX_RATING}", name="rating_range"),
        # The user's history in order; also covers "ratings of user X".
        UniqueConstraint("user_id", "seq"),
        # Per-movie aggregates read only the index (movie_id, rating).
        Index("ix_ratings_movie_id_rating", "movie_id", "rating"),
    )


class FeedbackEvent(Base):
    """A mark a user set in the app: a rating (value 0.5..5), a like, a dislike, 'watched' or 'dismiss' ("not
    interested"; value NULL). At most one per (user, movie, kind): the same action twice is one event, a changed
    rating replaces the old one, and taking a mark back deletes it (feedback.add_feedback / remove_feedback)."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id", ondelete="CASCADE"))
    movie_id: Mapped[int] = mapped_column(ForeignKey("movies.movie_id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in FEEDBACK_KINDS)})", name="kind_known"),
        CheckConstraint(
            f"(kind = 'rating' AND value >= {MIN_RATING} AND value <= {MAX_RATING}) "
            "OR (kind <> 'rating' AND value IS NULL)",
            name="value_matches_kind",
        ),
        UniqueConstraint("user_id", "movie_id", "kind"),
        # A user's events in order (history, feedback list); the id breaks ties of equal timestamps.
        Index("ix_feedback_events_user_id_id", "user_id", "id"),
        # Live per-movie rating stats.
        Index("ix_feedback_events_movie_id_kind", "movie_id", "kind"),
        # Ids are never reused (SQLite would reuse a deleted maximum): the feedback version (newest id, count)
        # must change with every write, deletions included.
        {"sqlite_autoincrement": True},
    )


# What a person can do with a film they were shown (impression_events.kind): open it (a click on a card) or mark it.
IMPRESSION_EVENT_KINDS: tuple[str, ...] = ("click", *FEEDBACK_KINDS)


class Impression(Base):
    """A list the API served to a user (online evaluation, online/experiments.py): which surface, model and model
    version, the experiment variant when one assigned it, and the films in the order shown (`movie_ids`; `teams`
    names the ranker that contributed each film of an interleaved list, NULL otherwise). The id is made by the
    server when it answers (a UUID, hex), so the answer carries it before the batched write (online/impressions.py)
    has stored the row. The films are a JSON list, not a row each: a list of 20 is one row to write, and every
    question asked of it (was film X in impression Y, at which position) starts from the impression."""

    __tablename__ = "impressions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id", ondelete="CASCADE"))
    surface: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    experiment: Mapped[str | None] = mapped_column(String(100))
    variant: Mapped[str | None] = mapped_column(String(64))
    movie_ids: Mapped[list[int]] = mapped_column(JsonList)
    teams: Mapped[list[str] | None] = mapped_column(JsonList)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        # Attribution without an impression id: the user's recent impressions, newest first.
        Index("ix_impressions_user_id_created_at", "user_id", "created_at"),
        # The online report reads one experiment's impressions.
        Index("ix_impressions_experiment_variant", "experiment", "variant"),
    )


class ImpressionEvent(Base):
    """Something the user did with a film an impression showed them: a click (opened it) or a mark (rating, like,
    dislike, watched, dismiss), attributed to that impression, with the film's position (1 = first) and, in an
    interleaved list, the team that contributed it."""

    __tablename__ = "impression_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    impression_id: Mapped[str] = mapped_column(ForeignKey("impressions.id", ondelete="CASCADE"))
    movie_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in IMPRESSION_EVENT_KINDS)})", name="kind_known"),
        Index("ix_impression_events_impression_id", "impression_id"),
    )


class RetiredUserId(Base):
    """The id of a deleted app profile: never given to another profile (a browser that still remembers it must find
    it gone, not someone else's profile)."""

    __tablename__ = "retired_user_ids"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class LoadState(Base):
    """What `db load` last loaded (data set name, fingerprints): lets a reload skip unchanged tables."""

    __tablename__ = "load_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class IdempotencyKey(Base):
    """A client's Idempotency-Key for one write endpoint (`scope`): the request's fingerprint and, once the write
    is done, the answer it got, so a retry of the same request gets the same answer and writes nothing again.
    `status` is NULL while the first request is still running; the row is dropped after `expires_at`."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)
