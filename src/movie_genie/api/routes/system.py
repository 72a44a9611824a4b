"""Liveness, readiness (health of every dependency), the models with their evaluation figures, and how much
metadata the catalogue has."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import DEMO_NOTICE, demo_mode, is_admin
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import (
    AccessInfo,
    AccessResponse,
    CatalogueResponse,
    ErrorResponse,
    HealthResponse,
    ModelsResponse,
    Ping,
    PingResponse,
)
from movie_genie.api.services import services

bp = api_blueprint("system", "/api", "Liveness, readiness, the models and the catalogue's metadata")


@bp.get("/ping", responses={200: PingResponse})
def ping() -> Response:
    """Liveness: the process answers (checks nothing else)."""
    return respond(Ping())


@bp.get("/health", responses={200: HealthResponse, 503: HealthResponse})
def check_health() -> Response:
    """Readiness: 200 "ready" while every capability (recommendations, similar films, search, the database) has a
    model, retriever or database serving it, its fallbacks included; 503 "not_ready" when one has none. Each
    capability says what serves it and what is missing, `checks` each dependency (a missing model that a fallback
    covers is `degraded`, still 200). Liveness is /api/ping."""
    health = services().health()
    return respond(health, status=200 if health.status == "ready" else 503)


@bp.get("/access", responses={200: AccessResponse})
def read_access() -> Response:
    """Whether this server runs in local demo mode (MovieLens profiles writable by anyone) and whether the request
    carries the admin token; profiles created in the app are always written with their own bearer secret."""
    demo = demo_mode()
    return respond(AccessInfo(demo_mode=demo, notice=DEMO_NOTICE if demo else None, admin=is_admin()))


@bp.get("/models", responses={200: ModelsResponse, 500: ErrorResponse})
def list_models() -> Response:
    """Every recommender with its version and its test-split metrics from the evaluation report."""
    return respond(services().models_info())


@bp.get("/catalogue", responses={200: CatalogueResponse})
def read_catalogue() -> Response:
    """How many films have a plot summary and a poster (none: the app says how to add metadata)."""
    return respond(services().catalogue_info)
