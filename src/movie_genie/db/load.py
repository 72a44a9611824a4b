"""`movie-genie db load`: the processed Parquet tables into the database, idempotently and in one transaction.

The data set's rows (movies, MovieLens users, ratings) are upserted or replaced; app users and feedback events are
never touched. A fingerprint of the input is stored in `load_state`, so a second run with the same files changes
nothing and returns at once; `force=True` rewrites everything and yields the very same rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Connection, Engine, delete, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError as SQLDataError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import AddConstraint, DropConstraint
from tqdm import tqdm

from movie_genie.data.schema import DATASET_INFO_FILE, METADATA_COLUMNS, MOVIE_COLUMNS, RATING_COLUMNS
from movie_genie.data.tags import top_tags
from movie_genie.db import migrate, taste
from movie_genie.db.aggregates import with_rating_aggregates, with_user_aggregates
from movie_genie.db.config import DatabaseParams
from movie_genie.db.models import (
    MAX_RATING,
    MIN_RATING,
    FeedbackEvent,
    LoadState,
    Movie,
    MovieGenre,
    Rating,
    User,
)
from movie_genie.errors import ArtifactMissingError, DataError

# Bump when the way rows are derived from the files changes, so existing databases reload on the next run.
LOADER_VERSION = "3"
# What to tell someone whose database holds no catalogue (the server refuses to start, and health says it).
EMPTY_CATALOGUE_HELP = "run `movie-genie db load` (`make run` runs the whole pipeline, loading included)"
USER_COLUMNS = ("age", "gender", "occupation", "zip_code")  # demographics kept where the layout has them
_LIST_COLUMNS = ("genres", "keywords", "cast", "directors", "tags")
_INT_COLUMNS = ("year", "runtime", "tmdb_id")


@dataclass(frozen=True)
class LoadReport:
    """What a load did: row counts after it, whether anything was written, and how long it took."""

    dataset: str
    movies: int
    users: int
    ratings: int
    app_users: int
    feedback_events: int
    changed: bool
    seconds: float


@dataclass(frozen=True)
class ProcessedTables:
    """The validated tables a load writes: movies with rating aggregates, every rating user, ratings with seq."""

    movies: pd.DataFrame
    users: pd.DataFrame
    ratings: pd.DataFrame
    # Everyone's genre and tag shares, stored in load_state: live taste of users with feedback is measured on it.
    population: taste.Population = field(default_factory=lambda: taste.Population({}, {}))


def load_processed(
    engine: Engine,
    processed_dir: Path,
    *,
    dataset_name: str,
    params: DatabaseParams | None = None,
    force: bool = False,
    progress: bool = True,
) -> LoadReport:
    """Migrate to head, then load movies/users/ratings.parquet from `processed_dir` (idempotent, all or nothing)."""
    params = params or DatabaseParams()
    start = time.perf_counter()
    fingerprint = _fingerprint(processed_dir, params)
    if not force:
        loaded = _loaded_state(engine, fingerprint)
        if loaded is not None:
            with engine.connect() as conn:
                counts = _counts(conn)
            return LoadReport(dataset=loaded, **counts, changed=False, seconds=time.perf_counter() - start)
    # Read and validate the files before touching the database: bad input must not even create the schema.
    name = _dataset_name(processed_dir, dataset_name)
    tables = read_processed(processed_dir, params)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        previous = conn.execute(select(LoadState.value).where(LoadState.key == "dataset")).scalar()
        _guard_dataset_change(conn, previous, name, tables)
        try:
            _write(conn, tables, params, progress)
        except (IntegrityError, SQLDataError) as exc:
            # Everything is rolled back with the transaction; say which value the database refused.
            raise DataError(
                f"the database refused a row of {processed_dir}: {str(exc.orig).strip().splitlines()[0]}; "
                "nothing was loaded. Fix the data stage's output (or the column limits in db/models.py)."
            ) from exc
        counts = _counts(conn)
        _save_state(
            conn,
            {
                "dataset": name,
                "fingerprint": fingerprint,
                "counts": _data_counts(counts),
                taste.POPULATION_KEY: json.dumps(tables.population.as_json(), sort_keys=True),
            },
        )
    _refresh_planner_statistics(engine)
    return LoadReport(dataset=name, **counts, changed=True, seconds=time.perf_counter() - start)


def _fingerprint(processed_dir: Path, params: DatabaseParams) -> str:
    """sha256 of the input files' bytes and of what else shapes the rows: equal means nothing to do."""
    shaping = f"{LOADER_VERSION}|{migrate.head_revision()}|{params.rating_prior_weight}|{params.movie_tags}"
    digest = hashlib.sha256(shaping.encode())
    for name in ("movies.parquet", "ratings.parquet", "users.parquet", "tags.parquet", DATASET_INFO_FILE):
        path = processed_dir / name
        if not path.exists():
            if name in ("movies.parquet", "ratings.parquet"):
                raise ArtifactMissingError(f"{path} not found: run `movie-genie data` (or `dvc repro`) first")
            continue
        digest.update(name.encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _loaded_state(engine: Engine, fingerprint: str) -> str | None:
    """The loaded data set's name if the database already holds exactly these files' rows, else None."""
    if migrate.current_revision(engine) != migrate.head_revision():
        return None
    with engine.connect() as conn:
        state = dict(conn.execute(select(LoadState.key, LoadState.value)).all())
        # The row counts guard against rows changed behind the loader's back since (e.g. a manual DELETE).
        if state.get("fingerprint") != fingerprint or state.get("counts") != _data_counts(_counts(conn)):
            return None
    return state.get("dataset")


def _data_counts(counts: dict[str, int]) -> str:
    """The data set's own row counts (app users and feedback come and go without making the load stale)."""
    return json.dumps(
        {
            "movies": counts["movies"],
            "movielens_users": counts["users"] - counts["app_users"],
            "ratings": counts["ratings"],
        }
    )


# --- reading and validating the files ------------------------------------------------------------------------------


def read_processed(processed_dir: Path, params: DatabaseParams | None = None) -> ProcessedTables:
    """Read and validate the processed tables; raise ArtifactMissingError/DataError saying what is wrong."""
    params = params or DatabaseParams()
    movies = _read(processed_dir, "movies", MOVIE_COLUMNS)
    ratings = _read(processed_dir, "ratings", RATING_COLUMNS)
    users_file = processed_dir / "users.parquet"
    users = _read(processed_dir, "users", ("user_id",)) if users_file.exists() else pd.DataFrame({"user_id": []})

    if movies["movie_id"].duplicated().any():
        dup = movies.loc[movies["movie_id"].duplicated(), "movie_id"].iloc[0]
        raise DataError(f"{processed_dir / 'movies.parquet'}: movie_id {dup} appears twice; rebuild the data stage")
    bad = ratings[(ratings["rating"] < MIN_RATING) | (ratings["rating"] > MAX_RATING) | ratings["rating"].isna()]
    if len(bad):
        row = bad.iloc[0]
        raise DataError(
            f"{processed_dir / 'ratings.parquet'}: {len(bad)} ratings outside {MIN_RATING}..{MAX_RATING}, e.g. user "
            f"{row.user_id} movie {row.movie_id} rating {row.rating}"
        )
    unknown = ~ratings["movie_id"].isin(movies["movie_id"])
    if unknown.any():
        raise DataError(
            f"{processed_dir / 'ratings.parquet'}: {int(unknown.sum())} ratings of movies missing from movies.parquet "
            f"(e.g. movie_id {int(ratings.loc[unknown, 'movie_id'].iloc[0])}); rebuild the data stage"
        )
    dup_pairs = ratings.duplicated(["user_id", "movie_id"])
    if dup_pairs.any():
        row = ratings[dup_pairs].iloc[0]
        raise DataError(
            f"{processed_dir / 'ratings.parquet'}: user {row.user_id} rated movie {row.movie_id} more than once; "
            "the canonical ratings hold one rating per user and movie"
        )
    if users["user_id"].duplicated().any():
        raise DataError(f"{processed_dir / 'users.parquet'}: duplicate user_id values; rebuild the data stage")

    # History order: by time, ties in file order (the canonical order; a stable sort keeps it if already sorted).
    ratings = ratings.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    ratings["seq"] = ratings.groupby("user_id").cumcount()
    movies = with_rating_aggregates(movies, ratings, params.rating_prior_weight)
    movies = _with_top_tags(movies, processed_dir, params.movie_tags)
    shared = _shared_tags(processed_dir)
    users, pop = with_user_aggregates(_with_all_rating_users(users, ratings), movies, ratings, shared)
    _check_lengths(processed_dir / "movies.parquet", movies, Movie)
    _check_lengths(processed_dir / "users.parquet", users, User)
    return ProcessedTables(movies=movies, users=users, ratings=ratings, population=pop)


def _check_lengths(path: Path, frame: pd.DataFrame, model: Any) -> None:
    """Text longer than its column allows: PostgreSQL would refuse it and SQLite silently keep it; refuse on both."""
    for column in model.__table__.columns:
        limit = getattr(column.type, "length", None)
        if limit is None or column.name not in frame.columns:
            continue
        lengths = frame[column.name].map(lambda v: len(str(v)) if isinstance(v, str) else 0)
        if len(lengths) and int(lengths.max()) > limit:
            row = frame.iloc[int(lengths.to_numpy().argmax())]
            raise DataError(
                f"{path}: column '{column.name}' holds a value of {int(lengths.max())} characters (limit {limit}), "
                f"e.g. in the row with id {row.iloc[0]}; shorten it in the data stage"
            )


def _read(processed_dir: Path, table: str, required: Sequence[str]) -> pd.DataFrame:
    path = processed_dir / f"{table}.parquet"
    if not path.exists():
        raise ArtifactMissingError(f"{path} not found: run `movie-genie data` (or `dvc repro`) first")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise DataError(f"{path} cannot be read as Parquet ({exc}); rebuild it with `movie-genie data`") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks columns {missing} (has {list(frame.columns)}); rebuild the data stage")
    return frame


def _with_top_tags(movies: pd.DataFrame, processed_dir: Path, max_tags: int) -> pd.DataFrame:
    """Add `tags`: each movie's `max_tags` most frequent user tags from tags.parquet (empty where there are none)."""
    tags_file = processed_dir / "tags.parquet"
    tags = _read(processed_dir, "tags", ("movie_id", "tag")) if tags_file.exists() else None
    by_movie = top_tags(tags, max_tags)
    out = movies.copy()
    out["tags"] = [by_movie.get(int(m), []) for m in out["movie_id"]]
    return out


def _with_all_rating_users(users: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Every user who rated something, with demographics where users.parquet has them; created_at = first rating."""
    rated = ratings.groupby("user_id")["timestamp"].min()
    ids = pd.Index(sorted(set(users["user_id"].astype("int64")) | set(rated.index.astype("int64"))), name="user_id")
    out = users.set_index("user_id").reindex(ids).reset_index()
    first = out["user_id"].map(rated)
    # A user without ratings (possible in a users file) joins when the data set starts.
    fallback = int(ratings["timestamp"].min()) if len(ratings) else 0
    out["created_at"] = [datetime.fromtimestamp(int(t), tz=UTC) for t in first.fillna(fallback)]
    return out


def _shared_tags(processed_dir: Path) -> set[str]:
    """Tags (lower-cased, as movies.tags holds them) given by at least taste.MIN_TAGGERS people: one person's
    bookkeeping ("in netflix queue" on 131 films by one user) says nothing about anyone else's taste."""
    if not (processed_dir / "tags.parquet").exists():
        return set()
    tags = _read(processed_dir, "tags", ("user_id", "tag"))
    names = tags["tag"].astype(str).str.strip().str.lower()
    taggers = tags.assign(tag=names).groupby("tag")["user_id"].nunique()
    return {str(t) for t in taggers[taggers >= taste.MIN_TAGGERS].index}


def _dataset_name(processed_dir: Path, default: str) -> str:
    info = processed_dir / DATASET_INFO_FILE
    if info.exists():
        try:
            name = json.loads(info.read_text(encoding="utf-8")).get("name")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DataError(f"{info} is not a JSON object with a 'name'; rebuild the data stage") from exc
        if isinstance(name, str) and name:
            return name
    return default


# --- writing -------------------------------------------------------------------------------------------------------


def _guard_dataset_change(conn: Connection, loaded: str | None, name: str, tables: ProcessedTables) -> None:
    """Refuse to mix data sets under the app's users and feedback: ids would point at other people and films."""
    app_ids = set(conn.execute(select(User.user_id).where(User.source == "app")).scalars())
    has_feedback = conn.execute(select(func.count()).select_from(FeedbackEvent)).scalar_one() > 0
    if loaded is not None and loaded != name and (app_ids or has_feedback):
        raise DataError(
            f"the database holds app users/feedback for data set '{loaded}', but the files are '{name}': their ids "
            "do not match. Use another DATABASE_URL, or `movie-genie db load --reset` to drop the app's data."
        )
    clash = app_ids & set(tables.users["user_id"].astype("int64").tolist())
    if clash:
        raise DataError(
            f"user ids {sorted(clash)[:5]} of the data set belong to users created in the app; "
            "use another DATABASE_URL or `movie-genie db load --reset`"
        )


def _counts(conn: Connection) -> dict[str, int]:
    def count(model: Any, *where: Any) -> int:
        """Rows of `model` matching `where`."""
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

    return {
        "movies": count(Movie),
        "users": count(User),
        "ratings": count(Rating),
        "app_users": count(User, User.source == "app"),
        "feedback_events": count(FeedbackEvent),
    }


def _write(conn: Connection, tables: ProcessedTables, params: DatabaseParams, progress: bool) -> None:
    movie_ids = set(tables.movies["movie_id"].astype("int64").tolist())
    user_ids = set(tables.users["user_id"].astype("int64").tolist())
    genre_rows = sum(len(set(_clean(g, "genres") or [])) for g in tables.movies["genres"])
    bar = tqdm(
        total=len(tables.movies) + genre_rows + len(tables.users) + len(tables.ratings),
        desc="db load",
        unit="row",
        disable=not progress,
    )
    with bar:
        # Ratings are the data set's alone: replace them wholesale (also frees stale movies/users for deletion).
        conn.execute(delete(Rating))
        _upsert(conn, Movie.__table__, _movie_rows(tables.movies), ["movie_id"], params.load_batch_size, bar)
        conn.execute(delete(MovieGenre))
        _insert(conn, MovieGenre.__table__, _genre_rows(tables.movies), params.load_batch_size, bar)
        _upsert(conn, User.__table__, _user_rows(tables.users), ["user_id"], params.load_batch_size, bar)
        _delete_stale(conn, movie_ids, user_ids)
        with _foreign_keys_checked_once(conn, Rating.__table__):
            _insert(conn, Rating.__table__, _rating_rows(tables.ratings), params.load_batch_size, bar)


@contextmanager
def _foreign_keys_checked_once(conn: Connection, table: Any) -> Iterator[None]:
    """PostgreSQL: drop the table's foreign keys for the bulk insert and add them back after, which validates every
    row in one join instead of two trigger calls per row (most of the load time otherwise). It all happens inside
    the load's transaction, so a failure leaves the constraints as they were; readers wait for the commit."""
    if conn.dialect.name != "postgresql":
        yield
        return
    constraints = sorted(table.foreign_key_constraints, key=lambda fk: fk.name)
    for fk in constraints:
        conn.execute(DropConstraint(fk))
    yield
    for fk in constraints:
        conn.execute(AddConstraint(fk))


def _delete_stale(conn: Connection, movie_ids: set[int], user_ids: set[int]) -> None:
    """Drop data set rows no longer in the files, unless the app's feedback still refers to them."""
    referenced_movies = set(conn.execute(select(FeedbackEvent.movie_id).distinct()).scalars())
    stale_movies = set(conn.execute(select(Movie.movie_id)).scalars()) - movie_ids - referenced_movies
    referenced_users = set(conn.execute(select(FeedbackEvent.user_id).distinct()).scalars())
    ml_users = set(conn.execute(select(User.user_id).where(User.source == "movielens")).scalars())
    stale_users = ml_users - user_ids - referenced_users
    for batch in _chunks(sorted(stale_movies), 500):
        conn.execute(delete(MovieGenre).where(MovieGenre.movie_id.in_(batch)))
        conn.execute(delete(Movie).where(Movie.movie_id.in_(batch)))
    for batch in _chunks(sorted(stale_users), 500):
        conn.execute(delete(User).where(User.user_id.in_(batch)))


def _upsert(
    conn: Connection, table: Any, rows: Iterable[dict[str, Any]], keys: list[str], batch_size: int, bar: tqdm
) -> None:
    """Insert rows, updating those whose key exists (INSERT ... ON CONFLICT DO UPDATE)."""
    if conn.dialect.name == "postgresql":
        _upsert_postgres(conn, table, rows, keys, batch_size, bar)
        return
    stmt: Any = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    )
    for batch in _chunks(rows, batch_size):
        conn.execute(stmt, batch)
        bar.update(len(batch))


def _upsert_postgres(
    conn: Connection, table: Any, rows: Iterable[dict[str, Any]], keys: list[str], batch_size: int, bar: tqdm
) -> None:
    """COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT (row-wise upserts are ~10x slower)."""
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    updates = ", ".join(f"{quote(c.name)} = EXCLUDED.{quote(c.name)}" for c in table.columns if c.name not in keys)
    staging = f"staging_{table.name}"
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
    _copy(conn, table, rows, batch_size, bar, into=staging)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {staging} "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
    )
    conn.exec_driver_sql(f"DROP TABLE {staging}")


