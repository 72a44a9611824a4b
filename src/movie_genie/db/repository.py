"""The queries the API needs: small typed functions that take a Session and return plain frozen dataclasses.

Reads never touch more rows than the answer needs (paging in SQL, one grouped query per page for stats, no N+1).
Writes (`create_user`, `add_feedback`) validate everything first, then commit; on any error they roll back, so
nothing is ever half-written. Errors are MovieGenieError subclasses from db/errors.py (NotFoundError -> 404,
InvalidInputError -> 400, DatabaseUnavailableError -> 503).

Live ratings: a user's latest 'rating' feedback on a movie replaces their data set rating of it (if any) in every
count and mean computed here. Browse sort keys (popularity, rating) are the data set's, precomputed by `db load`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar, cast, get_args

from sqlalchemy import (
    ColumnElement,
    Connection,
    Subquery,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from movie_genie.data.liking import LIKED_MIN_RATING, is_disliked_rating
from movie_genie.db import profiles, taste, user_search
from movie_genie.db.engine import describe_url
from movie_genie.db.errors import (
    DatabaseUnavailableError,
    InvalidFeedbackError,
    InvalidInputError,
    MovieNotFoundError,
    UserNotFoundError,
)
from movie_genie.db.models import (
    FEEDBACK_KINDS,
    MAX_ID,
    MAX_RATING,
    MIN_ID,
    MIN_RATING,
    TOP_GENRES,
    FeedbackEvent,
    LoadState,
    Movie,
    MovieGenre,
    Rating,
    User,
    utcnow,
)
from movie_genie.db.taste import Trait

T = TypeVar("T")
# Marks that exclude each other: setting one deletes the other.
_OPPOSITE = {"like": "dislike", "dislike": "like"}
# How the catalogue can be browsed (the API's `sort` values are these).
MovieSort = Literal["popularity", "rating", "year", "title"]
MOVIE_SORTS: tuple[str, ...] = get_args(MovieSort)
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps OFFSET within 64-bit integers on every backend
MAX_RECENT = 200
MAX_LIKED_MOVIES = 200
MAX_DISPLAY_NAME = 100
_SIGN_UP_ATTEMPTS = 20
_IN_CHUNK = 900  # ids per IN (...) list: well under SQLite's bound-parameter limit


# --- results -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the total number of matches."""

    items: list[T]
    total: int
    page: int
    per_page: int


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
class MovieDetail:
    """Everything known about a movie, with live rating figures."""

    movie_id: int
    title: str
    year: int | None
    genres: list[str]
    poster_path: str | None
    rating_count: int
    rating_mean: float | None
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
class TasteProfile:
    """What describes a user to people: distinctive genres and tags (db/taste.py), their highest-rated films
    (movie ids, best first) and when they rated first and last."""

    taste: list[Trait] = dataclasses.field(default_factory=list)
    favourite_ids: list[int] = dataclasses.field(default_factory=list)
    first_rated_at: datetime | None = None
    last_rated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A row of the user list."""

    user_id: int
    source: str
    display_name: str
    rating_count: int
    top_genres: list[str]
    profile: TasteProfile = dataclasses.field(default_factory=TasteProfile)


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One thing a user did: a data set rating (source 'dataset') or an app feedback event (source 'app')."""

    movie_id: int
    title: str
    kind: str
    value: float | None
    at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class UserDetail:
    """A user's profile, counts, top genres and most recent activity (newest first)."""

    user_id: int
    source: str
    display_name: str
    age: int | None
    gender: str | None
    occupation: str | None
    zip_code: str | None
    created_at: datetime
    rating_count: int
    like_count: int
    dislike_count: int
    watched_count: int
    top_genres: list[str]
    recent: list[HistoryItem]
    profile: TasteProfile = dataclasses.field(default_factory=TasteProfile)


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
    rating_source: str | None = None  # 'dataset' or 'app'
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


@dataclass(frozen=True, slots=True)
class CatalogueMetadata:
    """How many movies there are and how many have a plot summary and a poster."""

    movies: int
    with_overview: int
    with_poster: int


# --- health --------------------------------------------------------------------------------------------------------


