"""The catalogue: a film's details, cards for many ids, genres, browsing (filter, sort, page) and live rating figures.

Live ratings: a user's latest 'rating' feedback on a movie replaces their data set rating of it (if any) in every
count and mean computed here. Browse sort keys (popularity, rating) are the data set's, precomputed by `db load`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from movie_genie.db.errors import InvalidInputError, MovieNotFoundError
from movie_genie.db.models import FeedbackEvent, Movie, MovieGenre, Rating
from movie_genie.db.queries import Page, check_paging, chunks, storable

# How the catalogue can be browsed (the API's `sort` values are these).
MovieSort = Literal["popularity", "rating", "year", "title"]
MOVIE_SORTS: tuple[str, ...] = get_args(MovieSort)


@dataclass(frozen=True, slots=True)
class MovieStats:
    """Live rating figures of one movie: data set ratings with each user's latest app rating taking precedence."""

    movie_id: int
    rating_count: int
    rating_mean: float | None


@dataclass(frozen=True, slots=True)
class MovieSummary:
    """What a movie card shows."""

    movie_id: int
    title: str
    year: int | None
    genres: list[str]
    poster_path: str | None
    rating_count: int
    rating_mean: float | None


@dataclass(frozen=True, slots=True)
class MovieDetail(MovieSummary):
    """Everything known about a movie (its card's fields first), with live rating figures."""

    overview: str | None
    tagline: str | None
    keywords: list[str]
    cast: list[str]
    directors: list[str]
    runtime: int | None
    language: str | None
    imdb_id: str | None
    tmdb_id: int | None
    tags: list[str]  # the data set's most frequent user tags, most frequent first


@dataclass(frozen=True, slots=True)
class GenreCount:
    """A genre and how many movies have it."""

    genre: str
    count: int


@dataclass(frozen=True, slots=True)
class CatalogueMetadata:
    """How many movies there are and how many have a plot summary and a poster."""

    movies: int
    with_overview: int
    with_poster: int


def movie_stats(session: Session, movie_ids: Iterable[int]) -> dict[int, MovieStats]:
    """Live count and mean rating per id: count 0 and mean None when unrated or unknown (out-of-range ids left out)."""
    ids = sorted(set(storable(movie_ids)))
    base: dict[int, tuple[int, float | None]] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(Movie.movie_id, Movie.rating_count, Movie.rating_mean).where(Movie.movie_id.in_(chunk))
        )
        base.update((m, (n, mean)) for m, n, mean in rows)
    return _live_stats(session, ids, base)


def _live_stats(
    session: Session, ids: Sequence[int], base: dict[int, tuple[int, float | None]]
) -> dict[int, MovieStats]:
    """The data set aggregates stored by `db load` (count, mean per movie), adjusted by the app's ratings.

    Only the movies' few feedback events are read, never their data set ratings, so a page of 100 movies costs
    two small indexed queries however many ratings those movies have.
    """
    count: dict[int, int] = defaultdict(int)
    total: dict[int, float] = defaultdict(float)
    for movie_id, (n, mean) in base.items():
        count[movie_id] = int(n)
        total[movie_id] = float(mean or 0.0) * int(n)
    for chunk in chunks(list(ids)):
        # Each user's latest app rating of a movie (events in id order: later ones overwrite earlier ones).
        latest: dict[tuple[int, int], float] = {}
        events = session.execute(
            select(FeedbackEvent.user_id, FeedbackEvent.movie_id, FeedbackEvent.value)
            .where(FeedbackEvent.kind == "rating", FeedbackEvent.movie_id.in_(chunk))
            .order_by(FeedbackEvent.id)
        )
        for user_id, movie_id, value in events:
            latest[(user_id, movie_id)] = float(cast(float, value))  # never NULL for kind 'rating' (check constraint)
        for (_, movie_id), value in latest.items():
            count[movie_id] += 1
            total[movie_id] += value
        # ... replacing that user's data set rating of the movie, if there is one.
        for pairs in chunks(sorted(latest)):
            replaced = session.execute(
                select(Rating.movie_id, Rating.rating).where(tuple_(Rating.user_id, Rating.movie_id).in_(pairs))
            )
            for movie_id, rating in replaced:
                count[movie_id] -= 1
                total[movie_id] -= float(rating)
    return {m: MovieStats(m, count[m], round(total[m] / count[m], 4) if count[m] else None) for m in ids}


def get_movie(session: Session, movie_id: int) -> MovieDetail:
    """Every column of one movie with live rating figures; MovieNotFoundError if the id is unknown."""
    movie = session.get(Movie, int(movie_id)) if storable([movie_id]) else None
    if movie is None:
        raise MovieNotFoundError(f"movie {movie_id} is not in the catalogue")
    stats = _live_stats(session, [movie.movie_id], {movie.movie_id: (movie.rating_count, movie.rating_mean)})[
        movie.movie_id
    ]
    return MovieDetail(
        movie_id=movie.movie_id,
        title=movie.title,
        year=movie.year,
        genres=list(movie.genres or []),
        poster_path=movie.poster_path,
        rating_count=stats.rating_count,
        rating_mean=stats.rating_mean,
        overview=movie.overview,
        tagline=movie.tagline,
        keywords=list(movie.keywords or []),
        cast=list(movie.cast or []),
        directors=list(movie.directors or []),
        runtime=movie.runtime,
        language=movie.language,
        imdb_id=movie.imdb_id,
        tmdb_id=movie.tmdb_id,
        tags=list(movie.tags or []),
    )