def _insert(conn: Connection, table: Any, rows: Iterable[dict[str, Any]], batch_size: int, bar: tqdm) -> None:
    """Plain bulk insert: COPY on PostgreSQL, batched executemany on SQLite."""
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows, batch_size, bar)
        return
    stmt = insert(table)
    for batch in _chunks(rows, batch_size):
        conn.execute(stmt, batch)
        bar.update(len(batch))


def _copy(
    conn: Connection, table: Any, rows: Iterable[dict[str, Any]], batch_size: int, bar: tqdm, into: str | None = None
) -> None:
    """PostgreSQL: COPY FROM STDIN on the load's own connection and transaction (~10x faster than INSERTs)."""
    columns = [c.name for c in table.columns]
    # COPY would write a Python list as a PostgreSQL array: JSON columns need psycopg's Jsonb wrapper.
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {into or table.name} ({quoted}) FROM STDIN") as copy:
        for batch in _chunks(rows, batch_size):
            for row in batch:
                copy.write_row([Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns])
            bar.update(len(batch))


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _movie_rows(movies: pd.DataFrame) -> Iterator[dict[str, Any]]:
    columns = [c for c in (*MOVIE_COLUMNS, *METADATA_COLUMNS, "tags") if c in movies.columns]
    for record in movies[[*columns, "rating_count", "rating_mean", "rating_score"]].to_dict("records"):
        row = {c: _clean(record.get(c), c) for c in (*MOVIE_COLUMNS, *METADATA_COLUMNS, "tags")}
        row["genres"] = row["genres"] or []
        row["rating_count"] = int(record["rating_count"])
        row["rating_mean"] = _clean(record["rating_mean"], "rating_mean")
        row["rating_score"] = _clean(record["rating_score"], "rating_score")
        yield row


