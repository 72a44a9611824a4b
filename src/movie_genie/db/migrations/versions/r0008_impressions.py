"""Impressions for online evaluation: every list the API served with its films in order (impressions; a JSON list,
with the contributing ranker of each film of an interleaved list) and the clicks and marks attributed to it at the
film's position (impression_events).

The films are a JSON column rather than a row each: a served list is one row to write (the batched writer's cost,
measured by benchmarks/bench_impressions.py, fell accordingly), and attribution always starts from the impression.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "impressions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("surface", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("experiment", sa.String(length=100), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("movie_ids", JSON_LIST, nullable=False),
        sa.Column("teams", JSON_LIST, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_impressions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impressions")),
    )
    op.create_index("ix_impressions_experiment_variant", "impressions", ["experiment", "variant"], unique=False)
    op.create_index("ix_impressions_user_id_created_at", "impressions", ["user_id", "created_at"], unique=False)

    op.create_table(
        "impression_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("impression_id", sa.String(length=32), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_impression_events_position_positive")),
        sa.CheckConstraint(
            "kind IN ('click', 'rating', 'like', 'dislike', 'watched', 'dismiss')",
            name=op.f("ck_impression_events_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["impression_id"],
            ["impressions.id"],
            name=op.f("fk_impression_events_impression_id_impressions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impression_events")),
    )
    op.create_index("ix_impression_events_impression_id", "impression_events", ["impression_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_impression_events_impression_id", table_name="impression_events")
    op.drop_table("impression_events")
    op.drop_index("ix_impressions_user_id_created_at", table_name="impressions")
    op.drop_index("ix_impressions_experiment_variant", table_name="impressions")
    op.drop_table("impressions")