# What a film card shows (MovieSummary's fields), as stored by `db load`.
_CARD_COLUMNS = (
    Movie.movie_id,
    Movie.title,
    Movie.year,
    Movie.genres,
    Movie.poster_path,
    Movie.rating_count,
    Movie.rating_mean,
)


def get_movies(session: Session, movie_ids: Iterable[int]) -> dict[int, MovieSummary]:
    """Summaries for many ids in a few queries (e.g. a recommendation list); unknown ids are left out."""
    ids = list(dict.fromkeys(storable(movie_ids)))
    rows: list[Any] = []
    for chunk in chunks(ids):
        rows.extend(session.execute(select(*_CARD_COLUMNS).where(Movie.movie_id.in_(chunk))))
    stats = _live_stats(
        session, [r.movie_id for r in rows], {r.movie_id: (r.rating_count, r.rating_mean) for r in rows}
    )
    by_id = {
        r.movie_id: MovieSummary(
            r.movie_id,
            r.title,
            r.year,
            list(r.genres or []),
            r.poster_path,
            stats[r.movie_id].rating_count,
            stats[r.movie_id].rating_mean,
        )
        for r in rows
    }
    return {m: by_id[m] for m in ids if m in by_id}


def list_genres(session: Session) -> list[GenreCount]:
    """Every genre with its number of movies, most common first."""
    rows = session.execute(select(MovieGenre.genre, func.count()).group_by(MovieGenre.genre))
    # Ties by code point in Python, identical on every backend (SQL collations differ).
    return [GenreCount(genre, int(count)) for genre, count in sorted(rows, key=lambda r: (-r[1], r[0]))]


def canonical_genre(genre: str, known: Iterable[str]) -> str:
    """The catalogue's spelling of `genre` among the `known` genres (matched case-insensitively, spaces around
    ignored); InvalidInputError listing the known ones otherwise."""
    spelling = {g.lower(): g for g in known}
    found = spelling.get(genre.strip().lower())
    if found is None:
        raise InvalidInputError(f"unknown genre {genre!r}: use one of {', '.join(sorted(spelling.values()))}")
    return found


def catalogue_cards(session: Session) -> list[MovieSummary]:
    """Every movie's card with the data set's rating figures (as `db load` stored them, mean to 3 decimals): what
    the API keeps in memory. One query over the movies table."""
    rows = session.execute(select(*_CARD_COLUMNS))
    return [
        MovieSummary(
            movie_id=int(r.movie_id),
            title=r.title,
            year=r.year,
            genres=list(r.genres or []),
            poster_path=r.poster_path,
            rating_count=int(r.rating_count or 0),
            rating_mean=None if r.rating_mean is None else round(float(r.rating_mean), 3),
        )
        for r in rows
    ]


def count_movies(session: Session) -> int:
    """The number of movies in the catalogue (a query on the movies table: the database's answer, not a cache's)."""
    return int(session.execute(select(func.count()).select_from(Movie)).scalar_one())


def catalogue_metadata(session: Session) -> CatalogueMetadata:
    """Count the movies with a plot summary and with a poster, in one query."""
    movies, overviews, posters = session.execute(
        select(func.count(), func.count(Movie.overview), func.count(Movie.poster_path))
    ).one()
    return CatalogueMetadata(int(movies), int(overviews), int(posters))


def browse_movies(
    session: Session,
    *,
    genre: str | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    sort: str = "popularity",
    page: int = 1,
    per_page: int = 20,
) -> Page[MovieSummary]:
    """Filter by genre (case-insensitive) and year range, sort by popularity/rating/year/title, one page."""
    check_paging(page, per_page)
    if sort not in MOVIE_SORTS:
        raise InvalidInputError(f"unknown sort {sort!r}: use one of {', '.join(MOVIE_SORTS)}")
    if year_min is not None and year_max is not None and year_min > year_max:
        raise InvalidInputError(f"year_min {year_min} is after year_max {year_max}")
    query = select(Movie.movie_id)
    if genre is not None:
        spelling = canonical_genre(genre, (g.genre for g in list_genres(session)))
        in_genre = select(MovieGenre.movie_id).where(MovieGenre.genre == spelling)
        query = query.where(Movie.movie_id.in_(in_genre))
    if year_min is not None:
        query = query.where(Movie.year >= year_min)
    if year_max is not None:
        query = query.where(Movie.year <= year_max)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    orders: dict[str, tuple[Any, ...]] = {
        "popularity": (Movie.rating_count.desc(), Movie.movie_id),
        "rating": (Movie.rating_score.desc().nulls_last(), Movie.movie_id),
        "year": (Movie.year.desc().nulls_last(), Movie.movie_id),
        "title": (Movie.title, Movie.movie_id),
    }
    order = orders[sort]
    ids = session.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).scalars().all()
    movies = get_movies(session, ids)
    return Page([movies[m] for m in ids], int(total), page, per_page)
