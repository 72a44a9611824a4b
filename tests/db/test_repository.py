"""The API's queries on a slice of real ml-100k, on SQLite and PostgreSQL; expected values come from pandas."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movie_genie.db import repository as repo
from movie_genie.db.engine import make_session_factory
from movie_genie.db.errors import (
    InvalidFeedbackError,
    InvalidInputError,
    MovieNotFoundError,
    NotFoundError,
    UserNotFoundError,
)
from movie_genie.db.models import FeedbackEvent, User

from .conftest import SLICE_USERS, Slice


def _history(ml_slice: Slice, user_id: int) -> list[int]:
    """The user's movies in canonical order (ratings are sorted by user, then time, ties in file order)."""
    return ml_slice.ratings.loc[ml_slice.ratings["user_id"] == user_id, "movie_id"].tolist()


def _top_genres(ml_slice: Slice, movie_ids: list[int]) -> list[str]:
    genres = dict(zip(ml_slice.movies["movie_id"], ml_slice.movies["genres"], strict=True))
    counts = Counter(g for m in movie_ids for g in genres[m])
    return [g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]


# --- health and movies ---------------------------------------------------------------------------------------------


def test_ping_answers(session: Session) -> None:
    repo.ping(session)


def test_genres_with_counts_match_the_catalogue(session: Session, ml_slice: Slice) -> None:
    expected = Counter(g for gs in ml_slice.movies["genres"] for g in gs)
    genres = repo.list_genres(session)
    assert [(g.genre, g.count) for g in genres] == sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))


def test_movie_detail_and_bulk_summaries(session: Session, ml_slice: Slice) -> None:
    movie = repo.get_movie(session, 1)
    row = ml_slice.movies.set_index("movie_id").loc[1]
    assert (movie.title, movie.year, movie.genres) == (row["title"], row["year"], list(row["genres"]))
    assert movie.title == "Toy Story" and movie.year == 1995
    summaries = repo.get_movies(session, [50, 1, 999_999, 50])
    assert list(summaries) == [50, 1]  # request order, unknown ids left out, duplicates once
    with pytest.raises(MovieNotFoundError, match="999999"):
        repo.get_movie(session, 999_999)
    with pytest.raises(MovieNotFoundError):
        repo.get_movie(session, 2**63)  # beyond the id column: not found, not a driver overflow
    assert repo.get_movies(session, [2**63, 1]).keys() == {1}
    assert repo.movie_stats(session, [2**40]) == {}


def test_movie_stats_equal_pandas_on_the_data_set(session: Session, ml_slice: Slice) -> None:
    ids = [1, 50, 100, 181, 1682]
    stats = repo.movie_stats(session, ids)
    grouped = ml_slice.ratings.groupby("movie_id")["rating"].agg(["count", "mean"])
    for movie_id in ids:
        if movie_id in grouped.index:
            assert stats[movie_id].rating_count == grouped.loc[movie_id, "count"]
            assert stats[movie_id].rating_mean == pytest.approx(grouped.loc[movie_id, "mean"], abs=1e-4)
        else:
            assert (stats[movie_id].rating_count, stats[movie_id].rating_mean) == (0, None)


def test_an_app_rating_replaces_the_users_data_set_rating_in_the_stats(session: Session, ml_slice: Slice) -> None:
    ratings = ml_slice.ratings[ml_slice.ratings["movie_id"] == 50]
    old = float(ratings.loc[ratings["user_id"] == 1, "rating"].iloc[0])
    repo.add_feedback(session, 1, 50, "rating", 1.5)  # user 1 re-rates a movie rated in the data set
    repo.add_feedback(session, 1, 50, "rating", 0.5)  # ... twice: the latest counts
    newbie = repo.create_user(session, "Newbie")
    repo.add_feedback(session, newbie.user_id, 50, "rating", 5.0)
    stats = repo.movie_stats(session, [50])[50]
    expected_sum = ratings["rating"].sum() - old + 0.5 + 5.0
    assert stats.rating_count == len(ratings) + 1
    assert stats.rating_mean == pytest.approx(expected_sum / (len(ratings) + 1), abs=1e-4)


def test_catalogue_cards_and_counts_match_the_movies_table(session: Session, ml_slice: Slice) -> None:
    cards = {c.movie_id: c for c in repo.catalogue_cards(session)}
    assert set(cards) == set(ml_slice.movies["movie_id"]) and repo.count_movies(session) == len(cards)
    counts = ml_slice.ratings.groupby("movie_id").size()
    assert all(c.rating_count == counts.get(m, 0) for m, c in cards.items())
    metadata = repo.catalogue_metadata(session)
    assert metadata.movies == len(cards) and 0 <= metadata.with_poster <= metadata.movies