def ping(session: Session) -> None:
    """Run SELECT 1; raise DatabaseUnavailableError when the database does not answer."""
    try:
        session.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        url = describe_url(session.get_bind().engine.url)
        raise DatabaseUnavailableError(f"database {url} does not answer: {exc.orig}") from exc


# --- movies --------------------------------------------------------------------------------------------------------


def movie_stats(session: Session, movie_ids: Iterable[int]) -> dict[int, MovieStats]:
    """Live count and mean rating per id: count 0 and mean None when unrated or unknown (out-of-range ids left out)."""
    ids = sorted(set(_storable(movie_ids)))
    base: dict[int, tuple[int, float | None]] = {}
    for chunk in _chunks(ids):
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
    for chunk in _chunks(list(ids)):
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
        for pairs in _chunks(sorted(latest)):
            replaced = session.execute(
                select(Rating.movie_id, Rating.rating).where(tuple_(Rating.user_id, Rating.movie_id).in_(pairs))
            )
            for movie_id, rating in replaced:
                count[movie_id] -= 1
                total[movie_id] -= float(rating)
    return {m: MovieStats(m, count[m], round(total[m] / count[m], 4) if count[m] else None) for m in ids}


def get_movie(session: Session, movie_id: int) -> MovieDetail:
    """Every column of one movie with live rating figures; MovieNotFoundError if the id is unknown."""
    movie = session.get(Movie, int(movie_id)) if _storable([movie_id]) else None
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
    ids = list(dict.fromkeys(_storable(movie_ids)))
    rows: list[Any] = []
    for chunk in _chunks(ids):
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
    _check_paging(page, per_page)
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


# --- users ---------------------------------------------------------------------------------------------------------


_USER_COLUMNS = (
    User.user_id,
    User.source,
    User.display_name,
    User.rating_count,
    User.top_genres,
    User.taste,
    User.favourite_movie_ids,
    User.first_rated_at,
    User.last_rated_at,
)


def list_users(session: Session, page: int = 1, per_page: int = 20, query: str | None = None) -> Page[UserSummary]:
    """Users matching `query`, with per-user stats and taste. A number matches that user id exactly (and the names
    people gave app users), never every id containing its digits; the exact id comes first. Words match names,
    occupations, distinctive genres/tags and favourite films' titles, best match first (db/user_search.py: more
    words matched, then a name match, then the most distinctive taste term, then id)."""
    _check_paging(page, per_page)
    stmt = select(*_USER_COLUMNS)
    order: list[Any] = [User.user_id]
    if query is not None and query.strip():
        q = " ".join(query.split())
        if q.isascii() and q.isdigit():  # not '³' or '①': str.isdigit accepts them, int() does not
            # MovieLens users are named "MovieLens user N": matching digits in names would match ids by substring.
            named = User.display_name.ilike("%" + _escape_like(q) + "%", escape="\\")
            conditions: list[ColumnElement[bool]] = [(User.source == "app") & named]
            exact: ColumnElement[bool] = literal(False)
            if len(q) < 10 and MIN_ID <= int(q) <= MAX_ID:
                exact = User.user_id == int(q)
                conditions.append(exact)
            stmt = stmt.where(or_(*conditions))
            order = [case((exact, 0), else_=1), User.user_id]
        else:
            search = user_search.word_search(session.get_bind().dialect.name, q)
            stmt = stmt.where(search.where)
            order = search.order
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    stats, profiles = _user_stats(session, rows), _profiles(session, rows)
    items = [UserSummary(r.user_id, r.source, r.display_name, *stats[r.user_id], profiles[r.user_id]) for r in rows]
    return Page(items, int(total), page, per_page)


def users_by_id(session: Session, user_ids: Sequence[int]) -> dict[int, UserSummary]:
    """The users of these ids (unknown ids left out) with stats and taste, as the user list shows them."""
    rows = [
        row
        for chunk in _chunks(_storable(user_ids))
        for row in session.execute(select(*_USER_COLUMNS).where(User.user_id.in_(chunk)))
    ]
    stats, profiles = _user_stats(session, rows), _profiles(session, rows)
    return {
        r.user_id: UserSummary(r.user_id, r.source, r.display_name, *stats[r.user_id], profiles[r.user_id])
        for r in rows
    }