def _genre_rows(movies: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for movie_id, genres in zip(movies["movie_id"], movies["genres"], strict=True):
        for genre in dict.fromkeys(_clean(genres, "genres") or []):  # dedupe, keep order
            yield {"movie_id": int(movie_id), "genre": genre}


def _user_rows(users: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for record in users.to_dict("records"):
        user_id = int(record["user_id"])
        yield {
            "user_id": user_id,
            "source": "movielens",
            "display_name": f"MovieLens user {user_id}",
            **{c: _clean(record.get(c), c) for c in USER_COLUMNS},
            "created_at": record["created_at"],
            "rating_count": int(record["rating_count"]),
            "top_genres": [str(g) for g in record["top_genres"]],
            "taste": [t.as_json() for t in record["taste"]],
            "taste_terms": taste.terms(record["taste"]),
            "favourite_movie_ids": [int(m) for m in record["favourite_movie_ids"]],
            "first_rated_at": _moment_or_none(record["first_rated_at"]),
            "last_rated_at": _moment_or_none(record["last_rated_at"]),
            "secret_hash": None,  # a demo profile: no owner (api/ownership.py)
        }


def _moment_or_none(value: Any) -> datetime | None:
    """A pandas timestamp as a datetime; None for a missing one (NaT: a user without ratings)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def _rating_rows(ratings: pd.DataFrame, slice_rows: int = 100_000) -> Iterator[dict[str, Any]]:
    """Rows as dicts of plain Python scalars (numpy types are not adaptable by every driver), converted a slice at
    a time so ml-25m never holds 125M Python objects at once."""
    names = ("user_id", "movie_id", "rating", "timestamp", "seq")
    for start in range(0, len(ratings), slice_rows):
        part = ratings.iloc[start : start + slice_rows]
        columns = [part[c].astype("float64" if c == "rating" else "int64").tolist() for c in names]
        for user_id, movie_id, rating, timestamp, seq in zip(*columns, strict=True):
            yield {"user_id": user_id, "movie_id": movie_id, "rating": rating, "timestamp": timestamp, "seq": seq}


def _clean(value: Any, column: str) -> Any:
    """Parquet/pandas values -> plain Python values (None for missing; lists of str; ints for int columns)."""
    if column in _LIST_COLUMNS:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return [str(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if column in _INT_COLUMNS or column == "age":
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise DataError(f"movies/users column '{column}' holds {value!r}, not an integer") from exc
    if isinstance(value, np.generic):
        return value.item()
    if column in ("gender", "occupation", "zip_code", "imdb_id", "language", "poster_path", "title"):
        return str(value)
    return value


def _refresh_planner_statistics(engine: Engine) -> None:
    """After a bulk load: fresh statistics for the query planner, and on PostgreSQL a VACUUM so the replaced rows'
    dead versions are gone and per-movie aggregates can be answered from the (movie_id, rating) index alone."""
    if engine.dialect.name == "postgresql":
        # VACUUM cannot run inside a transaction block.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) ratings, movies, movie_genres, users")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _save_state(conn: Connection, values: dict[str, str]) -> None:
    conn.execute(delete(LoadState).where(LoadState.key.in_(list(values))))
    conn.execute(insert(LoadState), [{"key": k, "value": v} for k, v in values.items()])
