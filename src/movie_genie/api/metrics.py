"""Prometheus metrics: request latency per route, model inference time, cache hits/misses, feedback counts.

Under gunicorn every worker is its own process, so `movie-genie serve` sets PROMETHEUS_MULTIPROC_DIR before any
worker imports prometheus_client; each process then writes its samples to files there and /metrics aggregates
them with MultiProcessCollector. Without that variable (tests, a single process) the default registry is used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Buckets from 1 ms to 2.5 s: the API's latency targets are in the 10-25 ms range.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUEST_LATENCY = Histogram(
    "movie_genie_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
INFERENCE_LATENCY = Histogram(
    "movie_genie_model_inference_seconds",
    "Time spent inside a model or the search engine for one request.",
    ["model", "operation"],
    buckets=_LATENCY_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "movie_genie_cache_requests_total",
    "Cache look-ups by cache name and result (hit or miss).",
    ["cache", "result"],
)
FEEDBACK_EVENTS = Counter(
    "movie_genie_feedback_events_total",
    "Feedback events recorded, by kind (rating, like, dislike, watched).",
    ["kind"],
)


@contextmanager
def time_inference(model: str, operation: str) -> Iterator[None]:
    """Observe the duration of the enclosed block in the inference histogram."""
    start = time.perf_counter()
    try:
        yield
    finally:
        INFERENCE_LATENCY.labels(model=model, operation=operation).observe(time.perf_counter() - start)


def count_cache(cache: str, hit: bool) -> None:
    """Count one cache look-up."""
    CACHE_REQUESTS.labels(cache=cache, result="hit" if hit else "miss").inc()


def _before() -> None:
    g.metrics_start = time.perf_counter()


def _after(response: Response) -> Response:
    start = g.pop("metrics_start", None)
    if start is not None:
        # The route template (/api/movies/<int:movie_id>), not the path, keeps the label set small.
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUEST_LATENCY.labels(route=rule, method=request.method, status=str(response.status_code)).observe(
            time.perf_counter() - start
        )
    return response


def render_metrics() -> Response:
    """The Prometheus text exposition of this process, or of every worker in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    return Response(payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


def init_metrics(app: Flask) -> None:
    """Time every request and serve GET /metrics."""
    app.before_request(_before)
    app.after_request(_after)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=render_metrics, methods=["GET"])
