"""Experiments (params.yaml `experiments`, and those started at run time): list them, start one, read a report."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.ownership import ADMIN_SECURITY, require_admin
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import (
    ErrorResponse,
    ExperimentBody,
    ExperimentPath,
    OnlineReportResponse,
    OnlineReportsResponse,
)
from movie_genie.api.services import services

bp = api_blueprint("experiments", "/api/experiments", "Online experiments and their reports")


@bp.get("", responses={200: OnlineReportsResponse, 503: ErrorResponse})
def list_experiments() -> Response:
    """Every experiment's online report (params.yaml's first, then those started at run time)."""
    return respond(services().online.reports())


@bp.post(
    "",
    responses={
        201: OnlineReportResponse,
        400: ErrorResponse,
        401: ErrorResponse,
        403: ErrorResponse,
        409: ErrorResponse,
    },
    security=ADMIN_SECURITY,
)
def start_experiment(body: ExperimentBody) -> Response:
    """Start an experiment now, in every worker (admin token only): e.g. the serving `ease` against a retrained
    `ease@v20261130-081502`. Its users are assigned by a stable hash; its report starts empty."""
    require_admin("starting an experiment")
    return respond(services().start_experiment(body), status=201)


@bp.get("/<name>/report", responses={200: OnlineReportResponse, 404: ErrorResponse, 503: ErrorResponse})
def read_experiment_report(path: ExperimentPath) -> Response:
    """Per variant: impressions, click-through, rating-after-impression and MRR of clicks with 95% intervals;
    interleaving: wins per ranker and a binomial test; the fixed-horizon decision and its rule. Aggregates only."""
    return respond(services().online.report(path.name))
