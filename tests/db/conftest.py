"""Fixtures of the database tests: a slice of real ml-100k as processed Parquet, and databases on both backends.

Every test that takes `engine`/`session` runs twice: on a SQLite file and on the PostgreSQL server on loopback
(MOVIE_GENIE_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Each test session
creates uniquely named PostgreSQL databases and drops them afterwards. A PostgreSQL server that cannot be reached
FAILS the postgres tests with instructions; it never skips them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.db import taste
from movie_genie.db.engine import make_engine, make_session_factory
from movie_genie.db.load import load_processed
from movie_genie.db.models import FeedbackEvent, User
from movie_genie.db.taste import Trait
from tests.postgres import POSTGRES_ADMIN_URL, postgres_admin

SLICE_USERS = 60  # users 1..60 of ml-100k with all their ratings (~6k ratings), every movie
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Slice:
    """The processed tables of the slice as written to `processed_dir`."""

    processed_dir: Path
    movies: pd.DataFrame
    users: pd.DataFrame
    ratings: pd.DataFrame


def write_processed(target: Path, movies: pd.DataFrame, users: pd.DataFrame, ratings: pd.DataFrame, name: str) -> Path:
    """Write the three tables and dataset.json the way the data stage does."""
    target.mkdir(parents=True, exist_ok=True)
    movies.to_parquet(target / "movies.parquet", index=False)
    users.to_parquet(target / "users.parquet", index=False)
    ratings.to_parquet(target / "ratings.parquet", index=False)
    (target / "dataset.json").write_text(json.dumps({"name": name}), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def ml100k_tables(shared_datasets: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All of real ml-100k as canonical (movies, users, ratings), read by the data layer's own reader."""
    with Archive(shared_datasets / "ml-100k") as archive:
        tables = read_movielens(archive)
    return tables.movies, tables.users, tables.ratings


@pytest.fixture(scope="session")
def ml_slice(ml100k_tables: tuple[pd.DataFrame, ...], tmp_path_factory: pytest.TempPathFactory) -> Slice:
    """Users 1..SLICE_USERS of ml-100k with all their ratings and every movie, as processed Parquet."""
    movies, users, ratings = ml100k_tables
    users = users[users["user_id"] <= SLICE_USERS].reset_index(drop=True)
    ratings = ratings[ratings["user_id"] <= SLICE_USERS].reset_index(drop=True)
    folder = write_processed(tmp_path_factory.mktemp("processed"), movies, users, ratings, "ml-100k")
    return Slice(folder, movies, users, ratings)


class _Databases:
    """Fresh, empty databases of one backend, removed at the end of the test session.

    PostgreSQL: one uniquely named database per test session; each fresh "database" is a schema in it, reached
    through the connection's search_path (a schema is created and dropped far faster than a database).
    """

    def __init__(self, backend: str, tmp: pytest.TempPathFactory) -> None:
        self.backend = backend
        self.tmp = tmp
        self.engines: list[Engine] = []
        self.database: str | None = None

    def new_engine(self) -> Engine:
        if self.backend == "sqlite":
            engine = make_engine(f"sqlite:///{self.tmp.mktemp('sqlite') / 'movie_genie.db'}")
        else:
            if self.database is None:
                name = f"movie_genie_test_{uuid.uuid4().hex[:12]}"
                with postgres_admin("database tests") as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
                self.database = name
            schema = f"s{len(self.engines)}"
            url = make_url(POSTGRES_ADMIN_URL).set(database=self.database)
            engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
            with engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.database is not None:
            with postgres_admin("database tests") as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    """A factory of fresh, empty databases on the backend of this parametrisation."""
    factory = _Databases(request.param, tmp_path_factory)
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def engine(databases: _Databases, ml_slice: Slice) -> Engine:
    """A database at the migration head with the slice loaded (shared by the read-only query tests)."""
    engine = databases.new_engine()
    load_processed(engine, ml_slice.processed_dir, dataset_name="ml-100k", progress=False)
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the loaded database; app users and feedback written by the test are removed afterwards."""
    factory = make_session_factory(engine)
    with factory() as session:
        yield session
        session.rollback()
        marked = set(session.execute(select(FeedbackEvent.user_id).distinct()).scalars())
        session.execute(delete(FeedbackEvent))
        session.execute(delete(User).where(User.source == "app"))
        # Feedback refreshed these users' taste_terms; without it they are again what `db load` stored.
        for user in session.execute(select(User).where(User.user_id.in_(marked))).scalars():
            user.taste_terms = taste.terms(Trait.from_json(t) for t in user.taste or [])
        session.commit()


@pytest.fixture
def fresh_engine(databases: _Databases) -> Callable[[], Engine]:
    """Make an empty database of this backend (for load and migration tests that need their own)."""
    return databases.new_engine