def test_canonical_genre_is_the_catalogues_spelling() -> None:
    assert repo.canonical_genre(" sci-fi ", ["Comedy", "Sci-Fi"]) == "Sci-Fi"
    with pytest.raises(InvalidInputError, match=r"unknown genre 'Space Opera': use one of Comedy, Sci-Fi"):
        repo.canonical_genre("Space Opera", ["Sci-Fi", "Comedy"])


def test_the_feedback_version_changes_with_every_write(session: Session) -> None:
    def version() -> str:
        with session.get_bind().connect() as connection:
            return repo.feedback_version(connection, 3)

    assert version() == "0.0"
    repo.add_feedback(session, 3, 50, "like")
    repo.add_feedback(session, 3, 100, "like")
    both = version()
    repo.remove_feedback(session, 3, 50, "like")
    assert len({"0.0", both, version()}) == 3  # taking a mark back is a change too


@pytest.mark.parametrize("sort", repo.MOVIE_SORTS)
def test_browse_sorts_filters_and_pages(session: Session, ml_slice: Slice, sort: str) -> None:
    movies = ml_slice.movies
    in_genre = movies[movies["genres"].map(lambda gs: "Comedy" in gs) & movies["year"].between(1990, 1995)]
    first = repo.browse_movies(session, genre="comedy", year_min=1990, year_max=1995, sort=sort, per_page=7)
    second = repo.browse_movies(session, genre="Comedy", year_min=1990, year_max=1995, sort=sort, page=2, per_page=7)
    assert first.total == second.total == len(in_genre)
    ids = [m.movie_id for m in first.items + second.items]
    assert len(ids) == 14 and len(set(ids)) == 14  # pages do not overlap
    assert set(ids) <= set(in_genre["movie_id"])
    counts = ml_slice.ratings.groupby("movie_id").size()
    if sort == "popularity":
        expected = sorted(in_genre["movie_id"], key=lambda m: (-counts.get(m, 0), m))[:14]
        assert ids == expected
    elif sort == "title":
        assert ids == in_genre.sort_values(["title", "movie_id"])["movie_id"].tolist()[:14]
    elif sort == "year":
        years = [m.year for m in first.items + second.items]
        assert years == sorted(years, reverse=True)
    else:
        means = [m.rating_mean for m in first.items]
        assert all(m is not None for m in means)


def test_browse_rejects_bad_input_clearly(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="unknown sort"):
        repo.browse_movies(session, sort="random")
    with pytest.raises(InvalidInputError, match=r"unknown genre 'Space Opera'.*Comedy"):
        repo.browse_movies(session, genre="Space Opera")
    with pytest.raises(InvalidInputError, match="per_page"):
        repo.browse_movies(session, per_page=1000)
    with pytest.raises(InvalidInputError, match="year_min"):
        repo.browse_movies(session, year_min=2000, year_max=1990)
    with pytest.raises(InvalidInputError, match="page must be"):
        repo.browse_movies(session, page=10**20)
    assert repo.browse_movies(session, page=10_000).items == []


# --- users ---------------------------------------------------------------------------------------------------------


def test_list_users_pages_with_stats(session: Session, ml_slice: Slice) -> None:
    page = repo.list_users(session, page=2, per_page=10)
    assert page.total == SLICE_USERS
    assert [u.user_id for u in page.items] == list(range(11, 21))
    for user in page.items:
        history = _history(ml_slice, user.user_id)
        assert user.rating_count == len(history)
        assert user.top_genres == _top_genres(ml_slice, history)
        assert user.source == "movielens"


def test_list_users_search(session: Session, ml_slice: Slice) -> None:
    created = repo.create_user(session, "Zoë 100% Fan")
    assert [u.user_id for u in repo.list_users(session, query="zoë").items] == [created.user_id]
    assert [u.user_id for u in repo.list_users(session, query="100%").items] == [created.user_id]  # % is literal
    writers = ml_slice.users.loc[ml_slice.users["occupation"] == "writer", "user_id"].tolist()
    assert [u.user_id for u in repo.list_users(session, query="writer", per_page=100).items] == writers
    assert 7 in [u.user_id for u in repo.list_users(session, query="7").items]


