"""Feedback: ratings, likes, dislikes and "watched" that change the user's next recommendations at once."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.idempotency import idempotent
from movie_genie.api.ownership import OWNER_ERRORS, OWNER_SECURITY, require_owner
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import (
    ErrorResponse,
    FeedbackBody,
    FeedbackRemoveQuery,
    FeedbackResponse,
    IdempotencyHeader,
    RemovedFeedbackResponse,
)
from movie_genie.api.services import services

bp = api_blueprint("feedback", "/api/feedback", "Ratings, likes, dislikes and watched")


@bp.post(
    "",
    responses={
        201: FeedbackResponse,
        200: FeedbackResponse,
        **OWNER_ERRORS,
        409: ErrorResponse,
        503: ErrorResponse,
    },
    security=OWNER_SECURITY,
)
def record_feedback(header: IdempotencyHeader, body: FeedbackBody) -> Response:
    """Store a mark (201); the same mark again changes nothing (200). Cached answers are invalidated everywhere.
    With an Idempotency-Key, a retry answers what the first request answered; the key with another body or from
    another caller (another Authorization or Client-Token) is a 409.
    Only the profile's owner may write (its bearer secret; MovieLens profiles in demo mode only): else 401/403.
    A new mark is credited to the impression that showed the film (`impression_id`, else the user's newest)."""
    require_owner(body.user_id)

    def write() -> Response:
        event, created = services().feedback.add(body.user_id, body.movie_id, body.kind, body.value)
        if created:
            services().online.attribute(body.user_id, body.movie_id, body.kind, body.value, body.impression_id)
        return respond(event, status=201 if created else 200)

    return idempotent("POST /api/feedback", header, body, write)


@bp.delete(
    "",
    responses={200: RemovedFeedbackResponse, **OWNER_ERRORS, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def remove_feedback(query: FeedbackRemoveQuery) -> Response:
    """Take a mark back (un-like, un-watch, interested again, clear a rating); `removed` is 0 when it was not set.
    Only the profile's owner may (as for POST)."""
    require_owner(query.user_id)
    return respond(services().feedback.remove(query.user_id, query.movie_id, query.kind))
