"""The Grafana dashboard and the Prometheus alert rules cannot drift from the app: every PromQL query parses, and
every metric, label and matched label value it names exists on the live /metrics of the production server
(tests/deploy/conftest.py), after real traffic."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.conftest import ADMIN, WORKERS, Server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "movie-genie.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# Grafana's variables, replaced by values of the same type before parsing (a new variable must be added here).
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h", "$route": ".*"}
# Series Prometheus itself adds to every scrape, and the labels it attaches to every series it stores.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
PROMETHEUS_LABELS = {"job", "instance"}
# What the dashboard must show (latency by route, request and error rates, inference time, cache hit rate, feedback
# events): each of these metrics appears in some query.
REQUIRED = {
    "movie_genie_http_request_duration_seconds_bucket",  # latency by route p50/p95/p99
    "movie_genie_http_request_duration_seconds_count",  # request and error rates
    "movie_genie_model_inference_seconds_bucket",  # model inference time
    "movie_genie_cache_requests_total",  # cache hit rate
    "movie_genie_feedback_events_total",  # feedback events
}


def _queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    queries = [
        (f"panel {p['title']!r} {t['refId']}", t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
            assert match, f"variable {variable['name']}: unsupported query {variable['definition']!r}"
            # label_values(selector, label): the selector must exist and carry the label.
            queries.append((f"variable {variable['name']}", f"count by ({match[2]}) ({match[1]})"))
    return queries


def _substitute(expr: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}: add it to GRAFANA_VARIABLES"
    return expr


def _alert_queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every alerting rule."""
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [(f"alert {r['alert']}", r["expr"]) for g in groups for r in g["rules"]]


@dataclass
class _Used:
    """What a query refers to: metric names, label names, and label values it matches exactly."""

    names: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    values: set[tuple[str, str]] = field(default_factory=set)


def _used(expr: str) -> _Used:
    """Walk the parsed query for selectors (names, matchers) and aggregation labels (by/without)."""
    used = _Used()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                used.names.add(node.name)
            for matcher in node.matchers.matchers:
                used.labels.add(matcher.name)
                if matcher.op == promql_parser.MatchOp.Equal:
                    used.values.add((matcher.name, matcher.value))
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            used.labels.update(node.modifier.labels)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return used


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    """The provisioned dashboard JSON."""
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def test_dashboard_shows_the_required_metrics(dashboard: dict[str, Any]) -> None:
    used = set().union(*(_used(_substitute(e)).names for _, e in _queries(dashboard)))
    assert used >= REQUIRED, f"missing from the dashboard: {REQUIRED - used}"
    exprs = " ".join(e for _, e in _queries(dashboard))
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (route, le)" in exprs


def _live_series(server: Server) -> dict[str, dict[str, set[str]]]:
    """Drive every kind of request, then {sample name: {label: values}} from the live /metrics."""
    # One more request than there are workers: some worker answers it twice, a hit even where each worker caches
    # in its own memory (sqlite-local).
    for _ in range(WORKERS + 1):
        assert server.get("/api/recommendations?user_id=31&model=ease&k=5")[0] == 200
    assert server.get("/api/search?q=space+adventure&k=5")[0] == 200
    assert server.get("/api/movies/1/similar?k=5")[0] == 200
    assert server.get("/api/movies/99999999")[0] == 404
    assert server.post("/api/feedback", {"user_id": 31, "movie_id": 2, "kind": "watched"}, ADMIN)[0] == 201
    series: dict[str, dict[str, set[str]]] = {}
    for family in text_string_to_metric_families(server.text("/metrics")):
        for sample in family.samples:
            for label, value in sample.labels.items():
                series.setdefault(sample.name, {}).setdefault(label, set()).add(value)
    return series


def test_every_query_refers_to_what_the_live_server_exports(server: Server, dashboard: dict[str, Any]) -> None:
    series = _live_series(server)
    problems = []
    for where, expr in [*_queries(dashboard), *_alert_queries()]:
        used = _used(_substitute(expr))
        app_names = used.names - PROMETHEUS_SERIES
        problems += [f"{where}: metric {n} is not exported by the app" for n in sorted(app_names - set(series))]
        exported: dict[str, set[str]] = {}
        for name in app_names:
            for label, values in series.get(name, {}).items():
                exported.setdefault(label, set()).update(values)
        for label in sorted(used.labels - set(exported) - PROMETHEUS_LABELS):
            problems.append(f"{where}: label {label!r} is on none of {sorted(used.names)}")
        for label, value in sorted(used.values):
            if label in exported and value not in exported[label]:
                problems.append(f"{where}: {label}={value!r} never occurs (seen: {sorted(exported[label])})")
    assert not problems, "\n".join(problems)
