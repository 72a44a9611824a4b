"""One JSON shape for every error: `{"error": {"code", "message", "details"}}`, never a stack trace.

Errors raised by the layers below map to HTTP statuses here: the database layer's not-found errors to 404, the
errors that say a client's input was bad (the database layer's invalid input, the search engine's bad query) to
400, an unreachable database or a missing artefact to 503. Every other error is the server's: a MovieGenieError
that no client input explains (a broken checkpoint, a model not fitted, ...) or a bug is logged on the server and
answered with a generic 500 (code "internal_error", no traceback).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from movie_genie.api.web import is_api_path, serve_spa_path
from movie_genie.db.errors import DatabaseUnavailableError, InvalidInputError, NotFoundError
from movie_genie.errors import ArtifactMissingError, MovieGenieError
from movie_genie.search.errors import SearchInputError

log = logging.getLogger(__name__)

# Stable, machine-readable codes for the HTTP errors Werkzeug raises (the web client switches on these).
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers with a given status, code and message (and optional details)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ResourceNotFoundError(ApiError):
    """A resource (user, movie, model) that does not exist: 404."""

    status = 404
    code = "not_found"


class ConflictError(ApiError):
    """The request clashes with what exists (a name already taken): 409."""

    status = 409
    code = "conflict"


class ServiceUnavailableError(ApiError):
    """A dependency (database, model, index) is not available: 503."""

    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Build the JSON error envelope with the given HTTP status."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json")


def validation_error_response(exc: ValidationError) -> Response:
    """flask-openapi3's validation callback: a 400 listing each bad field, its location and what is wrong."""
    details = [
        {"loc": [str(part) for part in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    problems = "; ".join(f"{'.'.join(d['loc']) or 'body'}: {_lower_first(str(d['msg']))}" for d in details)
    return error_response(400, "validation_error", f"invalid request parameters: {problems}", details)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _handle_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _handle_http_exception(exc: HTTPException) -> ResponseReturnValue:
    # An abort() carrying a finished response (flask-openapi3's validation errors) is passed through as it is.
    if exc.response is not None:
        return exc.response
    status = exc.code or 500
    if status == 404 and request.method in ("GET", "HEAD") and not is_api_path(request.path):
        # Not an API path: a file of the web app's build or one of its client-side routes.
        return serve_spa_path(request.path)
    message = exc.description or exc.name
    if status == 405:
        message = f"{request.method} is not allowed on {request.path}"
    elif status == 404:
        message = f"no such endpoint: {request.path}"
    elif status == 413:
        message = f"request body too large (limit {current_app.config.get('MAX_CONTENT_LENGTH')} bytes)"
    response = error_response(status, _HTTP_CODES.get(status, "http_error"), message)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _handle_domain_error(exc: MovieGenieError) -> Response:
    if isinstance(exc, NotFoundError):
        return error_response(404, "not_found", str(exc))
    if isinstance(exc, InvalidInputError):
        return error_response(400, "invalid_input", str(exc))
    if isinstance(exc, SearchInputError):
        return error_response(400, "bad_request", str(exc))
    if isinstance(exc, DatabaseUnavailableError | ArtifactMissingError):
        log.warning("dependency unavailable: %s", exc)
        return error_response(503, "unavailable", str(exc))
    # Not the client's input: the server's state or a bug (a client is never told to fix what it cannot).
    return _handle_unexpected(exc)


def _handle_unexpected(exc: Exception) -> Response:
    # A bug: the traceback goes to the server log only; the client gets a generic message.
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error; the server log has the details")


def register_error_handlers(app: Flask) -> None:
    """Route every error to the JSON envelope."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(MovieGenieError, _handle_domain_error)
    app.register_error_handler(Exception, _handle_unexpected)
