"""Search: plain-language, title and hybrid search with filters; suggestions for the search box."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import OWNER_SECURITY, require_owner
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, SearchQuery, SearchResponse, SuggestQuery, SuggestResponse
from movie_genie.api.services import services

bp = api_blueprint("search", "/api/search", "Plain-language and title search")


@bp.get(
    "",
    responses={200: SearchResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def search_movies(query: SearchQuery) -> Response:
    """Ranked films for a query; `personalized` is true only when the user's taste was really blended in (with
    `user_id` of a profile created in the app: its owner only). With `user_id` the results are logged as an
    impression (meta.impression_id)."""
    if query.user_id is not None:
        require_owner(query.user_id, read=True)
    served = services().search.search(query)
    impression_id = services().online.log_search(query.user_id, served)
    return respond(served.body, cached=served.cached, impression_id=impression_id)


@bp.get("/suggest", responses={200: SuggestResponse, 503: ErrorResponse})
def suggest_titles(query: SuggestQuery) -> Response:
    """Titles that complete or fuzzily match what was typed."""
    return respond(services().search.suggest(query.q, query.k))
