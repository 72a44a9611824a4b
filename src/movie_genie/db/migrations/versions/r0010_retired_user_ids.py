"""Random ids for profiles made in the app: the ids of deleted profiles are kept in retired_user_ids, so that a
random draw never gives one to another profile (the rule used to be "above the highest deleted id", which only
works for ids counted upwards).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision. Ids deleted before it were counted upwards, below every random id: nothing to copy."""
    op.create_table(
        "retired_user_ids",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_retired_user_ids")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("retired_user_ids")
