"""Experiments (params.yaml `experiments`): each one's online report."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import ErrorResponse, ExperimentPath, OnlineReportResponse
from movie_genie.api.services import services

bp = api_blueprint("experiments", "/api/experiments", "Online experiments and their reports")


@bp.get("/<name>/report", responses={200: OnlineReportResponse, 404: ErrorResponse, 503: ErrorResponse})
def read_experiment_report(path: ExperimentPath) -> Response:
    """Per variant: impressions, click-through, rating-after-impression and MRR of clicks with 95% intervals;
    interleaving: wins per ranker and a binomial test; the fixed-horizon decision and its rule. Aggregates only."""
    return respond(services().online.report(path.name))
