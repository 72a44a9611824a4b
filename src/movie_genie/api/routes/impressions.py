"""Impressions: a click on a film card, credited to the list (impression) that showed it."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import OWNER_SECURITY, require_owner
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ClickBody, ClickResponse, ErrorResponse, ImpressionPath
from movie_genie.api.services import services

bp = api_blueprint("impressions", "/api/impressions", "Clicks on the lists the API served (online evaluation)")


@bp.post(
    "/<impression_id>/clicks",
    responses={201: ClickResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def record_click(path: ImpressionPath, body: ClickBody) -> Response:
    """The user opened a film from a list: stored with the film's position (and, interleaved, its ranker); 404 when
    the impression is unknown or did not show the film. The impression's user's owner only (as for feedback)."""
    online = services().online
    require_owner(online.impression_user(path.impression_id))
    return respond(online.click(path.impression_id, body.movie_id), status=201)
