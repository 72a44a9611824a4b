"""Engine set-up: SQLite PRAGMAs, URL handling, and clear errors for unreachable or invalid databases."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from movie_genie.db.engine import (
    check_connection,
    make_engine,
    make_session_factory,
    normalize_url,
    ping,
    session_scope,
)
from movie_genie.db.errors import DatabaseUnavailableError


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}", busy_timeout_ms=1234)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    assert (tmp_path / "sub" / "x.db").exists()  # the parent folder is created
    engine.dispose()


def test_wal_lets_a_reader_read_while_a_writer_holds_its_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=200)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    seen: list[int] = []
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("INSERT INTO t VALUES (2)"))

        def read() -> None:
            with engine.connect() as reader:
                seen.append(int(reader.execute(text("SELECT count(*) FROM t")).scalar_one()))

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=5)
        writer.commit()
    assert seen == [1]  # not blocked, and the uncommitted row is invisible
    engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"])
def test_plain_postgres_urls_get_the_psycopg3_driver(url: str) -> None:
    assert normalize_url(url).drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db"])
def test_unsupported_or_malformed_urls_are_rejected_clearly(url: str) -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"DATABASE_URL|unsupported"):
        make_engine(url)


def test_an_unreachable_server_gives_a_clear_error_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://me:secret@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    with pytest.raises(DatabaseUnavailableError, match="cannot reach the database") as info:
        check_connection(engine)
    assert "secret" not in str(info.value)
    assert "***" in str(info.value)


def test_session_scope_rolls_back_on_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    with session_scope(factory) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [2]
    engine.dispose()


def test_ping_answers(session: Session) -> None:
    ping(session)
