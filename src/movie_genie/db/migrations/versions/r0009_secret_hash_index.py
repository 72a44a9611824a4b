"""Signing in with a profile key: an index on users.secret_hash, so that finding the profile a key belongs to is
one index look-up instead of a scan of every user.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (CREATE INDEX works in place on SQLite too)."""
    op.create_index("ix_users_secret_hash", "users", ["secret_hash"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_users_secret_hash", table_name="users")
