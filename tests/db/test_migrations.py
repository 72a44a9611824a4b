"""The packaged Alembic migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, inspect

from movie_genie.db import migrate
from movie_genie.db.errors import SchemaOutOfDateError
from movie_genie.db.models import Base


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
