"""Feedback: ratings, likes, dislikes and "watched" that change the user's next recommendations at once."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, FeedbackBody, FeedbackResponse
from movie_genie.api.services import services

bp = api_blueprint("feedback", "/api/feedback", "Ratings, likes, dislikes and watched")


@bp.post("", responses={201: FeedbackResponse, 404: ErrorResponse})
def record_feedback(body: FeedbackBody) -> Response:
    """Store a feedback event; the user's cached recommendations are invalidated in every worker."""
    event = services().feedback.add(body.user_id, body.movie_id, body.kind, body.value)
    return respond(event, status=201)
