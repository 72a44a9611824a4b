"""The catalogue's queries (db/movies.py) on a slice of real ml-100k, on SQLite and PostgreSQL; expected values come
from pandas."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.orm import Session

from movie_genie.db.errors import (
    InvalidInputError,
    MovieNotFoundError,
)
from movie_genie.db.feedback import add_feedback
from movie_genie.db.movies import (
    MOVIE_SORTS,
    browse_movies,
    canonical_genre,
    catalogue_cards,
    catalogue_metadata,
    count_movies,
    get_movie,
    get_movies,
    list_genres,
    movie_stats,
)
from movie_genie.db.users import create_user

from .conftest import Slice


def test_genres_with_counts_match_the_catalogue(session: Session, ml_slice: Slice) -> None:
    expected = Counter(g for gs in ml_slice.movies["genres"] for g in gs)
    genres = list_genres(session)
    assert [(g.genre, g.count) for g in genres] == sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))


def test_movie_detail_and_bulk_summaries(session: Session, ml_slice: Slice) -> None:
    movie = get_movie(session, 1)
    row = ml_slice.movies.set_index("movie_id").loc[1]
    assert (movie.title, movie.year, movie.genres) == (row["title"], row["year"], list(row["genres"]))
    assert movie.title == "Toy Story" and movie.year == 1995
    summaries = get_movies(session, [50, 1, 999_999, 50])
    assert list(summaries) == [50, 1]  # request order, unknown ids left out, duplicates once
    with pytest.raises(MovieNotFoundError, match="999999"):
        get_movie(session, 999_999)
    with pytest.raises(MovieNotFoundError):
        get_movie(session, 2**63)  # beyond the id column: not found, not a driver overflow
    assert get_movies(session, [2**63, 1]).keys() == {1}
    assert movie_stats(session, [2**40]) == {}


def test_movie_stats_equal_pandas_on_the_data_set(session: Session, ml_slice: Slice) -> None:
    ids = [1, 50, 100, 181, 1682]
    stats = movie_stats(session, ids)
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
    add_feedback(session, 1, 50, "rating", 1.5)  # user 1 re-rates a movie rated in the data set
    add_feedback(session, 1, 50, "rating", 0.5)  # ... twice: the latest counts
    newbie = create_user(session, "Newbie")
    add_feedback(session, newbie.user_id, 50, "rating", 5.0)
    stats = movie_stats(session, [50])[50]
    expected_sum = ratings["rating"].sum() - old + 0.5 + 5.0
    assert stats.rating_count == len(ratings) + 1
    assert stats.rating_mean == pytest.approx(expected_sum / (len(ratings) + 1), abs=1e-4)


def test_catalogue_cards_and_counts_match_the_movies_table(session: Session, ml_slice: Slice) -> None:
    cards = {c.movie_id: c for c in catalogue_cards(session)}
    assert set(cards) == set(ml_slice.movies["movie_id"]) and count_movies(session) == len(cards)
    counts = ml_slice.ratings.groupby("movie_id").size()
    assert all(c.rating_count == counts.get(m, 0) for m, c in cards.items())
    metadata = catalogue_metadata(session)
    assert metadata.movies == len(cards) and 0 <= metadata.with_poster <= metadata.movies


def test_canonical_genre_is_the_catalogues_spelling() -> None:
    assert canonical_genre(" sci-fi ", ["Comedy", "Sci-Fi"]) == "Sci-Fi"
    with pytest.raises(InvalidInputError, match=r"unknown genre 'Space Opera': use one of Comedy, Sci-Fi"):
        canonical_genre("Space Opera", ["Sci-Fi", "Comedy"])


@pytest.mark.parametrize("sort", MOVIE_SORTS)
def test_browse_sorts_filters_and_pages(session: Session, ml_slice: Slice, sort: str) -> None:
    movies = ml_slice.movies
    in_genre = movies[movies["genres"].map(lambda gs: "Comedy" in gs) & movies["year"].between(1990, 1995)]
    first = browse_movies(session, genre="comedy", year_min=1990, year_max=1995, sort=sort, per_page=7)
    second = browse_movies(session, genre="Comedy", year_min=1990, year_max=1995, sort=sort, page=2, per_page=7)
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
        browse_movies(session, sort="random")
    with pytest.raises(InvalidInputError, match=r"unknown genre 'Space Opera'.*Comedy"):
        browse_movies(session, genre="Space Opera")
    with pytest.raises(InvalidInputError, match="per_page"):
        browse_movies(session, per_page=1000)
    with pytest.raises(InvalidInputError, match="year_min"):
        browse_movies(session, year_min=2000, year_max=1990)
    with pytest.raises(InvalidInputError, match="page must be"):
        browse_movies(session, page=10**20)
    assert browse_movies(session, page=10_000).items == []
