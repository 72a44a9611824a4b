"""The simulator's database (online/simulator.py): a copy of the product SQLite database, brought to the current
schema, with the leak guard applied to it. The product database is only ever read; every write goes to the copy.

    source = sqlite_path(settings.database_url)
    copy_database(source, scratch / "simulate.db")
    migrated = migrate_copy(scratch / "simulate.db")          # the revision it came from, or None
    guard = guard_leaks(scratch / "simulate.db", users, histories, targets)
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from movie_genie.config import ConfigError
from movie_genie.db.engine import make_engine
from movie_genie.db.migrate import current_revision, head_revision, upgrade
from movie_genie.db.models import FeedbackEvent, Impression, ImpressionEvent, Rating
from movie_genie.errors import ArtifactMissingError


def sqlite_path(database_url: str) -> Path:
    """The SQLite file DATABASE_URL names; a ConfigError for any other database, and a clear error when the file
    is missing."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigError(
            f"movie-genie simulate works on a copy of a SQLite database file; DATABASE_URL is "
            f"{url.render_as_string(hide_password=True)!r}. Load one with "
            "`DATABASE_URL=sqlite:///data/sim.db movie-genie db load` and point DATABASE_URL at it."
        )
    path = Path(url.database)
    if not path.is_file():
        raise ArtifactMissingError(f"no database at {path}: run `movie-genie db load`")
    return path


def copy_database(source: Path, copy: Path) -> None:
    """Copy the database file. A database with a write-ahead log (a server has it open, or one did not close) is
    copied through SQLite's backup API, a consistent snapshot; otherwise the file is complete and copied as is
    (opening it would create -wal and -shm files next to the product database)."""
    for stale in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        stale.unlink(missing_ok=True)
    wal = source.with_name(source.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        shutil.copyfile(source, copy)


def migrate_copy(copy: Path) -> str | None:
    """Bring the copy to the schema the code expects (the product database may predate the impressions tables);
    the revision it was at when it was migrated, else None."""
    engine = make_engine(f"sqlite:///{copy}")
    try:
        current = current_revision(engine)
        if current == head_revision():
            return None
        upgrade(engine)
        return current or "(empty)"
    finally:
        engine.dispose()


def guard_leaks(
    copy: Path, sample: list[int], histories: dict[int, set[int]], targets: dict[int, int]
) -> dict[str, Any]:
    """On the copy: keep only each simulated user's train + valid ratings (the test one goes), drop their app
    feedback, and empty the impressions tables, so the API reads the history the offline protocol uses."""
    engine = make_engine(f"sqlite:///{copy}")
    removed_test = removed_other = removed_feedback = 0
    try:
        with engine.begin() as connection:
            connection.execute(delete(ImpressionEvent))
            connection.execute(delete(Impression))
            for user in sample:
                rated = set(connection.execute(select(Rating.movie_id).where(Rating.user_id == user)).scalars())
                extra = sorted(rated - histories[user])
                if extra:
                    connection.execute(delete(Rating).where(Rating.user_id == user, Rating.movie_id.in_(extra)))
                removed_test += int(targets[user] in extra)
                removed_other += len(extra) - int(targets[user] in extra)
                removed_feedback += connection.execute(
                    delete(FeedbackEvent).where(FeedbackEvent.user_id == user)
                ).rowcount
    finally:
        engine.dispose()
    return {
        "test_ratings_removed": removed_test,
        "other_ratings_removed": removed_other,
        "feedback_events_removed": removed_feedback,
        "summary": (
            f"on the copy, {removed_test} simulated users' test ratings removed"
            + (f", {removed_other} other ratings outside train + valid" if removed_other else "")
            + (f", {removed_feedback} app feedback events" if removed_feedback else "")
            + "; impressions tables emptied"
        ),
    }
