"""Per-user taste for the picker and the profile: users.taste, taste_terms, favourite_movie_ids, first_rated_at and
last_rated_at, filled by `db load`.

All nullable: until the next load (the loader's fingerprint includes the migration head, so it reloads) they are
NULL and the user list shows no taste.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON lists: JSONB on PostgreSQL, JSON text elsewhere (as in db/models.py).
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (ADD COLUMN works in place on SQLite too)."""
    op.add_column("users", sa.Column("taste", JSON_LIST, nullable=True))
    op.add_column("users", sa.Column("taste_terms", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("favourite_movie_ids", JSON_LIST, nullable=True))
    op.add_column("users", sa.Column("first_rated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("last_rated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision (SQLite rebuilds the table to drop a column)."""
    with op.batch_alter_table("users") as batch_op:
        for column in ("last_rated_at", "first_rated_at", "favourite_movie_ids", "taste_terms", "taste"):
            batch_op.drop_column(column)
