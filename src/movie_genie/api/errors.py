"""One JSON shape for every error: `{"error": {"code", "message", "details"}}`, never a stack trace.

Errors raised by the layers below map to HTTP statuses here: the database layer's not-found errors to 404, the
errors that say a client's input was bad (the database layer's invalid input, the search engine's bad query) to
400, an unreachable database or a missing artefact to 503. Every other error is the server's: a MovieGenieError
that no client input explains (a broken checkpoint, a model not fitted, ...) or a bug is logged on the server and
answered with a generic 500 (code "internal_error", no traceback).

A 5xx message never shows how the server is laid out: `public_text` takes file paths, file names, URLs and module
names out of it (the server log keeps the whole message).
"""

from __future__ import annotations

import json
import logging
import re
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
    """An error the API answers with a given status, code and message (and optional details).

    A subclass names its own in its header: `class ConflictError(ApiError, status=409, code="conflict")`.
    """

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, details: Any = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ResourceNotFoundError(ApiError, status=404, code="not_found"):
    """A resource (user, movie, model) that does not exist."""


class ConflictError(ApiError, status=409, code="conflict"):
    """The request clashes with what exists (a name already taken)."""


class ServiceUnavailableError(ApiError, status=503, code="unavailable"):
    """A dependency (database, model, index) is not available."""


# What a 5xx body must not show: a URL (a database address), a file path or file name, a module's dotted name.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)
_EXTENSIONS = r"(?:pt|pth|py|pyc|npz|npy|faiss|onnx|parquet|json|ya?ml|db|sqlite3?|csv|pkl|zip|gz|txt|log)"
_PATH = re.compile(
    r"(?<!\w)(?:[A-Za-z]:)?(?:~|\.{1,2})?[\\/][^\s'\"`,;()\[\]]+"  # absolute (or ./, ~/, C:\\) paths
    r"|\b[\w.@+-]+(?:[\\/][\w.@+-]+){2,}"  # relative paths of three parts or more
    rf"|\b[\w.@+-]+(?:[\\/][\w.@+-]+)*\.{_EXTENSIONS}\b"  # file names (with or without a folder)
)
_MODULE = re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)+([A-Z]\w*)")  # sqlite3.OperationalError -> OperationalError
_HIDDEN_PATH = "(server path hidden)"


def public_text(text: str) -> str:
    """`text` without file paths, file names, URLs or module names, for a response body (log the original)."""
    text = _URL.sub("(address hidden)", text)
    text = _PATH.sub(_HIDDEN_PATH, text)
    return _MODULE.sub(r"\1", text)


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
    if exc.status >= 500:
        message = public_text(exc.message)
        if message != exc.message:
            log.warning("%s %s answered %d: %s", request.method, request.path, exc.status, exc.message)
        return error_response(exc.status, exc.code, message, exc.details)
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
        return error_response(503, "unavailable", public_text(str(exc)))
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