def _escape_like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def user_ratings(session: Session, user_id: int, page: int = 1, per_page: int = 20) -> Page[HistoryItem]:
    """Every film the user rated with their rating, newest first, paged: app ratings (always newer) first, then the
    data set's ratings of the other films (an app rating replaces the data set's). UserNotFoundError if absent."""
    _check_paging(page, per_page)
    _require_user(session, user_id)
    app_filter = (FeedbackEvent.user_id == user_id, FeedbackEvent.kind == "rating")
    n_app = session.execute(select(func.count()).select_from(FeedbackEvent).where(*app_filter)).scalar_one()
    overridden = exists().where(
        FeedbackEvent.user_id == Rating.user_id,
        FeedbackEvent.movie_id == Rating.movie_id,
        FeedbackEvent.kind == "rating",
    )
    data_filter = (Rating.user_id == user_id, ~overridden)
    n_data = session.execute(select(func.count()).select_from(Rating).where(*data_filter)).scalar_one()
    offset = (page - 1) * per_page
    items: list[HistoryItem] = []
    if offset < n_app:
        events = session.execute(
            select(FeedbackEvent.movie_id, Movie.title, FeedbackEvent.value, FeedbackEvent.created_at)
            .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
            .where(*app_filter)
            .order_by(FeedbackEvent.id.desc())
            .offset(offset)
            .limit(per_page)
        )
        items = [HistoryItem(m, t, "rating", float(v or 0.0), _aware(at), "app") for m, t, v, at in events]
    if len(items) < per_page:
        ratings = session.execute(
            select(Rating.movie_id, Movie.title, Rating.rating, Rating.timestamp)
            .join(Movie, Movie.movie_id == Rating.movie_id)
            .where(*data_filter)
            .order_by(Rating.seq.desc())
            .offset(max(0, offset - n_app))
            .limit(per_page - len(items))
        )
        items.extend(
            HistoryItem(m, t, "rating", float(v), datetime.fromtimestamp(ts, tz=UTC), "dataset")
            for m, t, v, ts in ratings
        )
    return Page(items, int(n_app) + int(n_data), page, per_page)


def taste_neighbours(session: Session, user_id: int, k: int = 10) -> list[tuple[int, float]]:
    """Users who share the most of this user's distinctive genres and tags (Jaccard of the trait names), best
    first, without the user; the fallback of "people with similar taste" when no model can answer."""
    profile = _profiles(session, [_require_user(session, user_id)])[user_id]
    names = {t.name.lower() for t in profile.taste}
    if not names:
        return []
    conditions = [User.taste_terms.like("%|" + _escape_like(n) + "|%", escape="\\") for n in names]
    rows = session.execute(
        select(User.user_id, User.taste_terms).where(User.user_id != user_id, or_(*conditions)).limit(5000)
    )
    scored = []
    for other, terms in rows:
        theirs = {t for t in (terms or "").split("|") if t}
        scored.append((int(other), len(names & theirs) / len(names | theirs)))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:k]


def get_user(session: Session, user_id: int, recent: int = 20) -> UserDetail:
    """A user's profile, counts by kind, top genres and `recent` latest history items; UserNotFoundError if absent."""
    if not 0 <= recent <= MAX_RECENT:
        raise InvalidInputError(f"recent must be 0..{MAX_RECENT}, got {recent}")
    user = _require_user(session, user_id)
    rating_count, top_genres = _user_stats(session, [user])[user.user_id]
    profile = _profiles(session, [user])[user.user_id]
    kinds = dict(
        session.execute(
            select(FeedbackEvent.kind, func.count())
            .where(FeedbackEvent.user_id == user.user_id)
            .group_by(FeedbackEvent.kind)
        ).all()
    )
    return UserDetail(
        user_id=user.user_id,
        source=user.source,
        display_name=user.display_name,
        age=user.age,
        gender=user.gender,
        occupation=user.occupation,
        zip_code=user.zip_code,
        created_at=_aware(user.created_at),
        rating_count=rating_count,
        like_count=int(kinds.get("like", 0)),
        dislike_count=int(kinds.get("dislike", 0)),
        watched_count=int(kinds.get("watched", 0)),
        top_genres=top_genres,
        recent=_recent(session, user.user_id, recent),
        profile=profile,
    )


