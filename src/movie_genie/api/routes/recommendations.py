"""Recommendations: a user's top-k from one model, each with a reason, reflecting their latest feedback."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import OWNER_ERRORS, OWNER_SECURITY, require_owner
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, RecommendationsQuery, RecommendationsResponse
from movie_genie.api.services import services

bp = api_blueprint("recommendations", "/api/recommendations", "Personalised recommendations with reasons")


@bp.get(
    "",
    responses={200: RecommendationsResponse, **OWNER_ERRORS, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def recommend_movies(query: RecommendationsQuery) -> Response:
    """Top-k films for the user from the chosen model (history read from the database on every miss); with no model
    named, a running experiment may choose the list (meta.experiment, meta.variant). The list is logged as an
    impression (meta.impression_id). The reasons name films the user liked, so a profile created in the app: its
    owner only."""
    require_owner(query.user_id, read=True)
    data, meta = services().online.recommend(query.user_id, query.model, query.k)
    return respond(data, **meta)
