"""Error statuses: a client's bad input is a 4xx, anything else (the server's state, a bug) a 500 with a stable code
and no traceback, whichever layer raised it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from movie_genie.api.errors import register_error_handlers
from movie_genie.api.services import Services
from movie_genie.db.errors import DatabaseUnavailableError, InvalidInputError, MovieNotFoundError, SchemaOutOfDateError
from movie_genie.errors import DataError, MovieGenieError
from movie_genie.models.checkpoint import CheckpointError
from movie_genie.models.common import NotFittedError
from movie_genie.search.errors import SearchInputError

CASES: list[tuple[Exception, int, str]] = [
    (MovieNotFoundError("movie 7 is not in the catalogue"), 404, "not_found"),
    (InvalidInputError("page must be 1..1000000, got 0"), 400, "invalid_input"),
    (SearchInputError("k must be 1..100"), 400, "bad_request"),
    (DatabaseUnavailableError("database does not answer"), 503, "unavailable"),
    # Not the client's input: the server's state or a bug.
    (MovieGenieError("something the server cannot do"), 500, "internal_error"),
    (CheckpointError("/srv/models/ease.pt is truncated"), 500, "internal_error"),
    (NotFittedError("popularity model is not trained"), 500, "internal_error"),
    (DataError("ratings.parquet is corrupt"), 500, "internal_error"),
    (SchemaOutOfDateError("run `movie-genie db upgrade`"), 500, "internal_error"),
    (RuntimeError("a bug"), 500, "internal_error"),
]


def _app_raising(exc: Exception) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/api/raise")
    def _raise() -> Any:
        raise exc

    return app


@pytest.mark.parametrize(("exc", "status", "code"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_error_has_its_status_and_code(exc: Exception, status: int, code: str) -> None:
    response = _app_raising(exc).test_client().get("/api/raise")
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    if status == 500:
        # The server's own errors: a generic message, never the internal detail (paths, ...).
        assert str(exc) not in text and "server log" in error["message"]
    else:
        assert error["message"] == str(exc)


def test_an_internal_error_in_a_service_is_a_500_not_a_400(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    services: Services = app.extensions["movie_genie"]

    def broken() -> Any:
        raise NotFittedError("two_tower model is not trained: call fit() or load a checkpoint")

    monkeypatch.setattr(services.movies, "genres", broken)
    response = app.test_client().get("/api/genres")
    assert response.status_code == 500, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"
