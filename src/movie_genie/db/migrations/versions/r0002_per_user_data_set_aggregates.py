"""Per-user data set aggregates: users.rating_count and users.top_genres, filled by `db load`.

Both are nullable: until the next load they are NULL and the repository computes the figures live.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON lists: JSONB on PostgreSQL, JSON text elsewhere (as in db/models.py).
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (ADD COLUMN works in place on SQLite too)."""
    op.add_column("users", sa.Column("rating_count", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("top_genres", JSON_LIST, nullable=True))


def downgrade() -> None:
    """Revert this revision (SQLite rebuilds the table to drop a column)."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("top_genres")
        batch_op.drop_column("rating_count")
