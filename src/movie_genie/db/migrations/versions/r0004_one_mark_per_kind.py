"""Feedback marks: at most one event per (user, movie, kind), and the 'dismiss' kind ("not interested").

Repeated clicks used to append duplicate events (counted twice, listed twice); the upgrade keeps each user's latest
event per (movie, kind), keeps only the later of a like and a dislike of the same film, then adds the unique
constraint. Ids become never-reused on SQLite (AUTOINCREMENT) so that the user's feedback version, (newest id,
number of events), changes with every write including deletions. The downgrade deletes 'dismiss' events (the old
schema does not know them).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_OLD = "kind IN ('rating', 'like', 'dislike', 'watched')"
_KINDS_NEW = "kind IN ('rating', 'like', 'dislike', 'watched', 'dismiss')"


def upgrade() -> None:
    """Drop superseded duplicates, then allow 'dismiss' and make (user, movie, kind) unique."""
    op.execute(
        "DELETE FROM feedback_events WHERE EXISTS (SELECT 1 FROM feedback_events AS newer"
        " WHERE newer.user_id = feedback_events.user_id AND newer.movie_id = feedback_events.movie_id"
        " AND newer.kind = feedback_events.kind AND newer.id > feedback_events.id)"
    )
    op.execute(
        "DELETE FROM feedback_events WHERE kind IN ('like', 'dislike') AND EXISTS (SELECT 1 FROM feedback_events"
        " AS newer WHERE newer.user_id = feedback_events.user_id AND newer.movie_id = feedback_events.movie_id"
        " AND newer.kind IN ('like', 'dislike') AND newer.kind <> feedback_events.kind"
        " AND newer.id > feedback_events.id)"
    )
    # SQLite: rebuilt with AUTOINCREMENT, so a deleted newest id is never handed out again.
    with op.batch_alter_table(
        "feedback_events", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_feedback_events_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_feedback_events_kind_known"), sa.text(_KINDS_NEW))
        batch_op.create_unique_constraint(
            op.f("uq_feedback_events_user_id_movie_id_kind"), ["user_id", "movie_id", "kind"]
        )


def downgrade() -> None:
    """Revert this revision ('dismiss' events are deleted: the old check constraint refuses them)."""
    op.execute("DELETE FROM feedback_events WHERE kind = 'dismiss'")
    with op.batch_alter_table("feedback_events") as batch_op:
        batch_op.drop_constraint(op.f("uq_feedback_events_user_id_movie_id_kind"), type_="unique")
        batch_op.drop_constraint(op.f("ck_feedback_events_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_feedback_events_kind_known"), sa.text(_KINDS_OLD))
