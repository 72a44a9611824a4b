"""Signing in: a person who made a profile in one browser opens it in another with the profile's key."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import MissingSecretError, hash_secret
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, SignInBody, SignInResponse
from movie_genie.api.services import services

bp = api_blueprint("sign_in", "/api/sign-in", "Opening a profile made in the app with its key")

UNKNOWN_KEY = (
    "No profile has this key. Copy the whole key from the browser where you made the profile "
    "(Profile page → Your profile key)."
)


@bp.post("", responses={200: SignInResponse, 401: ErrorResponse})
def sign_in(body: SignInBody) -> Response:
    """Find the profile made in the app that this key belongs to, to open it in another browser.
    The key is the profile's secret; the browser then sends it as `Authorization: Bearer <key>`. An unknown or empty
    key is a 401. Under production settings each client address may try a few keys a minute (429 beyond)."""
    found = services().users.sign_in(hash_secret(body.key)) if body.key else None
    if found is None:
        raise MissingSecretError(UNKNOWN_KEY, code="unknown_key")
    return respond(found)