def user_owner(session: Session, user_id: int) -> tuple[str, str | None] | None:
    """A user's source ('movielens' or 'app') and secret hash, or None for an unknown id."""
    row = session.execute(select(User.source, User.secret_hash).where(User.user_id == user_id)).first()
    return None if row is None else (str(row.source), row.secret_hash)


def set_secret_hash(session: Session, user_id: int, secret_hash: str) -> None:
    """Replace an app user's secret hash (a new secret handed over) and commit; UserNotFoundError if absent."""
    _require_user(session, user_id).secret_hash = secret_hash
    _commit(session)


def create_user(
    session: Session, display_name: str, liked_movie_ids: Sequence[int] = (), *, secret_hash: str | None = None
) -> UserDetail:
    """Create an app user (id above every existing id) with their liked movies stored as 'like' feedback; commit.
    `secret_hash` is the hash of the owner's bearer secret (the secret itself is never stored)."""
    name = " ".join(str(display_name).split())
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidInputError(f"display_name must have 1 to {MAX_DISPLAY_NAME} characters, got {len(name)}")
    liked = list(dict.fromkeys(int(m) for m in liked_movie_ids))
    if len(liked) > MAX_LIKED_MOVIES:
        raise InvalidInputError(f"at most {MAX_LIKED_MOVIES} liked movies, got {len(liked)}")
    _require_movies(session, liked)
    for attempt in range(_SIGN_UP_ATTEMPTS):
        # Above every id so far (MovieLens ids and deleted profiles' included). Another worker may take the same id
        # between our read and our insert: then the primary key refuses ours and we try the next one.
        user_id = profiles.next_user_id(session)
        try:
            now = utcnow()
            session.add(User(user_id=user_id, source="app", display_name=name, created_at=now, secret_hash=secret_hash))
            session.flush()
            session.add_all(
                FeedbackEvent(user_id=user_id, movie_id=m, kind="like", value=None, created_at=now) for m in liked
            )
            if liked:
                _refresh_taste_terms(session, user_id)
            _commit(session)
        except IntegrityError:
            session.rollback()
            if session.get(User, user_id) is None:
                raise  # not a lost race for the id: a real constraint violation
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # de-synchronise the contenders
            continue
        except BaseException:
            session.rollback()
            raise
        return get_user(session, user_id)
    raise DatabaseUnavailableError(
        f"could not allocate a new user id after {_SIGN_UP_ATTEMPTS} attempts (heavy concurrent sign-ups); try again"
    )


def user_history(session: Session, user_id: int) -> UserHistory:
    """The user's interactions in time order for recommenders: data set ratings, then app ratings/likes/watched.

    A movie appears once, at its latest interaction. A dislike, or a rating that says the person disliked the film
    (data.liking), removes the movie from the interactions and lists it in `disliked` until a later liking mark.
    """
    _require_user(session, user_id)
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


@dataclass(frozen=True)
class FeedbackRow:
    """One stored app mark, as `movie-genie retrain` folds it into the training data."""

    user_id: int
    movie_id: int
    kind: str
    value: float | None
    created_at: datetime


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
        yield FeedbackRow(int(user_id), int(movie_id), str(kind), value, _aware(created_at))


def user_marks(session: Session, user_id: int) -> UserMarks:
    """Every film the user rated (data set or app), liked, disliked, watched or dismissed, oldest first; two
    indexed queries. UserNotFoundError if the user is unknown."""
    _require_user(session, user_id)
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
    _require_user(session, user_id)
    _require_movies(session, [movie_id])
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


