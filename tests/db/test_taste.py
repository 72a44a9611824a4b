"""Distinctive taste (db/taste.py): the rule on its own, what `db load` stores against the live computation, and
the user search by id and by taste word, on the real ml-100k slice (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from movie_genie.data.liking import LIKED_MIN_RATING
from movie_genie.db import taste
from movie_genie.db.engine import make_session_factory
from movie_genie.db.feedback import add_feedback, remove_feedback, user_history
from movie_genie.db.load import _shared_tags
from movie_genie.db.models import MovieGenre, User
from movie_genie.db.user_stats import live_taste_profiles, taste_profiles
from movie_genie.db.users import _USER_COLUMNS, create_user, get_user, list_users, user_ratings

from .conftest import Slice

POP = taste.Population({"Drama": 0.45, "Comedy": 0.35, "Film-Noir": 0.01, "War": 0.05}, {"noir": 0.002})


def test_one_film_never_makes_a_taste() -> None:
    assert taste.distinctive(50, {"Film-Noir": 1}, {"noir": 2}, POP) == []


def test_common_genres_are_not_distinctive_however_frequent() -> None:
    # 55% Drama is above the population's 45%, but only 1.2x: below MIN_LIFT once smoothed; Film-Noir stands out.
    traits = taste.distinctive(100, {"Drama": 55, "Comedy": 30, "Film-Noir": 5, "War": 12}, {"noir": 4}, POP)
    assert [(t.kind, t.name) for t in traits] == [("genre", "Film-Noir"), ("genre", "War"), ("tag", "noir")]
    noir = traits[0]
    assert noir.lift == pytest.approx((5 + taste.PRIOR_FILMS * 0.01) / (100 + taste.PRIOR_FILMS) / 0.01, abs=1e-3)


def test_support_grows_with_the_number_of_films() -> None:
    # 3 of 1,000 films is below MIN_SHARE however rare the genre.
    assert taste.distinctive(1000, {"Film-Noir": 3}, {}, POP) == []
    assert [t.name for t in taste.distinctive(1000, {"Film-Noir": math.ceil(taste.MIN_SHARE * 1000)}, {}, POP)] == [
        "Film-Noir"
    ]


def test_basis_is_liked_films_unless_too_few() -> None:
    ratings = {1: 5.0, 2: 4.0, 3: 2.0, 4: 4.5, 5: 4.0, 6: 4.0, 7: 5.0}
    assert taste.basis(ratings) == [1, 2, 4, 5, 6, 7]
    # Too few likings: everything rated describes the user, but never a film they disliked (2★ or less).
    assert taste.basis({1: 5.0, 2: 1.0, 8: 3.0}) == [1, 8]
    assert taste.basis({1: 5.0, 2: 1.0}, liked=[3]) == [1, 3]


def test_favourites_are_the_highest_rated_ties_to_the_better_known() -> None:
    assert taste.favourites({1: 4.0, 2: 5.0, 3: 5.0, 4: 5.0}, {2: 10, 3: 50, 4: 50}) == [3, 4, 2]


def test_a_film_rated_below_liked_is_never_a_favourite() -> None:
    """A profile that rated one film 4.5★ and another 2★ has one favourite, not two (seen on a profile page)."""
    assert taste.favourites({1: 4.5, 2: 2.0, 3: 3.5}, {1: 5, 2: 50, 3: 50}) == [1]
    assert taste.favourites({2: 2.0}, {}) == []


def test_stored_taste_equals_the_live_computation(session: Session) -> None:
    """What `db load` stores (vectorised) is exactly what db/user_stats.py computes for users with feedback."""
    users = session.execute(select(*_USER_COLUMNS).where(User.source == "movielens")).all()
    stored = taste_profiles(session, users)
    live = live_taste_profiles(session, [u.user_id for u in users])
    assert stored == live
    assert sum(bool(p.taste) for p in stored.values()) >= len(users) * 0.8


def test_stored_lift_matches_pandas(session: Session, ml_slice: Slice) -> None:
    ratings, movies = ml_slice.ratings, ml_slice.movies
    liked = ratings[ratings["rating"] >= LIKED_MIN_RATING]
    genres = movies.set_index("movie_id")["genres"]
    pairs = liked.assign(genre=liked["movie_id"].map(genres)).explode("genre")
    population = pairs["genre"].value_counts() / len(liked)
    user = get_user(session, 1)
    first = user.profile.taste[0]
    mine = pairs[pairs["user_id"] == 1]
    n, count = int((liked["user_id"] == 1).sum()), int((mine["genre"] == first.name).sum())
    share = population[first.name]
    assert first.count == count
    assert first.lift == pytest.approx((count + taste.PRIOR_FILMS * share) / (n + taste.PRIOR_FILMS) / share, abs=1e-3)


def test_a_number_matches_that_id_exactly(session: Session) -> None:
    """'4' used to match users 4, 14, 24, 34, 40..49 and 54 (their names hold the digit)."""
    page = list_users(session, query="4")
    assert [u.user_id for u in page.items] == [4] and page.total == 1
    assert list_users(session, query="999999").total == 0


def test_a_number_also_matches_names_people_gave_but_the_id_first(session: Session) -> None:
    created = create_user(session, "Agent 4")
    page = list_users(session, query="4")
    assert [u.user_id for u in page.items] == [4, created.user_id]


def test_a_taste_word_matches_distinctive_traits_most_distinctive_first(session: Session) -> None:
    page = list_users(session, query="Film-Noir", per_page=100)
    assert page.total >= 2
    with_it = [u for u in list_users(session, per_page=100).items if "Film-Noir" in [t.name for t in u.profile.taste]]
    assert {u.user_id for u in page.items} == {u.user_id for u in with_it}
    ranks = [[t.name for t in u.profile.taste].index("Film-Noir") for u in page.items]
    assert ranks == sorted(ranks)


def test_live_taste_follows_feedback(session: Session) -> None:
    """A new user who likes three Film-Noir films is described by it at once."""
    noir = [m for (m,) in session.execute(select(MovieGenre.movie_id).where(MovieGenre.genre == "Film-Noir"))]
    user = create_user(session, "Noir fan", noir[: taste.MIN_LIKED])
    listed = list_users(session, query="Noir fan").items[0]
    assert listed.user_id == user.user_id and listed.profile.taste[0].name == "Film-Noir"
    assert listed.profile.first_rated_at is not None


def _stored_terms(engine: Engine, user_id: int) -> str | None:
    """users.taste_terms as another session reads it (what has been committed)."""
    with make_session_factory(engine)() as other:
        return other.execute(select(User.taste_terms).where(User.user_id == user_id)).scalar_one()


def test_feedback_refreshes_the_users_taste_terms_in_the_same_commit(engine: Engine, session: Session) -> None:
    """The user search matches taste_terms (of MovieLens profiles): a like, a rating or a mark taken back updates
    them at once."""
    noir = [m for (m,) in session.execute(select(MovieGenre.movie_id).where(MovieGenre.genre == "Film-Noir"))]
    user = create_user(session, "Soon a noir fan")
    assert not _stored_terms(engine, user.user_id)
    for m in noir[: taste.MIN_LIKED - 1]:
        add_feedback(session, user.user_id, m, "like")
    add_feedback(session, user.user_id, noir[taste.MIN_LIKED - 1], "rating", 5.0)
    terms = _stored_terms(engine, user.user_id)
    assert terms == taste.terms(get_user(session, user.user_id).profile.taste) and "|film-noir|" in terms
    # The terms are kept, but a profile made in the app is found by its name only: a taste word would tell anyone
    # what it likes (issue 31; it was found by "film-noir" before).
    assert user.user_id not in {u.user_id for u in list_users(session, query="film-noir", per_page=100).items}
    for m in noir[: taste.MIN_LIKED - 1]:
        remove_feedback(session, user.user_id, m, "like")
    add_feedback(session, user.user_id, noir[taste.MIN_LIKED - 1], "rating", 1.0)
    assert "|film-noir|" not in (_stored_terms(engine, user.user_id) or "")
    # A MovieLens user's terms follow their live taste too (data set ratings plus app feedback).
    before = _stored_terms(engine, 1)
    for m in noir[:10]:
        add_feedback(session, 1, m, "like")
    after = _stored_terms(engine, 1)
    assert after == taste.terms(get_user(session, 1).profile.taste) and after != before


def test_user_ratings_are_paged_newest_first_with_app_ratings_replacing_the_data_set(session: Session) -> None:
    before = user_history(session, 1)
    history = before.movie_ids + before.disliked  # every film rated (dislikes included), interactions first
    add_feedback(session, 1, history[0], "rating", 1.0)
    first = user_ratings(session, 1, page=1, per_page=5)
    assert first.total == len(history)
    assert (first.items[0].movie_id, first.items[0].value, first.items[0].source) == (history[0], 1.0, "app")
    everything = [i for p in range(1, 100) for i in user_ratings(session, 1, page=p, per_page=50).items]
    assert len(everything) == len(history) and len({i.movie_id for i in everything}) == len(history)
    assert [i.at for i in everything[1:]] == sorted((i.at for i in everything[1:]), reverse=True)


def test_only_tags_given_by_several_people_describe_taste(tmp_path: Path) -> None:
    tags = pd.DataFrame(
        {
            "user_id": [474, 474, 474, 1, 2, 3],
            "movie_id": [1, 2, 3, 1, 2, 2],
            "tag": ["In Netflix queue", "in netflix queue", "in netflix queue", "Atmospheric", "atmospheric ", "dark"],
            "timestamp": [0] * 6,
        }
    )
    tags.to_parquet(tmp_path / "tags.parquet", index=False)
    assert _shared_tags(tmp_path) == {"atmospheric"}
    assert _shared_tags(tmp_path / "absent") == set()
