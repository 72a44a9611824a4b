"""Per-movie user tags: movies.tags, the data set's most frequent tags of each film, filled by `db load`.

Nullable: until the next load it is NULL and the film's page shows no tags.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON lists: JSONB on PostgreSQL, JSON text elsewhere (as in db/models.py).
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (ADD COLUMN works in place on SQLite too)."""
    op.add_column("movies", sa.Column("tags", JSON_LIST, nullable=True))


def downgrade() -> None:
    """Revert this revision (SQLite rebuilds the table to drop a column)."""
    with op.batch_alter_table("movies") as batch_op:
        batch_op.drop_column("tags")
