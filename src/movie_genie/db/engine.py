"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL (psycopg 3) through DATABASE_URL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from movie_genie.db.errors import DatabaseUnavailableError

DEFAULT_BUSY_TIMEOUT_MS = 5000


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; plain `postgresql://` / `postgres://` get the installed psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailableError(
            f"DATABASE_URL {url!r} is not a valid URL: use e.g. sqlite:///data/movie_genie.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    # SQLAlchemy's default PostgreSQL driver is psycopg2, which is not installed; psycopg 3 is.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailableError(
            f"unsupported database {parsed.get_backend_name()!r} in DATABASE_URL: use sqlite:/// or postgresql+psycopg://"
        )
    return parsed


def describe_url(url: str | URL) -> str:
    """The URL with any password masked, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def ping(session: Session) -> None:
    """Run SELECT 1; raise DatabaseUnavailableError when the database does not answer."""
    try:
        session.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        url = describe_url(session.get_bind().engine.url)
        raise DatabaseUnavailableError(f"database {url} does not answer: {exc.orig}") from exc


def _set_sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        """Configure each new SQLite connection (the PRAGMAs are per connection)."""
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer and vice versa, so API workers read while feedback is written.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # NORMAL is durable in WAL mode except for the last transactions on power loss; much faster commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(url: str | URL, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **kwargs: Any) -> Engine:
    """Create an engine: SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL gets pre-ping on checkout."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # pysqlite's own lock wait (seconds) agrees with the busy timeout PRAGMA.
        connect_args = {"timeout": busy_timeout_ms / 1000, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas(busy_timeout_ms))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to the engine; objects stay readable after commit (query results are plain data)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_connection(engine: Engine) -> None:
    """Run SELECT 1; raise DatabaseUnavailableError saying which database could not be reached and why."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatabaseUnavailableError(
            f"cannot reach the database {describe_url(engine.url)}: {reason}. "
            "Check DATABASE_URL and that the server is running."
        ) from exc


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine; None for PostgreSQL and in-memory or URI-named SQLite databases."""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    return Path(database) if database and database != ":memory:" and not database.startswith("file:") else None


class SqliteFileGuard:
    """Notices a SQLite database file deleted or replaced under a running server.

    SQLite keeps writing through open connections to a deleted (unlinked) file, so every write would be
    acknowledged and then lost, and a new connection silently creates an empty database in its place. `check`
    compares the file's identity (device, inode) with the one seen at start and raises DatabaseUnavailableError
    (503) when it is gone or another file. For PostgreSQL and in-memory SQLite it checks nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self.path = sqlite_file(engine)
        self._identity = self._stat() if self.path is not None else None

    def _stat(self) -> tuple[int, int] | None:
        try:
            found = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return (found.st_dev, found.st_ino) if found is not None else None

    def check(self) -> None:
        """Raise DatabaseUnavailableError when the database file is no longer the one the server opened."""
        if self.path is None:
            return
        now = self._stat()
        if now is None or now != self._identity:
            what = "was deleted" if now is None else "was replaced by another file"
            raise DatabaseUnavailableError(
                f"the database file {self.path} {what} while the server was running: nothing can be stored; "
                "restore it (or run `movie-genie db load`) and restart the server"
            )


class SqliteIntegrity:
    """Notices a damaged SQLite file (a flipped byte, a truncated page): SQLite's `PRAGMA quick_check` when the
    server starts, then again on the first use of the database after `every_s` seconds (about 0.1 s on the default
    data). While the file fails it, `check` raises DatabaseUnavailableError (503): nothing is read from it and no
    write is acknowledged into a file that may not give it back. `suspect` asks for a new check at the next use (a
    query failed with a DatabaseError). For PostgreSQL and in-memory SQLite it checks nothing.
    """

    def __init__(self, engine: Engine, every_s: float) -> None:
        self.engine = engine if sqlite_file(engine) is not None else None
        self.every_s = every_s
        self.problem: str | None = None
        self._checked_at = -float("inf")
        self._lock = threading.Lock()  # one check at a time per process; the others go on with the last verdict
        self.check_now()

    def check_now(self) -> None:
        """Run quick_check and keep its verdict (the first problems it lists, or None when the file is sound)."""
        if self.engine is None:
            return
        try:
            with self.engine.connect() as connection:
                found = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check(3)")]
            self.problem = None if found == ["ok"] else "; ".join(found)
        except DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            self.problem = str(exc.orig) if exc.orig is not None else type(exc).__name__
        self._checked_at = time.monotonic()

    def suspect(self) -> None:
        """Check again at the next use."""
        self._checked_at = -float("inf")

    def check(self) -> None:
        """Raise DatabaseUnavailableError while the file fails quick_check (re-run when the verdict is stale)."""
        if self.engine is None:
            return
        if time.monotonic() - self._checked_at >= self.every_s and self._lock.acquire(blocking=False):
            try:
                self.check_now()
            finally:
                self._lock.release()
        if self.problem is not None:
            raise DatabaseUnavailableError(
                f"the database file is damaged (SQLite's integrity check: {self.problem}): nothing can be read from "
                "it or stored in it safely; restore it from a backup, or rebuild it with `movie-genie db load` "
                "(which loses the app's feedback), then restart the server"
            )
