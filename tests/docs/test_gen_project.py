"""The generators that read the project's own files (docs/gen/pipeline.py, deploy.py): the DVC stages, the compose
services, the metrics, the alerts and the distributed-training notice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from docs.gen.code_reference import module_files
from docs.gen.deploy import alerts_table, compose_table, ddp_status, metrics_table
from docs.gen.pipeline import stage_table

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_stage_table_lists_every_dvc_stage_with_its_params() -> None:
    """Each stage of dvc.yaml gets a row with its command, outputs and (linked) parameters."""
    dvc_text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    params_text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    table = stage_table(dvc_text, params_text, "pipeline.md")
    stages = yaml.safe_load(dvc_text)["stages"]
    for name, stage in stages.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| **{name}**"))
        if "foreach" in stage:  # one row for the template, naming each stage it makes
            assert all(f"`{name}@{item}`" in row for item in stage["foreach"])
            stage = stage["do"]
        assert f"`{stage['cmd']}`" in row
        for out in stage.get("outs", []):
            assert f"`{out}`" in row
        for param in stage.get("params", []):
            assert f"[`{param}`](reference/params.md#{param.split('.')[0]})" in row


def test_distributed_training_notice_follows_the_code() -> None:
    """The how-to says DDP is missing exactly when no module uses it (the notice is generated, never stale)."""
    uses_ddp = any("DistributedDataParallel" in f.read_text(encoding="utf-8") for f in module_files())
    notice = ddp_status("how-to/distributed-training.md")
    assert ("Not yet available" in notice) != uses_ddp
    assert "<!-- gen:ddp-status -->" in (DOCS / "how-to" / "distributed-training.md").read_text(encoding="utf-8")


def test_compose_table_lists_every_service() -> None:
    """The deploy page's service table is generated from deploy/docker-compose.yml."""
    text = (ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8")
    table = compose_table(text)
    for name in yaml.safe_load(text)["services"]:
        assert f"| **{name}** |" in table


def test_metrics_table_lists_the_api_metrics() -> None:
    """The deploy page's metric table comes from the metric objects the API registers."""
    table = metrics_table()
    assert "`movie_genie_http_request_duration_seconds` | histogram | `route`, `method`, `status`" in table
    assert "_total` | counter |" in table


def test_alerts_table_lists_every_rule() -> None:
    """The deploy page's alert table is generated from deploy/prometheus/alerts.yml."""
    path = ROOT / "deploy" / "prometheus" / "alerts.yml"
    if not path.is_file():
        pytest.skip("no alerting rules in deploy/prometheus")
    text = path.read_text(encoding="utf-8")
    table = alerts_table(text)
    for group in yaml.safe_load(text)["groups"]:
        for rule in group["rules"]:
            assert f"| **{rule['alert']}** |" in table