def test_get_user_profile_counts_and_recent_history(session: Session, ml_slice: Slice) -> None:
    history = _history(ml_slice, 1)
    detail = repo.get_user(session, 1, recent=5)
    row = ml_slice.users.set_index("user_id").loc[1]
    assert (detail.age, detail.gender, detail.occupation) == (row["age"], row["gender"], row["occupation"])
    assert detail.rating_count == len(history)
    assert detail.top_genres == _top_genres(ml_slice, history)
    assert [item.movie_id for item in detail.recent] == history[::-1][:5]
    assert all(item.source == "dataset" and item.at.tzinfo is not None for item in detail.recent)
    first_rating = int(ml_slice.ratings.loc[ml_slice.ratings["user_id"] == 1, "timestamp"].min())
    assert detail.created_at == datetime.fromtimestamp(first_rating, tz=UTC)

    repo.add_feedback(session, 1, 1682, "like")
    detail = repo.get_user(session, 1, recent=5)
    assert detail.recent[0].movie_id == 1682 and detail.recent[0].kind == "like" and detail.recent[0].source == "app"
    assert detail.like_count == 1
    with pytest.raises(UserNotFoundError):
        repo.get_user(session, 10_000_000)


def test_create_user_allocates_ids_above_movielens_and_stores_likes(session: Session, ml_slice: Slice) -> None:
    user = repo.create_user(session, "  Ada   Lovelace ", [181, 50, 172, 50])
    assert user.user_id > int(ml_slice.users["user_id"].max())
    assert (user.source, user.display_name) == ("app", "Ada Lovelace")
    assert user.like_count == 3 and user.rating_count == 0
    assert user.top_genres == _top_genres(ml_slice, [181, 50, 172])
    assert repo.user_history(session, user.user_id).movie_ids == [181, 50, 172]
    assert user.created_at.tzinfo is not None
    assert abs(user.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    second = repo.create_user(session, "Grace")
    assert second.user_id == user.user_id + 1


def test_create_user_validates_and_writes_nothing_on_error(session: Session) -> None:
    users_before = session.execute(select(func.count()).select_from(User)).scalar_one()
    with pytest.raises(MovieNotFoundError, match="999999"):
        repo.create_user(session, "Bad", [1, 999_999])
    with pytest.raises(InvalidInputError, match="display_name"):
        repo.create_user(session, "   ", [1])
    with pytest.raises(InvalidInputError, match="display_name"):
        repo.create_user(session, "x" * 101)
    assert session.execute(select(func.count()).select_from(User)).scalar_one() == users_before
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_concurrent_sign_ups_get_distinct_ids(engine: Engine, session: Session) -> None:
    factory = make_session_factory(engine)
    ids: list[int] = []
    errors: list[BaseException] = []

    def sign_up(n: int) -> None:
        try:
            with factory() as own:
                ids.append(repo.create_user(own, f"Parallel {n}", [1]).user_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(ids) == len(set(ids)) == 8


# --- history and feedback ------------------------------------------------------------------------------------------


def test_user_history_is_the_data_set_order_then_feedback(session: Session, ml_slice: Slice) -> None:
    rated = ml_slice.ratings.loc[ml_slice.ratings["user_id"] == 3]
    history = rated.loc[rated["rating"] > 2, "movie_id"].tolist()
    # A data set rating of 2★ or less is a dislike: not an interaction, listed as disliked.
    assert repo.user_history(session, 3).movie_ids == history
    assert repo.user_history(session, 3).disliked == rated.loc[rated["rating"] <= 2, "movie_id"].tolist()
    unseen = [m for m in (1, 2, 3, 4, 5, 6, 7) if m not in rated["movie_id"].tolist()]
    repo.add_feedback(session, 3, unseen[0], "watched")
    repo.add_feedback(session, 3, unseen[1], "rating", 4.5)
    repo.add_feedback(session, 3, history[0], "like")  # moves to the end: latest interaction
    repo.add_feedback(session, 3, history[1], "dislike")  # leaves the interactions, listed as disliked
    repo.add_feedback(session, 3, unseen[2], "dislike")
    repo.add_feedback(session, 3, unseen[3], "rating", 1.5)  # a rating that says they disliked it
    result = repo.user_history(session, 3)
    dataset_dislikes = result.disliked[:-3]
    assert result.movie_ids == [*history[2:], unseen[0], unseen[1], history[0]]
    assert result.disliked == [*dataset_dislikes, history[1], unseen[2], unseen[3]]
    repo.add_feedback(session, 3, unseen[2], "like")  # changed their mind
    result = repo.user_history(session, 3)
    assert result.movie_ids[-1] == unseen[2] and result.disliked == [*dataset_dislikes, history[1], unseen[3]]
    with pytest.raises(UserNotFoundError):
        repo.user_history(session, 10_000_000)


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
        repo.add_feedback(session, 1, 1, kind, value)
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_add_feedback_rejects_unknown_user_or_movie(session: Session) -> None:
    with pytest.raises(UserNotFoundError):
        repo.add_feedback(session, 10_000_000, 1, "like")
    with pytest.raises(MovieNotFoundError):
        repo.add_feedback(session, 1, 999_999, "like")
    with pytest.raises(UserNotFoundError):
        repo.add_feedback(session, 2**64, 1, "like")
    with pytest.raises(MovieNotFoundError):
        repo.add_feedback(session, 1, -(2**64), "like")
    assert issubclass(UserNotFoundError, NotFoundError) and issubclass(MovieNotFoundError, NotFoundError)
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 0


def test_list_feedback_newest_first(session: Session) -> None:
    repo.add_feedback(session, 5, 1, "like")
    repo.add_feedback(session, 5, 2, "rating", 3.5)
    events = repo.list_feedback(session, 5)
    assert [(e.movie_id, e.kind, e.value) for e in events] == [(2, "rating", 3.5), (1, "like", None)]
    assert events[1].title == "Toy Story"
    assert all(e.created_at.tzinfo is not None for e in events)
    assert repo.list_feedback(session, 6) == []
    with pytest.raises(UserNotFoundError):
        repo.list_feedback(session, 10_000_000)


def test_the_database_itself_rejects_invalid_feedback_rows(session: Session) -> None:
    """Check constraints and foreign keys hold even for writes that bypass the repository."""
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
        before = repo.user_history(other, 8).movie_ids
        other.rollback()  # end the read transaction, as a request would
        repo.add_feedback(session, 8, 1682, "watched")
        assert repo.user_history(other, 8).movie_ids == [*before, 1682]
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
                    repo.add_feedback(own, user_id, movie_id, "rating", 0.5 + (movie_id % 10) / 2)
                    repo.user_history(own, user_id)  # reads between writes, as requests do
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(u,)) for u in (11, 12, 13, 14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert session.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() == 60


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


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=_events)
def test_live_stats_and_counts_match_a_pandas_reference(session: Session, ml_slice: Slice, events: list) -> None:
    """Any sequence of feedback: each (user, movie) counts once, with the latest app rating else the data set's."""
    session.execute(delete(FeedbackEvent))
    session.commit()
    for user_id, movie_id, kind, half_stars in events:
        repo.add_feedback(session, user_id, movie_id, kind, half_stars / 2 if kind == "rating" else None)

    app = pd.DataFrame(
        [(u, m, h / 2, i) for i, (u, m, k, h) in enumerate(events) if k == "rating"],
        columns=["user_id", "movie_id", "rating", "order"],
    )
    latest = app.sort_values("order").groupby(["user_id", "movie_id"], as_index=False).last()
    dataset = ml_slice.ratings[["user_id", "movie_id", "rating"]].astype({"rating": "float64"})
    effective = pd.concat([latest[["user_id", "movie_id", "rating"]], dataset]).drop_duplicates(
        ["user_id", "movie_id"], keep="first"
    )
    stats = repo.movie_stats(session, _POOL_MOVIES)
    for movie_id in _POOL_MOVIES:
        expected = effective.loc[effective["movie_id"] == movie_id, "rating"]
        assert stats[movie_id].rating_count == len(expected)
        assert stats[movie_id].rating_mean == pytest.approx(expected.mean(), abs=1e-4)
    n_ratings = {u.user_id: u.rating_count for u in repo.list_users(session, per_page=5).items}
    for user_id in _POOL_USERS:
        assert n_ratings[user_id] == (effective["user_id"] == user_id).sum()


def test_stored_user_figures_equal_the_live_computation(session: Session) -> None:
    """What `db load` stores per user is exactly what the repository computes live after feedback."""
    users = session.execute(select(User).where(User.source == "movielens")).scalars().all()
    ids = [u.user_id for u in users]
    live_counts, live_genres = repo._rating_counts(session, ids), repo._top_genres(session, ids)
    assert {u.user_id: (u.rating_count, u.top_genres) for u in users} == {
        i: (live_counts.get(i, 0), live_genres.get(i, [])) for i in ids
    }
