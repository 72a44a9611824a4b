"""A profile as its owner handles it: sign in with its key, export its ratings, delete it with everything it left.

    user = find_by_secret_hash(session, hash_secret(key))     # None: no app profile has this key
    source, secret_hash = user_owner(session, user_id)        # who may write as the profile (None: no such id)
    rows = export_ratings(session, user_id)                   # MovieLens ratings.csv rows, by movie id
    delete_app_user(session, user_id)                         # every row of the user, in one transaction

Deleting is for profiles created in the app only: the data set's users are `db load`'s, and a reload would bring
them back. A new profile's id is random (`new_user_id`, db/models.py APP_USER_IDS) and the ids of deleted profiles are
never given out again (retired_user_ids): a browser that still remembers one must find it gone, not someone
else's profile.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from movie_genie.db.errors import InvalidInputError
from movie_genie.db.models import (
    APP_USER_IDS,
    FeedbackEvent,
    IdempotencyKey,
    Impression,
    ImpressionEvent,
    Rating,
    RetiredUserId,
    User,
)
from movie_genie.db.queries import aware, commit, require_user

# Bulk deletes: nothing of the user is loaded in the session, so there is nothing to synchronise.
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The app profile a key belongs to."""

    user_id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class ExportedRating:
    """One line of a MovieLens ratings.csv: the user's current rating of a film and when it was given (unix s)."""

    user_id: int
    movie_id: int
    rating: float
    timestamp: int


@dataclass(frozen=True, slots=True)
class DeletedUser:
    """What deleting a profile removed, by table."""

    user_id: int
    rows: dict[str, int]


def find_by_secret_hash(session: Session, secret_hash: str) -> SignedIn | None:
    """The app profile whose stored secret hash is `secret_hash` (one indexed look-up), or None."""
    if not secret_hash:
        return None
    row = session.execute(
        select(User.user_id, User.display_name)
        .where(User.secret_hash == secret_hash, User.source == "app")
        .order_by(User.user_id)
        .limit(1)
    ).first()
    return None if row is None else SignedIn(int(row.user_id), str(row.display_name))


def user_owner(session: Session, user_id: int) -> tuple[str, str | None] | None:
    """A user's source ('movielens' or 'app') and secret hash, or None for an unknown id."""
    row = session.execute(select(User.source, User.secret_hash).where(User.user_id == user_id)).first()
    return None if row is None else (str(row.source), row.secret_hash)


def set_secret_hash(session: Session, user_id: int, secret_hash: str) -> None:
    """Replace an app user's secret hash (a new secret handed over) and commit; UserNotFoundError if absent."""
    require_user(session, user_id).secret_hash = secret_hash
    commit(session)


def export_ratings(session: Session, user_id: int) -> list[ExportedRating]:
    """Every film the user rated, at its current rating, by movie id: an app rating replaces the data set's rating
    of the same film, a cleared app rating is gone (the data set's rating of that film, if any, counts again), as in
    GET /api/users/{id}/ratings. UserNotFoundError for an unknown id."""
    require_user(session, user_id)
    current: dict[int, tuple[float, int]] = {}
    for movie_id, rating, timestamp in session.execute(
        select(Rating.movie_id, Rating.rating, Rating.timestamp).where(Rating.user_id == user_id)
    ):
        current[int(movie_id)] = (float(rating), int(timestamp))
    # One rating event per (user, film): a changed rating replaced the old one (feedback.add_feedback).
    for movie_id, value, created_at in session.execute(
        select(FeedbackEvent.movie_id, FeedbackEvent.value, FeedbackEvent.created_at).where(
            FeedbackEvent.user_id == user_id, FeedbackEvent.kind == "rating", FeedbackEvent.value.is_not(None)
        )
    ):
        current[int(movie_id)] = (float(cast(float, value)), int(aware(created_at).timestamp()))
    return [ExportedRating(user_id, m, r, ts) for m, (r, ts) in sorted(current.items())]


