"""A user's marks of films: ratings, likes, dislikes, watched and "not interested" (feedback events), what they make
of the user's history for the recommenders, and the log `movie-genie retrain` folds into the training data.

One event per (user, movie, kind): the same mark twice is stored once, a new rating replaces the old one, and a like
deletes the user's dislike of the film (and vice versa). Every write refreshes the user's taste terms
(db/user_stats.py) in the same transaction and bumps their feedback version (what cached answers are keyed on).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movie_genie.data.liking import is_disliked_rating
from movie_genie.db.errors import InvalidFeedbackError, InvalidInputError
from movie_genie.db.models import (
    FEEDBACK_KINDS,
    MAX_RATING,
    MIN_RATING,
    FeedbackEvent,
    Movie,
    Rating,
    RatingSource,
    User,
    utcnow,
)
from movie_genie.db.queries import aware, commit, require_movies, require_user
from movie_genie.db.user_stats import refresh_taste_terms

# Marks that exclude each other: setting one deletes the other.
_OPPOSITE = {"like": "dislike", "dislike": "like"}


@dataclass(frozen=True, slots=True)
class UserHistory:
    """Input for recommenders: interacted movie ids oldest first (each once, at its latest interaction), and the
    movies whose latest signal is a dislike or a "not interested" (not interactions; exclude them)."""

    user_id: int
    movie_ids: list[int]
    disliked: list[int]
    dismissed: list[int] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Mark:
    """Everything one user did with one film: their rating (the latest app rating, else the data set's), and the
    like / dislike / watched / not-interested marks they set in the app."""

    movie_id: int
    rating: float | None = None
    rating_source: RatingSource | None = None
    liked: bool = False
    disliked: bool = False
    watched: bool = False
    dismissed: bool = False


@dataclass(frozen=True, slots=True)
class UserMarks:
    """A user's marks of every film they touched, oldest first (a film at its latest touch): their whole history,
    not a recent slice."""

    user_id: int
    marks: dict[int, Mark]


@dataclass(frozen=True, slots=True)
class Feedback:
    """A stored feedback event."""

    id: int
    user_id: int
    movie_id: int
    title: str
    kind: str
    value: float | None
    created_at: datetime
    created: bool = True  # False when the same mark was already stored (nothing was written)


@dataclass(frozen=True)
class FeedbackRow:
    """One stored app mark, as `movie-genie retrain` folds it into the training data."""

    user_id: int
    movie_id: int
    kind: str
    value: float | None
    created_at: datetime


def add_feedback(session: Session, user_id: int, movie_id: int, kind: str, value: float | None = None) -> Feedback:
    """Validate and store one mark, then commit; the typed errors say what was wrong.

    One event per (user, movie, kind): the same action twice returns the stored event (`created` False), a new
    rating value replaces the old event, and a like deletes the user's dislike of the film (and vice versa).
    """
    if kind not in FEEDBACK_KINDS:
        raise InvalidFeedbackError(f"unknown feedback kind {kind!r}: use one of {', '.join(FEEDBACK_KINDS)}")
    if kind == "rating":
        if value is None or isinstance(value, bool):
            raise InvalidFeedbackError(f"a rating needs a value from {MIN_RATING} to {MAX_RATING} in steps of 0.5")
        value = float(value)
        if not math.isfinite(value) or not MIN_RATING <= value <= MAX_RATING or (value * 2) != round(value * 2):
            raise InvalidFeedbackError(
                f"rating {value} is invalid: use a value from {MIN_RATING} to {MAX_RATING} in steps of 0.5"
            )
    elif value is not None:
        raise InvalidFeedbackError(f"'{kind}' feedback takes no value (only 'rating' does), got {value!r}")
    require_user(session, user_id)
    title = require_movies(session, [movie_id])[int(movie_id)]
    kinds = [kind, *([_OPPOSITE[kind]] if kind in _OPPOSITE else [])]
    mine = (FeedbackEvent.user_id == int(user_id), FeedbackEvent.movie_id == int(movie_id))
    existing = session.execute(select(FeedbackEvent).where(*mine, FeedbackEvent.kind.in_(kinds))).scalars().all()
    same = next((e for e in existing if e.kind == kind), None)
    if same is not None and len(existing) == 1 and (kind != "rating" or same.value == value):
        unchanged = _feedback(same, title, created=False)
        session.rollback()  # nothing changes: the feedback version stays, cached answers stay valid
        return unchanged
    event = FeedbackEvent(user_id=int(user_id), movie_id=int(movie_id), kind=kind, value=value, created_at=utcnow())
    try:
        # Deleted before the insert (the unique constraint); the new row gets a new id, which bumps the version.
        session.execute(delete(FeedbackEvent).where(FeedbackEvent.id.in_([e.id for e in existing])))
        session.add(event)
        refresh_taste_terms(session, int(user_id))
        commit(session)
    except IntegrityError:
        # The same click arrived twice at once and the other request stored it first: that one is the answer.
        session.rollback()
        stored = session.execute(select(FeedbackEvent).where(*mine, FeedbackEvent.kind == kind)).scalar_one_or_none()
        if stored is None or (kind == "rating" and stored.value != value):
            raise
        return _feedback(stored, title, created=False)
    except BaseException:
        session.rollback()
        raise
    return _feedback(event, title, created=True)


def remove_feedback(session: Session, user_id: int, movie_id: int, kind: str) -> int:
    """Take a mark back (un-like, un-watch, interested again, clear a rating): delete the user's event of that
    kind on that film, then commit; the number of events deleted (0 when there was none)."""
    if kind not in FEEDBACK_KINDS:
        raise InvalidFeedbackError(f"unknown feedback kind {kind!r}: use one of {', '.join(FEEDBACK_KINDS)}")
    require_user(session, user_id)
    require_movies(session, [movie_id])
    try:
        result = session.execute(
            delete(FeedbackEvent).where(
                FeedbackEvent.user_id == int(user_id),
                FeedbackEvent.movie_id == int(movie_id),
                FeedbackEvent.kind == kind,
            )
        )
        refresh_taste_terms(session, int(user_id))
        commit(session)
    except BaseException:
        session.rollback()
        raise
    return int(getattr(result, "rowcount", 0) or 0)


def _feedback(event: FeedbackEvent, title: str, *, created: bool) -> Feedback:
    return Feedback(
        event.id, event.user_id, event.movie_id, title, event.kind, event.value, aware(event.created_at), created
    )


def list_feedback(session: Session, user_id: int, limit: int = 100) -> list[Feedback]:
    """The user's feedback events, newest first (at most `limit`); UserNotFoundError if the user is unknown."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit must be 1..1000, got {limit}")
    require_user(session, user_id)
    rows = session.execute(
        select(FeedbackEvent, Movie.title)
        .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id.desc())
        .limit(limit)
    )
    return [Feedback(e.id, e.user_id, e.movie_id, title, e.kind, e.value, aware(e.created_at)) for e, title in rows]


