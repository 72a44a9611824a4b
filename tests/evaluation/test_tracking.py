"""MLflow tracking of the real train and evaluate stages on a real ml-100k slice, read back from local stores."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow import MlflowClient

from movie_genie.config import Layout, Params, load_params
from movie_genie.data.stages import run_data, run_enrich, run_split
from movie_genie.evaluation.report import run_evaluate
from movie_genie.evaluation.schema import TrainingRecords
from movie_genie.evaluation.tracking import (
    DATASET_TAG,
    EVALUATE_RUN_TAG,
    GIT_COMMIT_TAG,
    MODEL_TAG,
    STAGE_TAG,
    Tracker,
)
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.training.loop import run_train
from tests.artefacts import slice_canonical

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "tracking-test"
REPORT_FILES = {"report.json", "report.md", "metrics.png", "training_curves.png"}
# bert4rec for real epoch curves (loss every epoch, validation every epoch), EASE for its lambda grid.
MODELS = ["popularity", "ease", "bert4rec"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    """A slice of real ml-100k (the tests' shared artefact slice) read, enriched and split leave-one-out."""
    root = tmp_path_factory.mktemp("tracking")
    params = load_params(_write_params(root, root / "data", root / "artifacts"))
    layout = Layout.from_params(params)
    run_data(params, layout, source=shared_datasets / "ml-100k")
    slice_canonical(layout)
    run_enrich(params, layout)
    run_split(params, layout)
    return root / "data"


def _write_params(root: Path, data_dir: Path, artifacts_dir: Path) -> Path:
    tiny = json.loads(json.dumps(Bert4Rec.tiny_config().to_dict()))
    bert4rec = {**tiny, "refit_epochs": 0, "torch_threads": 1}
    raw = {
        "dataset": {"name": "ml-100k"},
        "paths": {"data_dir": str(data_dir), "artifacts_dir": str(artifacts_dir)},
        "models": {"ease": {"lambdas": [50.0, 200.0], "progress": False}, "bert4rec": bert4rec},
        "evaluation": {"seed": 0, "validation_users": 100, "bootstrap_resamples": 20},
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture
def project(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Params, Layout, Path]:
    """Params with the shared split and this test's own artefacts folder; the test runs inside tmp_path."""
    params_file = _write_params(tmp_path, data_dir, tmp_path / "artifacts")
    params = load_params(params_file)
    for name in [n for n in os.environ if n.startswith("MLFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # MLflow writes a SQLite store's artifacts to ./mlruns
    return params, Layout.from_params(params), params_file


def _stages(params: Params, layout: Layout, models: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Run train then evaluate; their printed lines and the report."""
    lines: list[str] = []
    run_train(params, layout, models, echo=lines.append)
    files = run_evaluate(params, layout, echo=lines.append)
    return lines, json.loads(files.json.read_text(encoding="utf-8"))


def _runs(client: MlflowClient) -> dict[str, Any]:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    return {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}


def _steps(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


@pytest.mark.slow
def test_train_and_evaluate_are_tracked_in_a_sqlite_store(
    project: tuple[Params, Layout, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, layout, _ = project
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
    lines, report = _stages(params, layout, MODELS)
    assert f"tracking: MLflow experiment '{EXPERIMENT}' at {uri}" in lines
    assert not [line for line in lines if "WARNING" in line]

    client = MlflowClient(uri)
    runs = _runs(client)
    assert set(runs) == {*MODELS, "evaluate"}
    training = TrainingRecords.read(layout.models_dir).model_dump(mode="json")["models"]
    evaluate_id = runs["evaluate"].info.run_id
    for name in MODELS:
        run, log, entry = runs[name], training[name], report["models"][name]
        assert run.info.status == "FINISHED"
        assert log["mlflow_run_id"] == run.info.run_id
        assert run.data.tags[STAGE_TAG] == "train" and run.data.tags[MODEL_TAG] == name
        assert run.data.tags[DATASET_TAG] == "ml-100k" and run.data.tags[EVALUATE_RUN_TAG] == evaluate_id
        if (ROOT / ".git").exists():
            assert len(run.data.tags[GIT_COMMIT_TAG]) == 40
        assert run.data.params["model"] == name and run.data.params["dataset"] == "ml-100k"
        assert run.data.params["evaluation.validation_users"] == "100"
        metrics = run.data.metrics
        assert metrics["valid.ndcg10"] == pytest.approx(log["valid"]["ndcg10"])
        assert metrics["valid.ndcg10_ci_low"] <= metrics["valid.ndcg10"] <= metrics["valid.ndcg10_ci_high"]
        assert metrics["training_seconds"] == pytest.approx(log["total_seconds"])
        # evaluate adds the test figures to the model's own training run
        assert metrics["test.ndcg10"] == pytest.approx(entry["test"]["ndcg10"])
        assert metrics["test.hr10"] == pytest.approx(entry["test"]["hr10"])

    bert = runs["bert4rec"]
    assert bert.data.params["dim"] == "32" and bert.data.params["max_epochs"] == "2"
    epochs = training["bert4rec"]["epochs"]
    assert len(epochs) == 2
    for key in ("loss", "valid_ndcg10", "seconds"):
        expected = [(int(e["epoch"]), pytest.approx(e[key])) for e in epochs]
        assert _steps(client, bert.info.run_id, key) == expected
    ease = runs["ease"]
    assert ease.data.params["lambdas"] == "[50.0, 200.0]"
    assert ease.data.params["chosen_lambda"] in {"50.0", "200.0"}
    assert _steps(client, ease.info.run_id, "lambda") == [(0, 50.0), (1, 200.0)]
    assert len(_steps(client, ease.info.run_id, "valid_ndcg10")) == 2

    evaluate = runs["evaluate"]
    assert evaluate.data.params["best_model"] == report["best_model"]
    assert evaluate.data.metrics["ease.test.ndcg10"] == pytest.approx(report["models"]["ease"]["test"]["ndcg10"])
    best = report["models"][report["best_model"]]["test"]["ndcg10"]
    assert evaluate.data.metrics["best.test.ndcg10"] == pytest.approx(best)
    artifacts = {Path(a.path).name for a in client.list_artifacts(evaluate_id, "report")}
    assert artifacts == REPORT_FILES
    copy = Path(client.download_artifacts(evaluate_id, "report/report.json", str(tmp_path / "download")))
    assert json.loads(copy.read_text(encoding="utf-8")) == report


@pytest.mark.slow
def test_a_file_store_works_when_mlflow_allows_it(
    project: tuple[Params, Layout, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, layout, _ = project
    uri = (tmp_path / "mlruns-store").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
    # MLflow 3 keeps the file store in maintenance mode: it refuses it unless asked, with a message saying so.
    lines, _ = _stages(params, layout, ["popularity"])
    warnings = [line for line in lines if "WARNING" in line]
    assert len(warnings) == 2  # train and evaluate each say it once, without a traceback
    assert "maintenance mode" in warnings[0] and "fix the URI or unset it" in warnings[0]
    assert (layout.models_dir / "popularity.pt").is_file() and (layout.report_dir / "report.json").is_file()

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    lines, _ = _stages(params, layout, ["popularity"])
    assert not [line for line in lines if "WARNING" in line]
    client = MlflowClient(uri)
    runs = _runs(client)
    assert set(runs) == {"popularity", "evaluate"}
    training = TrainingRecords.read(layout.models_dir).model_dump(mode="json")["models"]
    curve = [(0, pytest.approx(training["popularity"]["best_valid_ndcg10"]))]
    assert _steps(client, runs["popularity"].info.run_id, "valid_ndcg10") == curve
    assert {Path(a.path).name for a in client.list_artifacts(runs["evaluate"].info.run_id, "report")} == REPORT_FILES


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"http://127.0.0.1:{_closed_port()}", "cannot reach the server"),
        ("nosuch://tracking", "unsupported URI 'nosuch://tracking'"),
    ],
)
def test_a_bad_tracking_uri_gives_one_clear_warning(uri: str, reason: str) -> None:
    lines: list[str] = []
    assert Tracker.open(uri, EXPERIMENT, lines.append) is None
    assert len(lines) == 1 and "WARNING: MLflow tracking is off" in lines[0]
    assert reason in lines[0] and f"MLFLOW_TRACKING_URI={uri}" in lines[0]


@pytest.mark.slow
def test_an_unreachable_server_loses_no_model(
    project: tuple[Params, Layout, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    params, layout, _ = project
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    lines, report = _stages(params, layout, ["popularity", "ease"])
    assert sum("cannot reach the server" in line for line in lines) == 2
    assert {p.name for p in layout.models_dir.glob("*.pt")} == {"popularity.pt", "ease.pt"}
    training = TrainingRecords.read(layout.models_dir).model_dump(mode="json")["models"]
    assert all(entry.get("mlflow_run_id") is None for entry in training.values())
    assert set(report["models"]) == {"popularity", "ease"}


@pytest.mark.slow
def test_a_failure_after_opening_warns_and_the_stage_goes_on(
    project: tuple[Params, Layout, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, layout, _ = project
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'train.db'}")
    lines: list[str] = []
    run_train(params, layout, ["popularity"], echo=lines.append)
    # evaluate in another store: the model's training run is not there to take the test figures
    uri = f"sqlite:///{tmp_path / 'evaluate.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    files = run_evaluate(params, layout, echo=lines.append)
    warnings = [line for line in lines if "WARNING" in line]
    assert len(warnings) == 1 and "logging the evaluation report" in warnings[0]
    assert files.json.is_file()
    client = MlflowClient(uri)
    evaluate = _runs(client)["evaluate"]
    assert {Path(a.path).name for a in client.list_artifacts(evaluate.info.run_id, "report")} == REPORT_FILES


@pytest.mark.slow
def test_without_the_variable_nothing_is_tracked_and_mlflow_is_never_imported(
    project: tuple[Params, Layout, Path], tmp_path: Path
) -> None:
    _, layout, params_file = project
    script = textwrap.dedent(
        f"""
        import sys
        from movie_genie.cli import cli
        for stage in (["train", "--model", "popularity"], ["evaluate"]):
            cli(["--params", {str(params_file)!r}, *stage], standalone_mode=False)
        assert not [m for m in sys.modules if m.split(".")[0] == "mlflow"], "mlflow was imported"
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MLflow" not in done.stdout
    training = TrainingRecords.read(layout.models_dir).model_dump(mode="json")["models"]
    assert training["popularity"]["mlflow_run_id"] is None
    assert not (tmp_path / "mlruns").exists() and not list(tmp_path.glob("*.db"))
