"""The generators of figures (docs/gen/report.py, results.py, notebooks.py): the evaluation report, each model's
section, the ablations and the executed notebooks, from reports and results of a known shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docs.gen.common import GenerationError
from docs.gen.notebooks import notebook_markdown
from docs.gen.report import model_report_section, report_dir, report_section
from docs.gen.results import ablation_markdown, ablation_section
from tests.artefacts import Artefacts

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_missing_report_gives_instructions_not_a_failure(tmp_path: Path) -> None:
    """Without artifacts/report/report.json the evaluation page says how to produce it."""
    text, images = report_section(tmp_path, "evaluation.md")
    assert "dvc repro evaluate" in text and images == {}


def _fixture_report() -> dict[str, object]:
    """A report with the shape movie_genie.evaluation.report writes (two models, hand-picked numbers)."""

    def split(ndcg: float) -> dict[str, object]:
        return {
            "n_users": 943,
            "hr10": 2 * ndcg,
            "ndcg10": ndcg,
            "mrr": ndcg * 0.9,
            "coverage": 0.25,
            "ci": {"hr10": [2 * ndcg - 0.01, 2 * ndcg + 0.01], "ndcg10": [ndcg - 0.005, ndcg + 0.005]},
            "seconds": 0.5,
        }

    return {
        "dataset": "ml-100k",
        "protocol": "Leave-one-out by time ...",
        "n_items": 1682,
        "n_users": {"valid": 943, "test": 943},
        "cutoff": 10,
        "bootstrap_resamples": 1000,
        "seed": 0,
        "baseline": "ease",
        "best_model": "bert4rec",
        "models": {
            "ease": {"valid": split(0.07), "valid_source": "training", "test": split(0.0737),
                     "training_seconds": 3.2, "ndcg10_vs_ease": 1.0,
                     "vs_best": {"against": "bert4rec", "difference": -0.0369, "ci": [-0.05, -0.02]}},
            "bert4rec": {"valid": split(0.10), "valid_source": "training", "test": split(0.1106),
                         "training_seconds": 170.0, "ndcg10_vs_ease": 1.5,
                         "vs_ease": {"against": "ease", "difference": 0.0369, "ci": [0.02, 0.05]}},
        },
    }  # fmt: skip


def test_report_table_is_generated_from_the_report(tmp_path: Path) -> None:
    """Every model's test numbers with their intervals, the ratio to EASE, the verdict and the plots."""
    (tmp_path / "report.json").write_text(json.dumps(_fixture_report()), encoding="utf-8")
    (tmp_path / "metrics.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    text, images = report_section(tmp_path, "evaluation.md")
    bert4rec = "| **bert4rec** | 0.2212 [0.2112, 0.2312] | 0.1106 [0.1056, 0.1156] | 0.0995 | 0.2500 | 1.50× | 170.0 |"
    assert bert4rec in text
    assert "| ease | 0.1474 [0.1374, 0.1574] | 0.0737 [0.0687, 0.0787] | 0.0663 | 0.2500 | 1.00× | 3.2 |" in text
    assert "| bert4rec | +0.0369 [+0.0200, +0.0500] | beats ease | – | – |" in text
    assert "| ease | – | – | -0.0369 [-0.0500, -0.0200] | worse than bert4rec |" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert {line.count("|") for line in rows[:4]} == {8}, "test table: header, separator and rows must agree"
    assert "![metrics](assets/report/metrics.png)" in text
    assert images == {"assets/report/metrics.png": tmp_path / "metrics.png"}


def test_report_of_another_shape_fails_with_a_clear_message(tmp_path: Path) -> None:
    """A report the generator does not understand stops the build and says what to do, never a silent page."""
    (tmp_path / "report.json").write_text(json.dumps({"models": []}), encoding="utf-8")
    with pytest.raises(GenerationError, match=r"not a valid evaluation report.*movie-genie evaluate"):
        report_section(tmp_path, "evaluation.md")


def test_real_report_renders(artefacts: Artefacts) -> None:
    """A real report (this checkout's when the pipeline has run, else the session's small one) renders every model."""
    folder = report_dir()
    if not (folder / "report.json").is_file():
        folder = artefacts.layout.report_dir
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    text, _ = report_section(folder, "evaluation.md")
    assert report["models"], "the report holds no model"
    for name in report["models"]:
        assert f"| {name} |" in text or f"| **{name}** |" in text


def test_model_report_shows_test_figures_the_paired_difference_and_the_choices(tmp_path: Path) -> None:
    """The per-model section: test NDCG@10/HR@10 with intervals, the difference to EASE and what fit chose."""
    report = _fixture_report()
    models = report["models"]
    assert isinstance(models, dict)
    models["ease"]["learned"] = {"chosen_lambda": 500.0, "lambdas": [100.0, 500.0]}
    models["hybrid"] = {
        **models["bert4rec"],
        "learned": {"weights": {"two_tower": 0.6, "popularity": 0.4}, "short_weights": {"two_tower": 0.25}},
        "vs_ease": {"against": "ease", "difference": 0.001, "ci": [-0.004, 0.006]},
    }
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    bert4rec = model_report_section(tmp_path, "bert4rec", "models/bert4rec.md")
    assert "| test (final model) | 0.1106 [0.1056, 0.1156] | 0.2212 [0.2112, 0.2312] | 943 |" in bert4rec
    assert "+0.0369 [+0.0200, +0.0500], so it **beats ease**" in bert4rec
    assert "[evaluation](../evaluation.md#results)" in bert4rec
    ease = model_report_section(tmp_path, "ease", "models/ease.md")
    assert "- `chosen_lambda`: `500`" in ease and "- `lambdas`: `[100, 500]`" in ease
    assert "this is the baseline every other model is compared with" in ease
    hybrid = model_report_section(tmp_path, "hybrid", "models/hybrid.md")
    assert "- `weights`: `two_tower` 0.60 · `popularity` 0.40" in hybrid
    assert "**not distinguishable from ease**" in hybrid
    assert "No `two_tower` in this report" in model_report_section(tmp_path, "two_tower", "models/two-tower.md")
    missing = model_report_section(tmp_path / "nowhere", "ease", "models/ease.md")
    assert "dvc repro evaluate" in missing


def _ablation_result() -> dict[str, object]:
    """An ablation result of the shape benchmarks/bench_ablations.py writes (hand-picked numbers)."""

    def test(ndcg: float) -> dict[str, object]:
        return {
            "n_users": 610,
            "hr10": 2 * ndcg,
            "ndcg10": ndcg,
            "mrr": ndcg,
            "coverage": 0.1,
            "ci": {"hr10": [2 * ndcg - 0.01, 2 * ndcg + 0.01], "ndcg10": [ndcg - 0.005, ndcg + 0.005]},
        }

    return {
        "name": "two_tower_logq", "model": "two_tower", "question": "Does log-Q help?", "setup": "Both trained.",
        "command": ".venv/bin/python -m benchmarks.bench_ablations --ablation two_tower_logq",
        "dataset": "ml-latest-small", "n_test_users": 610, "bootstrap_resamples": 1000, "seed": 0,
        "date": "2026-11-30",
        "variants": [
            {"label": "log-Q off", "changes": {}, "test": test(0.04), "valid_ndcg10": 0.05, "seconds": 60.0},
            {"label": "log-Q on", "changes": {}, "test": test(0.05), "valid_ndcg10": None, "seconds": None},
        ],
        "difference": {"against": "log-Q off", "difference": 0.01, "ci": [0.002, 0.018]},
    }  # fmt: skip


def test_ablation_table_shows_both_variants_the_paired_difference_and_the_command() -> None:
    text = ablation_markdown(_ablation_result())
    assert "| log-Q off | 0.0400 [0.0350, 0.0450] | 0.0800 [0.0700, 0.0900] | 0.0500 | 60 |" in text
    assert "| log-Q on | 0.0500 [0.0450, 0.0550] | 0.1000 [0.0900, 0.1100] | – | – |" in text
    assert "+0.0100 [+0.0020, +0.0180]. **Verdict:** log-Q on: **beats log-Q off**." in text
    assert "```bash\n.venv/bin/python -m benchmarks.bench_ablations --ablation two_tower_logq\n```" in text
    missing = ablation_section("no_such_ablation", "models/ease.md")
    assert "has not been run" in missing and "--ablation no_such_ablation" in missing


def test_notebook_renders_code_and_what_it_printed() -> None:
    """Code cells become Python blocks followed by their stdout and results; stderr and the title are left out."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cell = new_code_cell("print('hello')\n1 + 1")
    cell.outputs = [
        new_output("stream", name="stdout", text="hello\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("execute_result", data={"text/plain": "2"}, execution_count=1),
    ]
    notebook = new_notebook(cells=[new_markdown_cell("# Title\n\nIntro."), cell])
    text = notebook_markdown(nbformat.from_dict(notebook))
    assert text == "Intro.\n\n```python\nprint('hello')\n1 + 1\n```\n\n```text\nhello\n2\n```\n"
    cell.outputs = [new_output("display_data", data={"image/png": "iVBOR"})]
    with pytest.raises(GenerationError, match="print text instead"):
        notebook_markdown(nbformat.from_dict(notebook))
    cell.outputs = [new_output("display_data", data={"image/png": "iVBORw=="})]
    images: dict[str, bytes] = {}  # given a place for them, figures are kept and linked beside the page
    text = notebook_markdown(nbformat.from_dict(notebook), images, prefix="nb-")
    assert "![Figure of cell 1](nb-cell-1-0.png)" in text and images == {"nb-cell-1-0.png": b"\x89PNG"}
