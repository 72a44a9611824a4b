"""The train / evaluate / recommend commands end to end on real ml-100k (popularity, EASE and their hybrid)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from movie_genie.cli import cli
from movie_genie.errors import ArtifactMissingError, MovieGenieError
from movie_genie.evaluation.schema import EvaluationReport, TrainingRecords


def _params(root: Path) -> Path:
    params = {
        "dataset": {"name": "ml-100k"},
        "paths": {"data_dir": str(root / "data"), "artifacts_dir": str(root / "artifacts")},
        "models": {
            "ease": {"lambdas": [200, 500]},
            "hybrid": {"components": ["ease", "popularity"], "weight_step": 0.25, "factors": 8},
        },
        "evaluation": {"seed": 0, "bootstrap_resamples": 200},
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


def _run(params: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--params", str(params), *args], catch_exceptions=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    """A project folder with ml-100k split and popularity, EASE and hybrid trained and evaluated."""
    root = tmp_path_factory.mktemp("stages")
    params = _params(root)
    for args in (("data", "--source", str(shared_datasets / "ml-100k")), ("enrich",), ("split",)):
        result = _run(params, *args)
        assert result.exit_code == 0, result.output
    result = _run(params, "train", "--model", "popularity", "--model", "ease", "--model", "hybrid")
    assert result.exit_code == 0, result.output + repr(result.exception)
    result = _run(params, "evaluate")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "| popularity |" in result.output and "worse than ease" in result.output
    return root


@pytest.mark.slow
def test_train_writes_checkpoints_and_training_log(project: Path) -> None:
    models = project / "artifacts" / "models"
    assert {p.name for p in models.glob("*.pt")} == {"popularity.pt", "ease.pt", "hybrid.pt"}
    log = TrainingRecords.read(models).model_dump(mode="json")["models"]
    assert [e["lambda"] for e in log["ease"]["epochs"]] == [200.0, 500.0]
    assert log["ease"]["refit"] is True and log["ease"]["valid"]["n_users"] == 943
    assert log["hybrid"]["best_valid_ndcg10"] >= log["ease"]["best_valid_ndcg10"] - 1e-9
    # the hybrid's components were tuned on phase-1 copies that never saw validation targets
    assert (models / "tuning" / "popularity.pt").is_file()


@pytest.mark.slow
def test_report_has_every_model_both_splits_and_the_protocol(project: Path) -> None:
    report_dir = project / "artifacts" / "report"
    report = json.loads((report_dir / "report.json").read_text())
    EvaluationReport.model_validate(report)  # the one schema every reader uses
    assert report["dataset"] == "ml-100k"
    assert "ALL catalogue items" in report["protocol"]
    assert set(report["models"]) == {"popularity", "ease", "hybrid"}
    for entry in report["models"].values():
        for split in ("valid", "test"):
            metrics = entry[split]
            assert metrics["n_users"] == 943
            low, high = metrics["ci"]["ndcg10"]
            assert low <= metrics["ndcg10"] <= high
            assert 0 < metrics["coverage"] <= 1
    ease = report["models"]["ease"]
    assert ease["ndcg10_vs_ease"] == pytest.approx(1.0)
    # the popularity known answer holds through the whole pipeline
    assert report["models"]["popularity"]["test"]["ndcg10"] == pytest.approx(0.0450, abs=0.003)
    # "beats" needs a paired interval above zero: popularity's difference to EASE lies below zero
    vs_ease = report["models"]["popularity"]["vs_ease"]
    assert vs_ease["against"] == "ease" and vs_ease["ci"][1] < 0 < vs_ease["ci"][1] - vs_ease["ci"][0]
    assert vs_ease["ci"][0] <= vs_ease["difference"] <= vs_ease["ci"][1]
    assert "vs_ease" not in report["models"]["ease"] or report["models"]["ease"]["vs_ease"] is None
    markdown = (report_dir / "report.md").read_text()
    assert "## Protocol" in markdown and "| hybrid |" in markdown
    assert "| popularity |" in markdown and "worse than ease" in markdown
    for plot in ("metrics.png", "training_curves.png"):
        assert (report_dir / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_recommend_prints_a_ranked_table_with_reasons(project: Path) -> None:
    params = project / "params.yaml"
    result = _run(params, "recommend", "--user-id", "1", "-k", "5")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("hybrid: top 5 for user 1")
    assert len(lines) == 2 + 5
    assert "Because you watched" in result.output or "Popular" in result.output
    result = _run(params, "recommend", "--history", "50,181,99999", "--model", "ease", "-k", "3")
    assert result.exit_code == 0, result.output
    assert "ignored 1 unknown movie id" in result.output
    assert "Star Wars" not in result.output  # seen films never come back


@pytest.mark.slow
def test_bad_input_gives_clear_errors(project: Path, tmp_path: Path) -> None:
    params = project / "params.yaml"
    result = _run(params, "recommend")
    assert result.exit_code == 2 and "exactly one of" in result.output
    result = _run(params, "recommend", "--history", "1,x")
    assert result.exit_code == 2 and "comma-separated movie ids" in result.output
    result = _run(params, "recommend", "--user-id", "999999")
    assert isinstance(result.exception, MovieGenieError) and "no ratings" in str(result.exception)
    result = _run(params, "recommend", "--user-id", "1", "--model", "nope")
    assert isinstance(result.exception, MovieGenieError) and "unknown model" in str(result.exception)
    result = _run(params, "train", "--model", "nope")
    assert isinstance(result.exception, MovieGenieError) and "unknown model" in str(result.exception)
    empty = _params(tmp_path)
    result = _run(empty, "evaluate")
    assert isinstance(result.exception, ArtifactMissingError) and "movie-genie split" in str(result.exception)


@pytest.mark.slow
def test_training_is_deterministic(project: Path, tmp_path: Path) -> None:
    """A second training run into another folder gives the same validation numbers and the same scores."""
    params = project / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["paths"]["artifacts_dir"] = str(tmp_path / "artifacts")
    other = tmp_path / "params.yaml"
    other.write_text(yaml.safe_dump(raw))
    result = _run(other, "train", "--model", "popularity", "--model", "ease", "--model", "hybrid")
    assert result.exit_code == 0, result.output
    first = TrainingRecords.read(project / "artifacts" / "models").model_dump(mode="json")["models"]
    second = TrainingRecords.read(tmp_path / "artifacts" / "models").model_dump(mode="json")["models"]
    for name in ("popularity", "ease", "hybrid"):
        assert first[name]["valid"]["ndcg10"] == second[name]["valid"]["ndcg10"]
        assert first[name]["config"] == second[name]["config"]


@pytest.mark.slow
def test_hybrid_alone_is_tuned_on_training_only_copies(project: Path, tmp_path: Path) -> None:
    """`train --model hybrid` reuses the saved components: the phase-1 copies, never the refit (leaky) ones."""
    raw = yaml.safe_load((project / "params.yaml").read_text())
    raw["paths"]["artifacts_dir"] = str(tmp_path / "artifacts")
    other = tmp_path / "params.yaml"
    other.write_text(yaml.safe_dump(raw))
    shutil.copytree(project / "artifacts" / "models", tmp_path / "artifacts" / "models")
    result = _run(other, "train", "--model", "hybrid")
    assert result.exit_code == 0, result.output + repr(result.exception)
    first = TrainingRecords.read(project / "artifacts" / "models").model_dump(mode="json")["models"]["hybrid"]
    again = TrainingRecords.read(tmp_path / "artifacts" / "models").model_dump(mode="json")["models"]["hybrid"]
    assert again["valid"]["ndcg10"] == first["valid"]["ndcg10"]
    (tmp_path / "artifacts" / "models" / "tuning" / "ease.pt").unlink()
    result = _run(other, "train", "--model", "hybrid")
    assert isinstance(result.exception, MovieGenieError)
    assert "refit on validation rows" in str(result.exception)