def delete_app_user(session: Session, user_id: int) -> DeletedUser:
    """Delete a profile created in the app and every row that belongs to it, in one transaction, then commit: its
    impressions and what was attributed to them, its feedback, any data set ratings, the stored answers of its
    Idempotency-Keys (they hold its profile and marks) and the users row. UserNotFoundError for an unknown id,
    InvalidInputError for a data set profile (the API refuses those first, with a 403)."""
    user = require_user(session, user_id)
    if user.source != "app":
        raise InvalidInputError(f"user {user_id} comes from the data set, not the app: it cannot be deleted")
    try:
        rows: dict[str, int] = {}
        impressions = select(Impression.id).where(Impression.user_id == user_id)
        # Children first, explicitly: no reliance on ON DELETE CASCADE (a SQLite connection may have it off).
        for name, statement in (
            ("impression_events", delete(ImpressionEvent).where(ImpressionEvent.impression_id.in_(impressions))),
            ("impressions", delete(Impression).where(Impression.user_id == user_id)),
            ("feedback_events", delete(FeedbackEvent).where(FeedbackEvent.user_id == user_id)),
            ("ratings", delete(Rating).where(Rating.user_id == user_id)),
        ):
            rows[name] = _count(session.execute(statement, execution_options=_NO_SYNC))
        rows["idempotency_keys"] = _delete_stored_answers(session, user_id)
        session.delete(user)
        rows["users"] = 1
        session.add(RetiredUserId(user_id=user_id))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return DeletedUser(user_id, rows)


def new_user_id(session: Session) -> int:
    """A random id for a new profile (APP_USER_IDS) that no user has and no deleted profile had. Another worker may
    take the same id before our insert: the primary key refuses ours and the caller draws again."""
    while True:
        user_id = APP_USER_IDS.start + secrets.randbelow(len(APP_USER_IDS))
        taken = exists().where(User.user_id == user_id)
        retired = exists().where(RetiredUserId.user_id == user_id)
        if not session.execute(select(taken | retired)).scalar():
            return user_id


def user_rows(session: Session, user_id: int) -> dict[str, int]:
    """How many rows of each table belong to the user (what a deletion must leave at zero)."""
    impressions = select(Impression.id).where(Impression.user_id == user_id)
    counts = {
        "users": select(func.count()).select_from(User).where(User.user_id == user_id),
        "ratings": select(func.count()).select_from(Rating).where(Rating.user_id == user_id),
        "feedback_events": select(func.count()).select_from(FeedbackEvent).where(FeedbackEvent.user_id == user_id),
        "impressions": select(func.count()).select_from(Impression).where(Impression.user_id == user_id),
        "impression_events": select(func.count())
        .select_from(ImpressionEvent)
        .where(ImpressionEvent.impression_id.in_(impressions)),
    }
    found = {name: int(session.execute(query).scalar_one()) for name, query in counts.items()}
    found["idempotency_keys"] = len(_stored_answers(session, user_id))
    return found


def _delete_stored_answers(session: Session, user_id: int) -> int:
    keys = _stored_answers(session, user_id)
    for scope, key in keys:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key),
            execution_options=_NO_SYNC,
        )
    return len(keys)


def _stored_answers(session: Session, user_id: int) -> list[tuple[str, str]]:
    """(scope, key) of the stored Idempotency-Key answers that carry this user (a profile, a mark): the answers are
    compact JSON, so a LIKE finds the candidates and parsing them confirms the id (user 1 is not user 12)."""
    pattern = f'%"user_id":{int(user_id)}%'
    candidates = session.execute(
        select(IdempotencyKey.scope, IdempotencyKey.key, IdempotencyKey.response).where(
            IdempotencyKey.response.like(pattern)
        )
    )
    return [(scope, key) for scope, key, response in candidates if _mentions_user(response, user_id)]


def _mentions_user(response: str | None, user_id: int) -> bool:
    try:
        body = json.loads(response or "")
    except ValueError:
        return False
    stack: list[Any] = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("user_id") == user_id:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
