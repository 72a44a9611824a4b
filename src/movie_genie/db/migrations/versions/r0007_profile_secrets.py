"""Profile owners: users.secret_hash, the SHA-256 of the bearer secret a profile created in the app is given once.

Nullable: MovieLens users have none (they are demo profiles, writable only in local demo mode or with the admin
token), and neither do app users created before this revision (treated like demo profiles).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (ADD COLUMN works in place on SQLite too)."""
    op.add_column("users", sa.Column("secret_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision (SQLite rebuilds the table to drop a column)."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("secret_hash")
