"""The OpenAPI spec and a bounded schemathesis run against it: no request the spec allows may cause a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from movie_genie.api.app import openapi_spec


@pytest.fixture(scope="session")
def api_schema(app: Flask) -> Any:
    """The live spec of the session app, loaded by schemathesis through WSGI (no network)."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


# Every operation of the spec, read without artefacts (the pytest plugin's lazy loading does not work with
# pytest 9, so each operation gets a plain Hypothesis test over schemathesis' case strategy).
_SPEC = openapi_spec()
# (method, path, generation mode): invalid requests only where there is something to make invalid.
CASES = sorted(
    (method.upper(), path, mode)
    for path, ops in _SPEC["paths"].items()
    for method, op in ops.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
)
# Valid requests: no 5xx, a documented status and body, and never refused (a 4xx other than 404/409/429 means the
# spec promises something the server does not accept).
POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]
MAX_EXAMPLES = 8


def follows_documented_rules(case: Any) -> bool:
    """Whether a generated request keeps the rules that span several fields, which JSON Schema cannot state and the
    spec's descriptions do: a year range in order, a blank search only with a filter, a value only with (and always
    with) a rating, at least 3 different liked films."""
    query = case.query or {}
    body = case.body if isinstance(case.body, dict) else {}
    year_min, year_max = query.get("year_min"), query.get("year_max")
    if isinstance(year_min, int) and isinstance(year_max, int) and year_min > year_max:
        return False
    filtered = query.get("genre") or year_min is not None or year_max is not None or query.get("min_ratings")
    if case.path == "/api/search" and not str(query.get("q", "")).strip() and not filtered:
        return False
    if case.path == "/api/feedback" and case.method == "POST" and "kind" in body:
        return (body["kind"] == "rating") == (body.get("value") is not None)
    if case.path == "/api/users" and case.method == "POST" and isinstance(body.get("liked_movie_ids"), list):
        return len(set(body["liked_movie_ids"])) >= 3
    return True


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_no_server_errors_and_responses_match_the_spec(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    # Valid requests must get documented statuses and bodies; invalid ones a 4xx, never a 5xx.
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else [not_a_server_error, negative_data_rejection]

    strategy = operation.as_strategy(mode)
    if mode == GenerationMode.POSITIVE:
        strategy = strategy.filter(follows_documented_rules)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=checks)

    run()


def test_spec_is_openapi3_with_every_endpoint(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    expected = {
        ("get", "/api/health"),
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("get", "/api/users/{user_id}"),
        ("get", "/api/users/{user_id}/feedback"),
        ("get", "/api/movies"),
        ("get", "/api/movies/popular"),
        ("get", "/api/movies/{movie_id}"),
        ("get", "/api/movies/{movie_id}/similar"),
        ("get", "/api/genres"),
        ("get", "/api/search"),
        ("get", "/api/search/suggest"),
        ("get", "/api/recommendations"),
        ("post", "/api/feedback"),
        ("get", "/api/models"),
    }
    found = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert expected <= found
    k = next(p for p in spec["paths"]["/api/recommendations"]["get"]["parameters"] if p["name"] == "k")
    assert k["schema"]["maximum"] == 100
    q = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["schema"]["maxLength"] == 200
    # The CLI prints the same document without loading any artefact.
    assert _SPEC["paths"].keys() == spec["paths"].keys()
