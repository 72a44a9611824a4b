"""The user list, profiles and sign-up (db/users.py, db/user_stats.py) on a slice of real ml-100k, on SQLite and
PostgreSQL; expected values come from pandas."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from movie_genie.db.engine import make_session_factory
from movie_genie.db.errors import (
    InvalidInputError,
    MovieNotFoundError,
    UserNotFoundError,
)
from movie_genie.db.feedback import add_feedback, user_history
from movie_genie.db.models import APP_USER_IDS, FeedbackEvent, User
from movie_genie.db.user_stats import rating_counts, top_genres
from movie_genie.db.users import create_user, get_user, list_users

from .conftest import SLICE_USERS, Slice


def _history(ml_slice: Slice, user_id: int) -> list[int]:
    """The user's movies in canonical order (ratings are sorted by user, then time, ties in file order)."""
    return ml_slice.ratings.loc[ml_slice.ratings["user_id"] == user_id, "movie_id"].tolist()


def _top_genres(ml_slice: Slice, movie_ids: list[int]) -> list[str]:
    genres = dict(zip(ml_slice.movies["movie_id"], ml_slice.movies["genres"], strict=True))
    counts = Counter(g for m in movie_ids for g in genres[m])
    return [g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]


def test_list_users_pages_with_stats(session: Session, ml_slice: Slice) -> None:
    page = list_users(session, page=2, per_page=10)
    assert page.total == SLICE_USERS
    assert [u.user_id for u in page.items] == list(range(11, 21))
    for user in page.items:
        history = _history(ml_slice, user.user_id)
        assert user.rating_count == len(history)
        assert user.top_genres == _top_genres(ml_slice, history)
        assert user.source == "movielens"


def test_list_users_search(session: Session, ml_slice: Slice) -> None:
    created = create_user(session, "Zoë 100% Fan")
    assert [u.user_id for u in list_users(session, query="zoë").items] == [created.user_id]
    assert [u.user_id for u in list_users(session, query="100%").items] == [created.user_id]  # % is literal
    writers = ml_slice.users.loc[ml_slice.users["occupation"] == "writer", "user_id"].tolist()
    assert [u.user_id for u in list_users(session, query="writer", per_page=100).items] == writers
    assert 7 in [u.user_id for u in list_users(session, query="7").items]


def test_get_user_profile_counts_and_recent_history(session: Session, ml_slice: Slice) -> None:
    history = _history(ml_slice, 1)
    detail = get_user(session, 1, recent=5)
    row = ml_slice.users.set_index("user_id").loc[1]
    assert (detail.age, detail.gender, detail.occupation) == (row["age"], row["gender"], row["occupation"])
    assert detail.rating_count == len(history)
    assert detail.top_genres == _top_genres(ml_slice, history)
    assert [item.movie_id for item in detail.recent] == history[::-1][:5]
    assert all(item.source == "dataset" and item.at.tzinfo is not None for item in detail.recent)
    first_rating = int(ml_slice.ratings.loc[ml_slice.ratings["user_id"] == 1, "timestamp"].min())
    assert detail.created_at == datetime.fromtimestamp(first_rating, tz=UTC)

    add_feedback(session, 1, 1682, "like")
    detail = get_user(session, 1, recent=5)
    assert detail.recent[0].movie_id == 1682 and detail.recent[0].kind == "like" and detail.recent[0].source == "app"
    assert detail.like_count == 1
    with pytest.raises(UserNotFoundError):
        get_user(session, 10_000_000)


def test_create_user_allocates_ids_above_movielens_and_stores_likes(session: Session, ml_slice: Slice) -> None:
    user = create_user(session, "  Ada   Lovelace ", [181, 50, 172, 50])
    assert user.user_id > int(ml_slice.users["user_id"].max())
    assert (user.source, user.display_name) == ("app", "Ada Lovelace")
    assert user.like_count == 3 and user.rating_count == 0
    assert user.top_genres == _top_genres(ml_slice, [181, 50, 172])
    assert user_history(session, user.user_id).movie_ids == [181, 50, 172]
    assert user.created_at.tzinfo is not None
    assert abs(user.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    second = create_user(session, "Grace")
    # Random ids (db/models.py APP_USER_IDS): one profile's id says nothing about the next one's.
    assert user.user_id in APP_USER_IDS and second.user_id in APP_USER_IDS
    assert abs(second.user_id - user.user_id) > 1


def test_create_user_validates_and_writes_nothing_on_error(session: Session) -> None:
    users_before = session.execute(select(func.count()).select_from(User)).scalar_one()
    with pytest.raises(MovieNotFoundError, match="999999"):
        create_user(session, "Bad", [1, 999_999])
    with pytest.raises(InvalidInputError, match="display_name"):
        create_user(session, "   ", [1])
    with pytest.raises(InvalidInputError, match="display_name"):
        create_user(session, "x" * 101)
    assert session.execute(select(func.count()).select_from(User)).scalar_one() == users_before
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_concurrent_sign_ups_get_distinct_ids(engine: Engine, session: Session) -> None:
    factory = make_session_factory(engine)
    ids: list[int] = []
    errors: list[BaseException] = []

    def sign_up(n: int) -> None:
        try:
            with factory() as own:
                ids.append(create_user(own, f"Parallel {n}", [1]).user_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(ids) == len(set(ids)) == 8


def test_stored_user_figures_equal_the_live_computation(session: Session) -> None:
    """What `db load` stores per user is exactly what db/user_stats.py computes live after feedback."""
    users = session.execute(select(User).where(User.source == "movielens")).scalars().all()
    ids = [u.user_id for u in users]
    live_counts, live_genres = rating_counts(session, ids), top_genres(session, ids)
    assert {u.user_id: (u.rating_count, u.top_genres) for u in users} == {
        i: (live_counts.get(i, 0), live_genres.get(i, [])) for i in ids
    }
