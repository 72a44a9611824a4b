"""The packaged Alembic migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, inspect

from movie_genie.db import migrate
from movie_genie.db.engine import make_session_factory
from movie_genie.db.errors import SchemaOutOfDateError
from movie_genie.db.feedback import add_feedback
from movie_genie.db.load import load_processed
from movie_genie.db.models import Base

from .conftest import Slice


def test_migration_head_matches_the_models(fresh_engine: Callable[[], Engine]) -> None:
    engine = fresh_engine()
    assert migrate.current_revision(engine) is None
    assert migrate.upgrade(engine) == migrate.head_revision()
    # Alembic's autogenerate comparison: any table, column, type, index or constraint drift shows up here.
    assert migrate.schema_diff(engine) == []
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_then_upgrade_again(fresh_engine: Callable[[], Engine]) -> None:
    engine = fresh_engine()
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.schema_diff(engine) == []


def test_an_unmigrated_database_is_reported_with_the_fix(fresh_engine: Callable[[], Engine]) -> None:
    engine = fresh_engine()
    with pytest.raises(SchemaOutOfDateError, match="movie-genie db upgrade"):
        migrate.ensure_schema_current(engine)
    migrate.upgrade(engine)
    migrate.ensure_schema_current(engine)
    assert set(migrate.table_counts(engine).values()) == {0}


def test_stepping_down_and_up_again_keeps_every_row(fresh_engine: Callable[[], Engine], ml_slice: Slice) -> None:
    """SQLite rebuilds `users` to drop a column: that must not cascade-delete ratings or feedback."""
    engine = fresh_engine()
    load_processed(engine, ml_slice.processed_dir, dataset_name="ml-100k", progress=False)
    with make_session_factory(engine)() as session:
        add_feedback(session, 1, 1, "like")
    before = migrate.table_counts(engine)
    migrate.downgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    down = migrate.table_counts(engine)
    assert down == {table: n for table, n in before.items() if table in down}  # tables added after 0001 go
    migrate.upgrade(engine)
    assert migrate.table_counts(engine) == before
    assert migrate.schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # restored after the migration
