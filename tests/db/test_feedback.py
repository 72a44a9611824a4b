"""Feedback and the history it makes (db/feedback.py) on a slice of real ml-100k, on SQLite and PostgreSQL; expected
values come from pandas."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movie_genie.db.engine import make_session_factory
from movie_genie.db.errors import (
    InvalidFeedbackError,
    MovieNotFoundError,
    NotFoundError,
    UserNotFoundError,
)
from movie_genie.db.feedback import add_feedback, feedback_version, list_feedback, remove_feedback, user_history
from movie_genie.db.models import FeedbackEvent
from movie_genie.db.movies import (
    movie_stats,
)
from movie_genie.db.users import list_users

from .conftest import Slice

_POOL_MOVIES = [1, 50, 100, 181, 258]  # popular in the slice: most users below rated some of them


_POOL_USERS = [1, 2, 3]


_events = st.lists(
    st.tuples(
        st.sampled_from(_POOL_USERS),
        st.sampled_from(_POOL_MOVIES),
        st.sampled_from(["rating", "like", "dislike", "watched"]),
        st.integers(min_value=1, max_value=10),
    ),
    max_size=12,
)


def test_the_feedback_version_changes_with_every_write(session: Session) -> None:
    def version() -> str:
        with session.get_bind().connect() as connection:
            return feedback_version(connection, 3)

    assert version() == "0.0"
    add_feedback(session, 3, 50, "like")
    add_feedback(session, 3, 100, "like")
    both = version()
    remove_feedback(session, 3, 50, "like")
    assert len({"0.0", both, version()}) == 3  # taking a mark back is a change too


def test_user_history_is_the_data_set_order_then_feedback(session: Session, ml_slice: Slice) -> None:
    rated = ml_slice.ratings.loc[ml_slice.ratings["user_id"] == 3]
    history = rated.loc[rated["rating"] > 2, "movie_id"].tolist()
    # A data set rating of 2★ or less is a dislike: not an interaction, listed as disliked.
    assert user_history(session, 3).movie_ids == history
    assert user_history(session, 3).disliked == rated.loc[rated["rating"] <= 2, "movie_id"].tolist()
    unseen = [m for m in (1, 2, 3, 4, 5, 6, 7) if m not in rated["movie_id"].tolist()]
    add_feedback(session, 3, unseen[0], "watched")
    add_feedback(session, 3, unseen[1], "rating", 4.5)
    add_feedback(session, 3, history[0], "like")  # moves to the end: latest interaction
    add_feedback(session, 3, history[1], "dislike")  # leaves the interactions, listed as disliked
    add_feedback(session, 3, unseen[2], "dislike")
    add_feedback(session, 3, unseen[3], "rating", 1.5)  # a rating that says they disliked it
    result = user_history(session, 3)
    dataset_dislikes = result.disliked[:-3]
    assert result.movie_ids == [*history[2:], unseen[0], unseen[1], history[0]]
    assert result.disliked == [*dataset_dislikes, history[1], unseen[2], unseen[3]]
    add_feedback(session, 3, unseen[2], "like")  # changed their mind
    result = user_history(session, 3)
    assert result.movie_ids[-1] == unseen[2] and result.disliked == [*dataset_dislikes, history[1], unseen[3]]
    with pytest.raises(UserNotFoundError):
        user_history(session, 10_000_000)


@pytest.mark.parametrize(
    ("kind", "value", "error", "message"),
    [
        ("love", None, InvalidFeedbackError, "unknown feedback kind 'love'"),
        ("rating", None, InvalidFeedbackError, "needs a value"),
        ("rating", 0.0, InvalidFeedbackError, "rating 0.0 is invalid"),
        ("rating", 5.5, InvalidFeedbackError, "rating 5.5 is invalid"),
        ("rating", 3.3, InvalidFeedbackError, "steps of 0.5"),
        ("rating", float("nan"), InvalidFeedbackError, "invalid"),
        ("like", 4.0, InvalidFeedbackError, "takes no value"),
    ],
)
def test_add_feedback_rejects_bad_values(
    session: Session, kind: str, value: float | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        add_feedback(session, 1, 1, kind, value)
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_add_feedback_rejects_unknown_user_or_movie(session: Session) -> None:
    with pytest.raises(UserNotFoundError):
        add_feedback(session, 10_000_000, 1, "like")
    with pytest.raises(MovieNotFoundError):
        add_feedback(session, 1, 999_999, "like")
    with pytest.raises(UserNotFoundError):
        add_feedback(session, 2**64, 1, "like")
    with pytest.raises(MovieNotFoundError):
        add_feedback(session, 1, -(2**64), "like")
    assert issubclass(UserNotFoundError, NotFoundError) and issubclass(MovieNotFoundError, NotFoundError)
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_list_feedback_newest_first(session: Session) -> None:
    add_feedback(session, 5, 1, "like")
    add_feedback(session, 5, 2, "rating", 3.5)
    events = list_feedback(session, 5)
    assert [(e.movie_id, e.kind, e.value) for e in events] == [(2, "rating", 3.5), (1, "like", None)]
    assert events[1].title == "Toy Story"
    assert all(e.created_at.tzinfo is not None for e in events)
    assert list_feedback(session, 6) == []
    with pytest.raises(UserNotFoundError):
        list_feedback(session, 10_000_000)


def test_the_database_itself_rejects_invalid_feedback_rows(session: Session) -> None:
    """Check constraints and foreign keys hold even for writes that bypass db/feedback.py."""
    bad_rows = [
        {"user_id": 1, "movie_id": 1, "kind": "love", "value": None},
        {"user_id": 1, "movie_id": 1, "kind": "rating", "value": 9.0},
        {"user_id": 1, "movie_id": 1, "kind": "like", "value": 3.0},
        {"user_id": 1, "movie_id": 999_999, "kind": "like", "value": None},
        {"user_id": 10_000_000, "movie_id": 1, "kind": "like", "value": None},
    ]
    for row in bad_rows:
        with pytest.raises(IntegrityError):
            session.execute(insert(FeedbackEvent).values(created_at=datetime.now(UTC), **row))
        session.rollback()


def test_feedback_is_visible_to_another_session_at_once(engine: Engine, session: Session) -> None:
    """What one API worker writes, another reads on its next request (no stale per-process state)."""
    other = make_session_factory(engine)()
    try:
        before = user_history(other, 8).movie_ids
        other.rollback()  # end the read transaction, as a request would
        add_feedback(session, 8, 1682, "watched")
        assert user_history(other, 8).movie_ids == [*before, 1682]
    finally:
        other.close()


def test_concurrent_feedback_from_several_sessions_is_all_stored(engine: Engine, session: Session) -> None:
    """Several API workers writing at once (SQLite: one writer at a time, the busy timeout makes the rest wait)."""
    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def write(user_id: int) -> None:
        try:
            with factory() as own:
                for movie_id in range(1, 16):
                    add_feedback(own, user_id, movie_id, "rating", 0.5 + (movie_id % 10) / 2)
                    user_history(own, user_id)  # reads between writes, as requests do
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(u,)) for u in (11, 12, 13, 14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 60


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=_events)
def test_live_stats_and_counts_match_a_pandas_reference(session: Session, ml_slice: Slice, events: list) -> None:
    """Any sequence of feedback: each (user, movie) counts once, with the latest app rating else the data set's."""
    session.execute(delete(FeedbackEvent))
    session.commit()
    for user_id, movie_id, kind, half_stars in events:
        add_feedback(session, user_id, movie_id, kind, half_stars / 2 if kind == "rating" else None)

    app = pd.DataFrame(
        [(u, m, h / 2, i) for i, (u, m, k, h) in enumerate(events) if k == "rating"],
        columns=["user_id", "movie_id", "rating", "order"],
    )
    latest = app.sort_values("order").groupby(["user_id", "movie_id"], as_index=False).last()
    dataset = ml_slice.ratings[["user_id", "movie_id", "rating"]].astype({"rating": "float64"})
    effective = pd.concat([latest[["user_id", "movie_id", "rating"]], dataset]).drop_duplicates(
        ["user_id", "movie_id"], keep="first"
    )
    stats = movie_stats(session, _POOL_MOVIES)
    for movie_id in _POOL_MOVIES:
        expected = effective.loc[effective["movie_id"] == movie_id, "rating"]
        assert stats[movie_id].rating_count == len(expected)
        assert stats[movie_id].rating_mean == pytest.approx(expected.mean(), abs=1e-4)
    n_ratings = {u.user_id: u.rating_count for u in list_users(session, per_page=5).items}
    for user_id in _POOL_USERS:
        assert n_ratings[user_id] == (effective["user_id"] == user_id).sum()