# Built once; SQLAlchemy caches its compiled form.
_VERSION_QUERY = select(
    func.max(FeedbackEvent.__table__.c.id),
    func.count(),
    select(func.count())
    .select_from(User.__table__)
    .where(User.__table__.c.user_id == bindparam("user_id"))
    .scalar_subquery(),
).where(FeedbackEvent.__table__.c.user_id == bindparam("user_id"))
# The version of a user who does not exist (never made, or deleted): no answer is ever cached under it.
NO_USER_VERSION = "none"


def feedback_version(connection: Connection, user_id: int) -> str:
    """The id of the user's newest feedback event and their number of events ("0.0" when none): changes with
    every write, a mark taken back (deleted) included, because ids are never reused. A user who does not exist has
    NO_USER_VERSION, so a deleted profile's cached answers (even those cached when it had no events) are never
    served again: its requests miss the cache and answer 404.

    One index range scan (feedback_events(user_id, id)) and one primary key look-up on a plain connection: the API
    runs this on every cached request, so it skips the ORM session.
    """
    newest, count, exists_ = connection.execute(_VERSION_QUERY, {"user_id": user_id}).one()
    if not exists_:
        return NO_USER_VERSION
    return f"{int(newest or 0)}.{int(count or 0)}"


def user_history(session: Session, user_id: int) -> UserHistory:
    """The user's interactions in time order for recommenders: data set ratings, then app ratings/likes/watched.

    A movie appears once, at its latest interaction. A dislike, or a rating that says the person disliked the film
    (data.liking), removes the movie from the interactions and lists it in `disliked` until a later liking mark.
    """
    require_user(session, user_id)
    order: dict[int, None] = {}
    disliked: dict[int, None] = {}
    ratings = session.execute(
        select(Rating.movie_id, Rating.rating).where(Rating.user_id == user_id).order_by(Rating.seq)
    )
    for movie_id, stars in ratings:
        (disliked if is_disliked_rating(stars) else order)[movie_id] = None
    events = session.execute(
        select(FeedbackEvent.movie_id, FeedbackEvent.kind, FeedbackEvent.value)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id)
    )
    dismissed: dict[int, None] = {}
    for movie_id, kind, value in events:
        effect = interaction_effect(kind, value)
        if effect is None:
            dismissed[movie_id] = None
            continue
        order.pop(movie_id, None)
        disliked.pop(movie_id, None)
        if effect == "remove":
            disliked[movie_id] = None
        else:
            order[movie_id] = None
    return UserHistory(user_id, list(order), list(disliked), [m for m in dismissed if m not in order])


