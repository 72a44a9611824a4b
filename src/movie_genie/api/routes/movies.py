"""Movies: browse the catalogue, popular films, details with live rating figures, similar films, genres."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import OWNER_ERRORS, OWNER_SECURITY, require_owner
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import (
    ErrorResponse,
    GenresResponse,
    MovieListResponse,
    MoviePath,
    MovieResponse,
    MoviesQuery,
    MoviesResponse,
    PopularQuery,
    SimilarQuery,
    SimilarResponse,
)
from movie_genie.api.services import services

bp = api_blueprint("movies", "/api", "The catalogue, details, similar films and genres")


@bp.get("/movies", responses={200: MoviesResponse})
def browse_movies(query: MoviesQuery) -> Response:
    """Films filtered by genre and year range, sorted by popularity, rating, year or title, paged."""
    movies, total = services().movies.browse(query)
    return respond(movies, page=query.page, page_size=query.page_size, total=total)


@bp.get(
    "/movies/popular",
    responses={200: MovieListResponse, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def list_popular_movies(query: PopularQuery) -> Response:
    """The most-rated films, optionally within one genre; with `user_id`, none of the films that user touched (what
    is left out tells what they touched, so for a profile created in the app: its owner only)."""
    if query.user_id is not None:
        require_owner(query.user_id, read=True)
    return respond(services().movies.popular(query.k, query.genre, query.user_id))


@bp.get("/movies/<int:movie_id>", responses={200: MovieResponse, 404: ErrorResponse})
def read_movie(path: MoviePath) -> Response:
    """A film's details, its data set rating figures and the live ones including app feedback."""
    return respond(services().movies.get(path.movie_id))


@bp.get(
    "/movies/<int:movie_id>/similar",
    responses={200: SimilarResponse, **OWNER_ERRORS, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def list_similar_movies(path: MoviePath, query: SimilarQuery) -> Response:
    """Films like this one: collaborative (Two-Tower item vectors) and content (text embeddings); with `user_id`,
    none of the films that user touched (for a profile created in the app: its owner only), and each list is
    logged as an impression (meta.impression_ids). A list whose model is not loaded is empty and `note` says why
    while the other answers; 503 only when no list asked for can be made."""
    if query.user_id is not None:
        require_owner(query.user_id, read=True)
    served = services().movies.similar(path.movie_id, query.k, query.kind, query.user_id)
    impression_ids = services().online.log_lists(query.user_id, "similar", served)
    return respond(served.body, cached=served.cached, impression_ids=impression_ids)


@bp.get("/genres", responses={200: GenresResponse})
def list_genres() -> Response:
    """Every genre with its number of films."""
    return respond(services().movies.genres())