# --- feedback ------------------------------------------------------------------------------------------------------


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
    _require_user(session, user_id)
    title = _require_movies(session, [movie_id])[int(movie_id)]
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
        _refresh_taste_terms(session, int(user_id))
        _commit(session)
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
    _require_user(session, user_id)
    _require_movies(session, [movie_id])
    try:
        result = session.execute(
            delete(FeedbackEvent).where(
                FeedbackEvent.user_id == int(user_id),
                FeedbackEvent.movie_id == int(movie_id),
                FeedbackEvent.kind == kind,
            )
        )
        _refresh_taste_terms(session, int(user_id))
        _commit(session)
    except BaseException:
        session.rollback()
        raise
    return int(getattr(result, "rowcount", 0) or 0)


def _refresh_taste_terms(session: Session, user_id: int) -> None:
    """Recompute the user's `taste_terms` (what the user search and taste neighbours match) from their history as
    this transaction leaves it, so a like or rating is reflected there at the same commit as the event itself."""
    session.flush()  # the new event (or the deletion) must be visible to the queries below
    profile = _live_profiles(session, [user_id])[user_id]
    _require_user(session, user_id).taste_terms = taste.terms(profile.taste)


def _feedback(event: FeedbackEvent, title: str, *, created: bool) -> Feedback:
    return Feedback(
        event.id, event.user_id, event.movie_id, title, event.kind, event.value, _aware(event.created_at), created
    )


def list_feedback(session: Session, user_id: int, limit: int = 100) -> list[Feedback]:
    """The user's feedback events, newest first (at most `limit`); UserNotFoundError if the user is unknown."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit must be 1..1000, got {limit}")
    _require_user(session, user_id)
    rows = session.execute(
        select(FeedbackEvent, Movie.title)
        .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id.desc())
        .limit(limit)
    )
    return [Feedback(e.id, e.user_id, e.movie_id, title, e.kind, e.value, _aware(e.created_at)) for e, title in rows]


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


# --- helpers -------------------------------------------------------------------------------------------------------


def _commit(session: Session) -> None:
    """Commit; a database that stays locked or drops the connection becomes DatabaseUnavailableError (503)."""
    try:
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise DatabaseUnavailableError(
            f"the database could not store the change ({str(exc.orig).strip()}); try again in a moment"
        ) from exc


def _check_paging(page: int, per_page: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInputError(f"page must be 1..{MAX_PAGE}, got {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInputError(f"per_page must be 1..{MAX_PER_PAGE}, got {per_page}")


def _storable(ids: Iterable[int]) -> list[int]:
    """The ids that fit the INTEGER id columns; others cannot exist (and would overflow the driver)."""
    return [i for i in (int(x) for x in ids) if MIN_ID <= i <= MAX_ID]


def _require_user(session: Session, user_id: int) -> User:
    user = session.get(User, int(user_id)) if _storable([user_id]) else None
    if user is None:
        raise UserNotFoundError(f"user {user_id} does not exist: pick one from GET /api/users or create one")
    return user


def _require_movies(session: Session, movie_ids: Sequence[int]) -> dict[int, str]:
    """Titles of the ids; MovieNotFoundError listing the unknown ones."""
    titles: dict[int, str] = {}
    for chunk in _chunks(_storable(movie_ids)):
        titles.update(session.execute(select(Movie.movie_id, Movie.title).where(Movie.movie_id.in_(chunk))).all())
    missing = [m for m in movie_ids if int(m) not in titles]
    if missing:
        raise MovieNotFoundError(f"movie ids not in the catalogue: {missing[:10]}")
    return titles


def _interactions(user_ids: list[int], *, ratings_only: bool = False) -> Subquery:
    """Distinct (user_id, movie_id) pairs: the users' data set ratings plus their app feedback on other movies
    (ratings only, or every kind but dislikes and dismissals). UNION ALL with NOT EXISTS: no sort to deduplicate
    the big side."""
    kind = FeedbackEvent.kind == "rating" if ratings_only else FeedbackEvent.kind.not_in(("dislike", "dismiss"))
    app = (
        select(FeedbackEvent.user_id, FeedbackEvent.movie_id)
        .where(
            FeedbackEvent.user_id.in_(user_ids),
            kind,
            ~exists().where(Rating.user_id == FeedbackEvent.user_id, Rating.movie_id == FeedbackEvent.movie_id),
        )
        .distinct()
    )
    return union_all(select(Rating.user_id, Rating.movie_id).where(Rating.user_id.in_(user_ids)), app).subquery()


def _top_genres(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """The TOP_GENRES most frequent genres among each user's interactions (ties by name), one grouped query."""
    if not user_ids:
        return {}
    pairs = _interactions(user_ids)
    n = func.count().label("n")
    result = session.execute(
        select(pairs.c.user_id, MovieGenre.genre, n)
        .join(MovieGenre, MovieGenre.movie_id == pairs.c.movie_id)
        .group_by(pairs.c.user_id, MovieGenre.genre)
    )
    # Ties by code point in Python: SQL collations differ (PostgreSQL's locale order is not SQLite's nor pandas').
    rows = sorted(result, key=lambda r: (r[0], -r[2], r[1]))
    top: dict[int, list[str]] = defaultdict(list)
    for user_id, genre, _ in rows:
        if len(top[user_id]) < TOP_GENRES:
            top[user_id].append(genre)
    return dict(top)


