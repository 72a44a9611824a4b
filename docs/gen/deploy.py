"""The deployment as documentation: compose services, Prometheus metrics and alerts, and the DDP notice."""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from docs.gen.code_reference import module_files
from docs.gen.common import PACKAGE, GenerationError, table_cell


def compose_table(compose_text: str) -> str:
    """The services of deploy/docker-compose.yml: image or build, published ports, dependencies, volumes."""
    services = (yaml.safe_load(compose_text) or {}).get("services", {})
    rows = ["| service | image | ports | starts after | volumes |", "| --- | --- | --- | --- | --- |"]
    for name, svc in services.items():
        image = f"`{svc['image']}`" if "image" in svc else ""
        if "build" in svc:
            build = svc["build"]
            dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, Mapping) else "Dockerfile"
            image = f"{image} built from `{dockerfile}`".strip()
        depends = svc.get("depends_on", [])
        after = [
            f"{dep} ({cond.get('condition', '').replace('service_', '')})" if isinstance(cond, Mapping) else str(dep)
            for dep, cond in (depends.items() if isinstance(depends, Mapping) else ((d, None) for d in depends))
        ]
        rows.append(
            f"| **{name}** | {image} | "
            + "<br>".join(f"`{p}`" for p in svc.get("ports", []))
            + " | "
            + "<br>".join(after)
            + " | "
            + "<br>".join(f"`{v}`" for v in svc.get("volumes", []))
            + " |"
        )
    return "\n".join(rows) + "\n"


def metrics_table() -> str:
    """The Prometheus metrics the API exports, read from the metric objects in movie_genie.api.metrics."""
    from prometheus_client.metrics import MetricWrapperBase

    import movie_genie.api.metrics as api_metrics

    rows = ["| metric | type | labels | what it measures |", "| --- | --- | --- | --- |"]
    for value in vars(api_metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        family = value.describe()[0]
        # The exposition names: counters get _total, histograms _bucket/_sum/_count (PromQL sees these).
        name = f"{family.name}_total" if family.type == "counter" else family.name
        labels = ", ".join(f"`{label}`" for label in getattr(value, "_labelnames", ()))
        rows.append(f"| `{name}` | {family.type} | {labels} | {table_cell(family.documentation)} |")
    if len(rows) == 2:
        raise GenerationError("movie_genie.api.metrics defines no Prometheus metric")
    return "\n".join(rows) + "\n"


def ddp_status(page: str) -> str:
    """Whether multi-process training (PyTorch DDP) exists in the code: a notice either way, never a stale claim."""
    users = [f for f in module_files() if "DistributedDataParallel" in f.read_text(encoding="utf-8")]
    if not users:
        return (
            '!!! warning "Not yet available"\n'
            "    Multi-process training (PyTorch DDP under `torchrun`) is planned for BERT4Rec and Two-Tower but is\n"
            "    **not in this version**: no module of `src/movie_genie` uses `DistributedDataParallel`, and the\n"
            "    training loops run in one process. This notice is generated from the code at build time, so it\n"
            "    disappears as soon as such support lands.\n"
        )
    links = ", ".join(f"[[src:{f.relative_to(PACKAGE).as_posix()}]]" for f in users)
    return (
        '!!! info "Multi-process training is in the code"\n'
        f"    These modules use PyTorch `DistributedDataParallel`: {links}. This page says how to launch them with\n"
        "    `torchrun` and what changes; this notice is generated from the code at build time.\n"
    )


def alerts_table(alerts_text: str) -> str:
    """The Prometheus alerting rules (deploy/prometheus/alerts.yml): name, severity, wait, summary, expression."""
    rows = ["| alert | severity | after | when |", "| --- | --- | --- | --- |"]
    for group in (yaml.safe_load(alerts_text) or {}).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            summary = (rule.get("annotations") or {}).get("summary", "")
            expr = " ".join(str(rule.get("expr", "")).split())
            rows.append(
                f"| **{rule['alert']}** | {(rule.get('labels') or {}).get('severity', '')} | {rule.get('for', '')} | "
                f"{table_cell(summary)}<br>`{table_cell(expr)}` |"
            )
    return "\n".join(rows) + "\n"
