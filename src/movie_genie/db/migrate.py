"""Alembic migrations shipped inside the package, run programmatically (no alembic.ini needed).

A developer who changes db/models.py writes the next revision with
    python -m movie_genie.db.migrate revision "what changed"
which autogenerates it against a scratch SQLite database at the current head.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError

from movie_genie.db.engine import check_connection, describe_url, make_engine
from movie_genie.db.errors import DatabaseUnavailableError, SchemaOutOfDateError
from movie_genie.db.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations (file names r0001_<slug>.py, importable by mypy)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str:
    """The newest revision the code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its initial revision
        raise SchemaOutOfDateError("no migrations found in the package: reinstall movie-genie")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    check_connection(engine)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (default: head) in one transaction; return the revision reached."""
    check_connection(engine)
    try:
        _run(engine, command.upgrade, revision)
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseUnavailableError(f"migrating {describe_url(engine.url)} failed: {exc.orig}") from exc
    return current_revision(engine)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (default: base, i.e. drop every table of the app)."""
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command in one transaction on one connection.

    SQLite: foreign keys are switched off around it. Batch migrations rebuild a table (copy, DROP, rename), and
    dropping `users` with foreign keys on would cascade-delete every rating and feedback event. The PRAGMA only
    works outside a transaction; violations are checked before commit and the setting is restored after.
    """
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaOutOfDateError(f"migration to {revision} would break foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def ensure_schema_current(engine: Engine) -> None:
    """Raise SchemaOutOfDateError unless the database is at the head revision (the API checks this at start)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDateError(
            f"the database {describe_url(engine.url)} is at revision {current or '(empty)'} but the code expects "
            f"{head}: run `movie-genie db upgrade` (or `movie-genie db load`)"
        )


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table of the models that exists in the database (empty before the first upgrade)."""
    existing = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in Base.metadata.sorted_tables
            if table.name in existing
        }


def schema_diff(engine: Engine) -> list[object]:
    """Differences between the database's schema and the models (empty when the migrations match the models)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def make_revision(message: str) -> None:
    """Autogenerate the next revision from the models against a scratch SQLite database at the current head."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        upgrade(engine)
        config = alembic_config()
        # Sequential ids (0001, 0002, ...) keep the history readable in file listings.
        rev_id = f"{len(list(ScriptDirectory.from_config(config).walk_revisions())) + 1:04d}"
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        raise SystemExit('usage: python -m movie_genie.db.migrate revision "message"')
    make_revision(sys.argv[2])