def _user_stats(session: Session, users: Sequence[Any]) -> dict[int, tuple[int, list[str]]]:
    """(number of ratings, top genres) per user row: stored by `db load` for users without app feedback, computed
    live (two grouped queries for the whole page) for the others and wherever nothing is stored yet."""
    ids = [u.user_id for u in users]
    with_feedback = set(
        session.execute(select(FeedbackEvent.user_id).where(FeedbackEvent.user_id.in_(ids)).distinct()).scalars()
    )
    stats = {
        u.user_id: (int(u.rating_count), list(u.top_genres))
        for u in users
        if u.user_id not in with_feedback and u.rating_count is not None and u.top_genres is not None
    }
    live = [i for i in ids if i not in stats]
    counts, genres = _rating_counts(session, live), _top_genres(session, live)
    stats.update({i: (counts.get(i, 0), genres.get(i, [])) for i in live})
    return stats


def taste_of(session: Session, user_id: int) -> list[Trait]:
    """The user's distinctive genres and tags, as their profile shows them; UserNotFoundError if absent."""
    user = _require_user(session, user_id)
    return _profiles(session, [user])[user.user_id].taste


def _profiles(session: Session, users: Sequence[Any]) -> dict[int, TasteProfile]:
    """Taste, favourites and activity per user row: stored by `db load` for users without app feedback, computed
    live (db/taste.py, on the population stored by the load) for the others."""
    ids = [u.user_id for u in users]
    with_feedback = set(
        session.execute(select(FeedbackEvent.user_id).where(FeedbackEvent.user_id.in_(ids)).distinct()).scalars()
    )
    found = {
        u.user_id: TasteProfile(
            [Trait.from_json(t) for t in u.taste],
            [int(m) for m in u.favourite_movie_ids or []],
            _aware(u.first_rated_at) if u.first_rated_at else None,
            _aware(u.last_rated_at) if u.last_rated_at else None,
        )
        for u in users
        if u.user_id not in with_feedback and u.taste is not None
    }
    live = [i for i in ids if i not in found]
    if live:
        found.update(_live_profiles(session, live))
    return found