def interaction_effect(kind: str, value: float | None = None) -> Literal["touch", "remove"] | None:
    """What an app mark does to the user's interactions, the models' input (serving's `user_history` and
    `movie-genie retrain` both apply it): a rating, like or watched is an interaction at the time of the mark
    ("touch": the film moves to its latest touch); a dislike, or a rating that says the person disliked the film
    (data.liking), removes the film; "not interested" (dismiss) says nothing about taste (None: unchanged)."""
    if kind == "dismiss":
        return None
    if kind == "dislike" or (kind == "rating" and is_disliked_rating(value)):
        return "remove"
    return "touch"


def feedback_log(session: Session) -> Iterator[FeedbackRow]:
    """Every app mark of every user in the order they were made (streamed: one query, rows as they come)."""
    rows = session.execute(
        select(
            FeedbackEvent.user_id,
            FeedbackEvent.movie_id,
            FeedbackEvent.kind,
            FeedbackEvent.value,
            FeedbackEvent.created_at,
        ).order_by(FeedbackEvent.id),
        execution_options={"yield_per": 10_000},
    )
    for user_id, movie_id, kind, value, created_at in rows:
        yield FeedbackRow(int(user_id), int(movie_id), str(kind), value, aware(created_at))


def user_marks(session: Session, user_id: int) -> UserMarks:
    """Every film the user rated (data set or app), liked, disliked, watched or dismissed, oldest first; two
    indexed queries. UserNotFoundError if the user is unknown."""
    require_user(session, user_id)
    marks: dict[int, Mark] = {
        int(m): Mark(int(m), float(r), "dataset")
        for m, r in session.execute(
            select(Rating.movie_id, Rating.rating).where(Rating.user_id == user_id).order_by(Rating.seq)
        )
    }
    events = session.execute(
        select(FeedbackEvent.movie_id, FeedbackEvent.kind, FeedbackEvent.value)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id)
    )
    for movie_id, kind, value in events:
        mark = marks.pop(int(movie_id), None) or Mark(int(movie_id))
        marks[int(movie_id)] = _with_event(mark, kind, value)  # re-inserted: the film moves to its latest touch
    return UserMarks(user_id, marks)


def movie_mark(session: Session, user_id: int, movie_id: int) -> Mark:
    """What the user did with one film (an empty mark when nothing); 404 errors for an unknown user or film."""
    require_user(session, user_id)
    require_movies(session, [movie_id])
    mark = Mark(int(movie_id))
    rating = session.execute(
        select(Rating.rating).where(Rating.user_id == user_id, Rating.movie_id == movie_id)
    ).scalar_one_or_none()
    if rating is not None:
        mark = Mark(int(movie_id), float(rating), "dataset")
    events = session.execute(
        select(FeedbackEvent.kind, FeedbackEvent.value)
        .where(FeedbackEvent.user_id == user_id, FeedbackEvent.movie_id == movie_id)
        .order_by(FeedbackEvent.id)
    )
    for kind, value in events:
        mark = _with_event(mark, kind, value)
    return mark


def _with_event(mark: Mark, kind: str, value: float | None) -> Mark:
    """The mark after one app event (events in id order; like and dislike exclude each other)."""
    if kind == "rating":
        return dataclasses.replace(mark, rating=float(cast(float, value)), rating_source="app")
    if kind == "like":
        return dataclasses.replace(mark, liked=True, disliked=False)
    if kind == "dislike":
        return dataclasses.replace(mark, liked=False, disliked=True)
    if kind == "watched":
        return dataclasses.replace(mark, watched=True)
    return dataclasses.replace(mark, dismissed=True)
