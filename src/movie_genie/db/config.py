"""The `database` section of params.yaml, validated. The URL itself comes from the environment (Settings)."""

from __future__ import annotations

from pydantic import Field

from movie_genie.config import Params, Section


class DatabaseParams(Section):
    """Tunable values of the database layer."""

    # Rows per INSERT batch during `db load`: large enough to amortise round trips, small enough for SQLite's
    # bound-parameter limit (SQLAlchemy splits further where needed) and for a smooth progress bar.
    load_batch_size: int = Field(default=5000, ge=100, le=100_000)
    # How long a SQLite connection waits for another writer's lock before failing (WAL allows one writer at a time).
    busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # Weight (in ratings) of the global mean in the damped mean used to sort movies by rating, so a film with two
    # 5-star ratings does not outrank one with hundreds of 4.5s.
    rating_prior_weight: float = Field(default=10.0, ge=0.0)
    # SQLite: how often (seconds) the server re-runs `PRAGMA quick_check` on its database file; a damaged file is
    # refused (503) instead of read from or written to. It also runs when the server starts.
    integrity_check_s: float = Field(default=60.0, ge=0.0)
    # Most frequent user tags stored per movie (the film's page shows them); 0 stores none.
    movie_tags: int = Field(default=10, ge=0, le=100)

    @classmethod
    def from_params(cls, params: Params) -> DatabaseParams:
        """Validate `params.section("database")`; raise ConfigError naming the bad key."""
        return params.validated("database", cls)