def _live_profiles(session: Session, user_ids: list[int]) -> dict[int, TasteProfile]:
    """TasteProfile from the users' ratings and app marks: the latest app rating replaces the data set's, likes
    count as liked films, a dislike or "not interested" takes a film out of what describes them."""
    ratings: dict[int, dict[int, float]] = defaultdict(dict)
    liked: dict[int, dict[int, None]] = defaultdict(dict)
    moments: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(user_ids):
        for u, m, r, ts in session.execute(
            select(Rating.user_id, Rating.movie_id, Rating.rating, Rating.timestamp).where(Rating.user_id.in_(chunk))
        ):
            ratings[u][m] = float(r)
            moments[u].append(datetime.fromtimestamp(ts, tz=UTC))
        events = session.execute(
            select(FeedbackEvent.user_id, FeedbackEvent.movie_id, FeedbackEvent.kind, FeedbackEvent.value)
            .add_columns(FeedbackEvent.created_at)
            .where(FeedbackEvent.user_id.in_(chunk))
            .order_by(FeedbackEvent.id)
        )
        for u, m, kind, value, at in events:
            moments[u].append(_aware(at))
            if kind == "rating" and value is not None:
                ratings[u][m] = float(value)
            elif kind == "like":
                liked[u][m] = None
            elif kind in ("dislike", "dismiss"):
                liked[u].pop(m, None)
                if ratings[u].get(m, 0.0) >= LIKED_MIN_RATING:
                    ratings[u].pop(m)
    bases = {u: taste.basis(ratings[u], liked[u]) for u in user_ids}
    wanted = sorted({m for u in user_ids for m in [*bases[u], *ratings[u]]})
    labels: dict[int, tuple[list[str], list[str], int]] = {}
    for chunk in _chunks(wanted):
        for m, genres, tags, count in session.execute(
            select(Movie.movie_id, Movie.genres, Movie.tags, Movie.rating_count).where(Movie.movie_id.in_(chunk))
        ):
            labels[int(m)] = (list(genres or []), list(tags or []), int(count or 0))
    stored = session.execute(select(LoadState.value).where(LoadState.key == taste.POPULATION_KEY)).scalar()
    pop = taste.Population.from_json(json.loads(stored)) if stored else taste.Population({}, {})
    profiles: dict[int, TasteProfile] = {}
    for u in user_ids:
        genre_counts: dict[str, int] = defaultdict(int)
        tag_counts: dict[str, int] = defaultdict(int)
        for m in bases[u]:
            genres, tags, _ = labels.get(m, ([], [], 0))
            for g in set(genres):
                genre_counts[g] += 1
            for t in set(tags):
                tag_counts[t] += 1
        popularity = {m: labels.get(m, ([], [], 0))[2] for m in ratings[u]}
        # The best-rated liked films, then (when fewer) the films marked liked, latest first.
        rated = taste.favourites(ratings[u], popularity)
        favourites = [*rated, *(m for m in reversed(liked[u]) if m not in rated)][: taste.FAVOURITES]
        profiles[u] = TasteProfile(
            taste.distinctive(len(bases[u]), genre_counts, tag_counts, pop),
            favourites,
            min(moments[u]) if moments[u] else None,
            max(moments[u]) if moments[u] else None,
        )
    return profiles


def _rating_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    """Number of distinct movies each user rated (data set ratings plus app ratings of other movies)."""
    if not user_ids:
        return {}
    rated = _interactions(user_ids, ratings_only=True)
    rows = session.execute(select(rated.c.user_id, func.count()).group_by(rated.c.user_id))
    return {int(u): int(n) for u, n in rows}


def _recent(session: Session, user_id: int, limit: int) -> list[HistoryItem]:
    """The latest `limit` history items, newest first: app events (always newer) before data set ratings."""
    if limit <= 0:
        return []
    events = session.execute(
        select(FeedbackEvent.movie_id, Movie.title, FeedbackEvent.kind, FeedbackEvent.value, FeedbackEvent.created_at)
        .join(Movie, Movie.movie_id == FeedbackEvent.movie_id)
        .where(FeedbackEvent.user_id == user_id)
        .order_by(FeedbackEvent.id.desc())
        .limit(limit)
    )
    items = [HistoryItem(m, t, k, v, _aware(at), "app") for m, t, k, v, at in events]
    if len(items) < limit:
        ratings = session.execute(
            select(Rating.movie_id, Movie.title, literal("rating"), Rating.rating, Rating.timestamp)
            .join(Movie, Movie.movie_id == Rating.movie_id)
            .where(Rating.user_id == user_id)
            .order_by(Rating.seq.desc())
            .limit(limit - len(items))
        )
        items.extend(
            HistoryItem(m, t, "rating", float(v), datetime.fromtimestamp(ts, tz=UTC), "dataset")
            for m, t, _, v, ts in ratings
        )
    return items


def _aware(moment: datetime) -> datetime:
    """Timezone-aware UTC: SQLite returns naive datetimes (stored as UTC), psycopg the session's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(items: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield list(items[start : start + _IN_CHUNK])
