"""The committed reference report (docs/results/report.json) that fills the docs' tables in a fresh clone: it is a
report of the default data set holding every trained model, `benchmarks/reference_report.py` writes exactly what the
pages read, and a fresh pipeline run of this checkout agrees with it within its 95% intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docs.gen.common import GenerationError
from docs.gen.primer import long_tail_section
from docs.gen.report import figure_section, report_dir, report_section, training_times_markdown
from docs.gen.results import load_benchmark
from movie_genie.config import Layout, load_params
from movie_genie.evaluation.schema import EvaluationReport
from movie_genie.models.catalogue import MODEL_NAMES
from tests.docs.test_gen_results import _fixture_report

ROOT = Path(__file__).resolve().parents[2]
reference_report = load_benchmark("reference_report")
DEFAULT_DATASET, REFERENCE, trimmed = (
    reference_report.DEFAULT_DATASET,
    reference_report.REFERENCE,
    reference_report.trimmed,
)
REGENERATE = "run the pipeline (`make pipeline`), then `.venv/bin/python -m benchmarks.reference_report`"


def _reference() -> EvaluationReport:
    if not REFERENCE.is_file():
        pytest.skip(f"no docs/results/report.json committed yet: {REGENERATE}")
    return EvaluationReport.read(REFERENCE)


def test_the_reference_is_the_default_data_sets_report_with_every_model() -> None:
    reference = _reference()
    assert reference.dataset == DEFAULT_DATASET == load_params(ROOT / "params.yaml").dataset.name
    missing = set(MODEL_NAMES) - set(reference.models)
    assert not missing, f"the reference report lacks {sorted(missing)}: {REGENERATE}"


def test_the_docs_read_the_reference_when_nothing_else_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's build reads the committed file, so every results table is filled without the pipeline."""
    monkeypatch.delenv("MOVIE_GENIE_DOCS_REPORT", raising=False)
    _reference()
    assert report_dir() == REFERENCE.parent
    text, images = report_section(report_dir(), "evaluation.md")
    assert "docs/results/report.json" in text and set(images) == {
        "assets/report/metrics.png",
        "assets/report/training_curves.png",
    }


def test_trimming_keeps_a_valid_report_without_configs() -> None:
    raw = _fixture_report()
    for entry in raw["models"].values():  # type: ignore[union-attr]
        entry["config"] = {"dim": 64}
        entry["test"]["ndcg10"] = 0.123456789
    payload = trimmed(EvaluationReport.model_validate(raw))
    report = EvaluationReport.model_validate(payload)
    assert all(not entry.config for entry in report.models.values())
    assert report.models["ease"].test.ndcg10 == 0.123457


def test_figure_markers_read_the_committed_results() -> None:
    """<!-- gen:figure SOURCE:PATH FORMAT --> prints one number of a committed result; a wrong path fails."""
    ablation = json.loads((ROOT / "docs" / "results" / "ablations" / "ease_refit.json").read_text(encoding="utf-8"))
    value = ablation["variants"][1]["test"]["ndcg10"]
    assert figure_section("ablations/ease_refit:variants.1.test.ndcg10", "x.md") == f"{value:.4f}"
    assert figure_section("ablations/ease_refit:variants.1.test.ndcg10 .1%", "x.md") == f"{value:.1%}"
    with pytest.raises(GenerationError, match="has no"):
        figure_section("ablations/ease_refit:no.such.path", "x.md")
    assert figure_section("no_such_result:a.b", "x.md") == "(not measured yet)"


def _fresh_report() -> EvaluationReport:
    """This checkout's own pipeline report of the default data set with the params.yaml models (not the tests' tiny
    ones, whose figures are meant to differ)."""
    params = load_params(ROOT / "params.yaml")
    path = ROOT / Layout.from_params(params).report_dir / "report.json"
    if not path.is_file():
        pytest.skip(f"no pipeline report in this checkout ({path.relative_to(ROOT)}): CI builds none of full size")
    report = EvaluationReport.read(path)
    if report.dataset != DEFAULT_DATASET:
        pytest.skip(f"this checkout's report is of {report.dataset}, the reference of {DEFAULT_DATASET}")
    return report


def test_a_fresh_pipeline_run_agrees_with_the_reference() -> None:
    """Each model's test NDCG@10 and HR@10 of a fresh run lie within the reference's 95% intervals (seeds are fixed,
    but threads and machines differ, so exact equality is not expected)."""
    reference, fresh = _reference(), _fresh_report()
    compared = 0
    for name, entry in fresh.models.items():
        if name not in reference.models:
            continue
        for metric in ("ndcg10", "hr10"):
            low, high = reference.models[name].test.ci[metric]
            value = getattr(entry.test, metric)
            assert low <= value <= high, f"{name} test {metric} {value:.4f} outside the reference's [{low}, {high}]"
        compared += 1
    assert compared, "no model in common between the reference and this checkout's report"


def test_training_times_list_every_model_of_the_report() -> None:
    """getting-started's timing table: every model of the report, SASRec included, and the train stage's total."""
    report = EvaluationReport.model_validate(_fixture_report())
    table = training_times_markdown(report)
    assert "| ease | 3.2 | 2 % |" in table and "| bert4rec | 170.0 | 98 % |" in table
    assert "| **train stage** | **173.2** | |" in table


def test_the_primers_long_tail_is_computed_from_the_shipped_data() -> None:
    """The primer's figure needs no pipeline: it is drawn from the zip in datasets/ at build time."""
    text, plot = long_tail_section("models/bpr.md")
    assert "9,724 rated films" in text and "100,836 ratings" in text  # ml-latest-small, as GroupLens publishes it
    assert "(../assets/primer/long_tail.png)" in text
    assert plot["assets/primer/long_tail.png"].read_bytes().startswith(b"\x89PNG")
    assert "<!-- gen:long-tail -->" in (ROOT / "docs" / "models" / "bpr.md").read_text(encoding="utf-8")
