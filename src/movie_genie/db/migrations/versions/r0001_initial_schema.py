"""Initial schema: movies (+ genres), users, the data set's ratings, feedback events, load state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON lists: JSONB on PostgreSQL, JSON text elsewhere (as in db/models.py).
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "load_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_load_state")),
    )
    op.create_table(
        "movies",
        sa.Column("movie_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("genres", JSON_LIST, nullable=False),
        sa.Column("overview", sa.Text(), nullable=True),
        sa.Column("tagline", sa.Text(), nullable=True),
        sa.Column("keywords", JSON_LIST, nullable=True),
        sa.Column("cast", JSON_LIST, nullable=True),
        sa.Column("directors", JSON_LIST, nullable=True),
        sa.Column("runtime", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("poster_path", sa.String(length=500), nullable=True),
        sa.Column("imdb_id", sa.String(length=32), nullable=True),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_mean", sa.Float(), nullable=True),
        sa.Column("rating_score", sa.Float(), nullable=True),
        sa.CheckConstraint("rating_count >= 0", name=op.f("ck_movies_rating_count_non_negative")),
        sa.PrimaryKeyConstraint("movie_id", name=op.f("pk_movies")),
    )
    op.create_index("ix_movies_popularity", "movies", ["rating_count", "movie_id"], unique=False)
    op.create_index("ix_movies_rating_score", "movies", ["rating_score", "movie_id"], unique=False)
    op.create_index("ix_movies_title", "movies", ["title"], unique=False)
    op.create_index("ix_movies_year", "movies", ["year", "movie_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("occupation", sa.String(length=64), nullable=True),
        sa.Column("zip_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('movielens', 'app')", name=op.f("ck_users_source_known")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
    )
    op.create_index("ix_users_source", "users", ["source"], unique=False)

    op.create_table(
        "feedback_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'rating' AND value >= 0.5 AND value <= 5.0) OR (kind <> 'rating' AND value IS NULL)",
            name=op.f("ck_feedback_events_value_matches_kind"),
        ),
        sa.CheckConstraint(
            "kind IN ('rating', 'like', 'dislike', 'watched')", name=op.f("ck_feedback_events_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movies.movie_id"], name=op.f("fk_feedback_events_movie_id_movies"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_feedback_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_events")),
    )
    op.create_index("ix_feedback_events_movie_id_kind", "feedback_events", ["movie_id", "kind"], unique=False)
    op.create_index("ix_feedback_events_user_id_id", "feedback_events", ["user_id", "id"], unique=False)

    op.create_table(
        "movie_genres",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("genre", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movies.movie_id"], name=op.f("fk_movie_genres_movie_id_movies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("movie_id", "genre", name=op.f("pk_movie_genres")),
    )
    op.create_index("ix_movie_genres_genre_movie_id", "movie_genres", ["genre", "movie_id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.CheckConstraint("rating >= 0.5 AND rating <= 5.0", name=op.f("ck_ratings_rating_range")),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movies.movie_id"], name=op.f("fk_ratings_movie_id_movies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_ratings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "movie_id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("user_id", "seq", name=op.f("uq_ratings_user_id_seq")),
    )
    op.create_index("ix_ratings_movie_id_rating", "ratings", ["movie_id", "rating"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_ratings_movie_id_rating", table_name="ratings")

    op.drop_table("ratings")
    op.drop_index("ix_movie_genres_genre_movie_id", table_name="movie_genres")

    op.drop_table("movie_genres")
    op.drop_index("ix_feedback_events_user_id_id", table_name="feedback_events")
    op.drop_index("ix_feedback_events_movie_id_kind", table_name="feedback_events")

    op.drop_table("feedback_events")
    op.drop_index("ix_users_source", table_name="users")

    op.drop_table("users")
    op.drop_index("ix_movies_year", table_name="movies")
    op.drop_index("ix_movies_title", table_name="movies")
    op.drop_index("ix_movies_rating_score", table_name="movies")
    op.drop_index("ix_movies_popularity", table_name="movies")

    op.drop_table("movies")
    op.drop_table("load_state")
