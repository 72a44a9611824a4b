"""Feedback marks: one event per (user, movie, kind), like and dislike exclusive, marks taken back, 'dismiss', and a
user's whole history as marks (not a recent slice)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from movie_genie.db import migrate
from movie_genie.db.errors import InvalidFeedbackError
from movie_genie.db.feedback import add_feedback, list_feedback, movie_mark, remove_feedback, user_history, user_marks
from movie_genie.db.models import FeedbackEvent, Movie, Rating, User, utcnow
from movie_genie.db.users import get_user


def _count(session: Session, user_id: int) -> int:
    return int(session.execute(select(func.count()).where(FeedbackEvent.user_id == user_id)).scalar_one())


def test_the_same_mark_twice_is_one_event(session: Session) -> None:
    first = add_feedback(session, 4, 1, "like")
    again = add_feedback(session, 4, 1, "like")
    assert first.created and not again.created and again.id == first.id
    assert _count(session, 4) == 1
    assert get_user(session, 4).like_count == 1
    rated = add_feedback(session, 4, 1, "rating", 3.0)
    assert add_feedback(session, 4, 1, "rating", 3.0).id == rated.id  # same value: nothing new
    changed = add_feedback(session, 4, 1, "rating", 4.5)
    assert changed.created and changed.id > rated.id and _count(session, 4) == 2  # the like and one rating


def test_like_and_dislike_exclude_each_other_and_marks_are_taken_back(session: Session) -> None:
    add_feedback(session, 4, 2, "like")
    add_feedback(session, 4, 2, "dislike")
    assert [e.kind for e in list_feedback(session, 4)] == ["dislike"]
    assert movie_mark(session, 4, 2).disliked and not movie_mark(session, 4, 2).liked
    assert remove_feedback(session, 4, 2, "dislike") == 1
    assert remove_feedback(session, 4, 2, "dislike") == 0
    assert list_feedback(session, 4) == []
    with pytest.raises(InvalidFeedbackError):
        remove_feedback(session, 4, 2, "love")


def test_dismiss_is_excluded_but_not_an_interaction(session: Session) -> None:
    unseen = next(m for m in range(1, 2000) if m not in user_marks(session, 6).marks)
    add_feedback(session, 6, unseen, "dismiss")
    history = user_history(session, 6)
    assert unseen not in history.movie_ids and history.dismissed == [unseen]
    assert user_marks(session, 6).marks[unseen].dismissed


def test_user_marks_cover_the_whole_history(session: Session) -> None:
    """The oldest data set rating is there (a recent slice would miss it); an app rating replaces it."""
    ratings = session.execute(select(Rating.movie_id, Rating.rating).where(Rating.user_id == 1).order_by(Rating.seq))
    expected = {int(m): float(r) for m, r in ratings}
    marks = user_marks(session, 1).marks
    assert {m: mark.rating for m, mark in marks.items()} == expected
    oldest = next(iter(expected))
    assert movie_mark(session, 1, oldest).rating_source == "dataset"
    add_feedback(session, 1, oldest, "rating", 1.0)
    mark = user_marks(session, 1).marks[oldest]
    assert (mark.rating, mark.rating_source) == (1.0, "app")
    assert list(user_marks(session, 1).marks)[-1] == oldest  # moved to its latest touch


def test_the_upgrade_keeps_one_event_per_mark(fresh_engine: Callable[[], Engine]) -> None:
    """Databases written before marks were unique: duplicates collapse to the latest, a like/dislike pair to the
    later one."""
    engine = fresh_engine()
    migrate.upgrade(engine, "0003")
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Movie.__table__).values(movie_id=1, title="Toy Story", genres=[], rating_count=0))
        conn.execute(insert(User.__table__).values(user_id=1, source="app", display_name="u", created_at=now))
        rows = [("like", None), ("like", None), ("rating", 3.0), ("rating", 4.0), ("dislike", None), ("watched", None)]
        for kind, value in rows:
            conn.execute(
                insert(FeedbackEvent.__table__).values(user_id=1, movie_id=1, kind=kind, value=value, created_at=now)
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        kept = conn.execute(select(FeedbackEvent.kind, FeedbackEvent.value).order_by(FeedbackEvent.id)).all()
    assert [tuple(r) for r in kept] == [("rating", 4.0), ("dislike", None), ("watched", None)]
