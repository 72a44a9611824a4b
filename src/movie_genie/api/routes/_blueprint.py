"""The one way blueprints are made here: tagged, with the error responses every route can give in the spec."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from movie_genie.api.schemas import ErrorResponse

# Every route can answer these (bad parameters, rate limited, a bug); each route adds its own (404, 503, ...).
COMMON_RESPONSES = {400: ErrorResponse, 413: ErrorResponse, 429: ErrorResponse, 500: ErrorResponse}


def api_blueprint(name: str, url_prefix: str, description: str) -> APIBlueprint:
    """An APIBlueprint for one resource, tagged with its name."""
    return APIBlueprint(
        name,
        f"movie_genie.api.routes.{name}",
        url_prefix=url_prefix,
        abp_tags=[Tag(name=name, description=description)],
        abp_responses=COMMON_RESPONSES,  # type: ignore[arg-type]
        # operationId = the route function's name (e.g. recommend_movies): readable names in the generated client.
        operation_id_callback=lambda name, path, method: name,
    )
