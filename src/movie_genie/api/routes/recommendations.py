"""Recommendations: a user's top-k from one model, each with a reason, reflecting their latest feedback."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, RecommendationsQuery, RecommendationsResponse
from movie_genie.api.services import services

bp = api_blueprint("recommendations", "/api/recommendations", "Personalised recommendations with reasons")


@bp.get("", responses={200: RecommendationsResponse, 404: ErrorResponse, 503: ErrorResponse})
def recommend_movies(query: RecommendationsQuery) -> Response:
    """Top-k films for the user from the chosen model (history read from the database on every miss)."""
    data, meta = services().recommendations.recommend(query.user_id, query.model, query.k)
    return respond(data, **meta)
