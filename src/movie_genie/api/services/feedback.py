"""Feedback: store a mark (which changes the user's feedback version, so cached answers for them are recomputed),
take one back, read what a user did with a film, and list their events."""

from __future__ import annotations

from pydantic import TypeAdapter

from movie_genie.api import schemas as s
from movie_genie.api.metrics import FEEDBACK_EVENTS
from movie_genie.api.services.database import Database
from movie_genie.db.feedback import add_feedback, list_feedback, movie_mark, remove_feedback

_MARK_JSON = TypeAdapter(s.MovieMark)  # the database's Mark is the API's schema: serialised as it is, no copy


class FeedbackService:
    """Store feedback (which changes the user's feedback version) and list it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, user_id: int, movie_id: int, kind: str, value: float | None) -> tuple[s.Feedback, bool]:
        """Validate and store one mark (the same mark twice is stored once); whether it was new."""
        with self.db.session() as session:
            event = add_feedback(session, user_id, movie_id, kind, value)
        if event.created:
            FEEDBACK_EVENTS.labels(kind=kind).inc()
        return s.Feedback.model_validate(event, from_attributes=True), event.created

    def remove(self, user_id: int, movie_id: int, kind: str) -> s.RemovedFeedback:
        """Take a mark back (un-like, un-watch, interested again, clear a rating)."""
        with self.db.session() as session:
            removed = remove_feedback(session, user_id, movie_id, kind)
        return s.RemovedFeedback(user_id=user_id, movie_id=movie_id, kind=kind, removed=removed)

    def mark(self, user_id: int, movie_id: int) -> bytes:
        """What the user did with one film, from their whole history (their data set rating included), as JSON."""
        with self.db.session() as session:
            return _MARK_JSON.dump_json(movie_mark(session, user_id, movie_id))

    def list_events(self, user_id: int, limit: int) -> list[s.Feedback]:
        """The user's newest events first."""
        with self.db.session() as session:
            events = list_feedback(session, user_id, limit=limit)
        return [s.Feedback.model_validate(e, from_attributes=True) for e in events]
