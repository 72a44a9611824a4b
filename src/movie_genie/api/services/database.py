"""The database as the services use it: one short session per request, and each user's *feedback version*.

The feedback version (the id of the user's newest feedback event and their number of events) is part of the cache
key of every answer that depends on the user: a write in any worker changes it, so every worker's next request
misses and recomputes from the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from movie_genie.config import Params, Settings
from movie_genie.db.config import DatabaseParams
from movie_genie.db.engine import SqliteFileGuard, SqliteIntegrity, make_engine, make_session_factory, session_scope
from movie_genie.db.errors import DatabaseUnavailableError
from movie_genie.db.feedback import feedback_version


class Database:
    """The engine and session factory; sessions are short (one per request)."""

    def __init__(self, settings: Settings, params: Params) -> None:
        db_params = DatabaseParams.from_params(params)
        self.engine: Engine = make_engine(settings.database_url, busy_timeout_ms=db_params.busy_timeout_ms)
        self._factory: sessionmaker[Session] = make_session_factory(self.engine)
        # A SQLite file deleted under the server: every session refuses to start (503), and a commit that went to
        # the deleted file is reported as failed (503) instead of acknowledged and lost.
        self.file_guard = SqliteFileGuard(self.engine)
        event.listen(self._factory, "after_commit", lambda _session: self.file_guard.check())
        # A damaged SQLite file (quick_check at start and every integrity_check_s): every use answers 503.
        self.integrity = SqliteIntegrity(self.engine, db_params.integrity_check_s)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work (committed on success, rolled back on error); 503 when the database file vanished or is
        damaged."""
        self._usable()
        with self._damage_is_unavailable(), session_scope(self._factory) as session:
            yield session

    def feedback_version(self, user_id: int) -> str:
        """The user's feedback version ("0.0" when none): changes with every write, a mark taken back included
        (db.feedback.feedback_version). Runs on every cached request, so on a plain connection, not a session."""
        self._usable()
        with self._damage_is_unavailable(), self.engine.connect() as connection:
            return feedback_version(connection, user_id)

    def _usable(self) -> None:
        self.file_guard.check()
        self.integrity.check()

    @contextmanager
    def _damage_is_unavailable(self) -> Iterator[None]:
        """A query that meets a damaged file (DatabaseError other than "locked" or "unreachable") is a 503 that says
        so, never a 500, and the file is checked again at the next use (health then reports it)."""
        try:
            yield
        except OperationalError:
            raise  # locked past the busy timeout, or the server is down: db.queries and the handlers say so
        except DatabaseError as exc:
            self.integrity.suspect()
            raise DatabaseUnavailableError(
                "the database could not be read (it may be damaged); the server checks it again now — see "
                "/api/health, and restore it from a backup if it stays damaged"
            ) from exc
