"""Experiment tracking in MLflow, on only when MLFLOW_TRACKING_URI is set.

`movie-genie train` records one MLflow run per model: its config, the data set and the evaluation settings as
params; its epoch (or tuning-step) curves as metric histories, one step per row of the training log; the final
validation figures and the training seconds as metrics; the git commit as a tag. `movie-genie evaluate` records one
run with the report files as artifacts and every model's test figures as metrics, and adds the test figures to each
model's training run too (its training record keeps that run's id).

Tracking is a record of the work, not the work: when the store cannot be reached or refuses a call, the stage prints
one warning, stops tracking for the rest of the command and goes on, so checkpoints and reports are always written.
Without the variable nothing here imports mlflow (the import alone takes seconds) and nothing else changes.
"""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from movie_genie.config import Settings
from movie_genie.evaluation.schema import EvaluationReport, SplitMetrics, TrainingRecord
from movie_genie.models import distributed

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

PROBE_TIMEOUT_S = 5.0
MAX_PARAM_LENGTH = 6000  # MLflow refuses longer parameter values
SPLIT_METRICS = ("hr10", "ndcg10", "mrr", "coverage")
STAGE_TAG = "movie_genie.stage"
MODEL_TAG = "movie_genie.model"
DATASET_TAG = "movie_genie.dataset"
EVALUATE_RUN_TAG = "movie_genie.evaluate_run"
GIT_COMMIT_TAG = "mlflow.source.git.commit"  # MLflow's own tag: the UI shows it next to the run


class Tracker:
    """Logs the train and evaluate stages to one MLflow experiment; after a failure it warns once and stops."""

    def __init__(self, client: MlflowClient, experiment_id: str, uri: str, echo: Callable[[str], None]) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.uri = uri
        self.echo = echo
        self.active = True
        self._tags = git_tags()

    @classmethod
    def from_env(cls, data_dir: Path, echo: Callable[[str], None] = print) -> Tracker | None:
        """A tracker when MLFLOW_TRACKING_URI is set; None when it is not, or when the store cannot be opened."""
        settings = Settings.from_env(data_dir)
        if settings.mlflow_tracking_uri is None:
            return None
        if not distributed.is_main():
            return None  # under torchrun only rank 0 records, as only rank 0 writes files
        return cls.open(settings.mlflow_tracking_uri, settings.mlflow_experiment, echo)

    @classmethod
    def open(cls, uri: str, experiment: str, echo: Callable[[str], None] = print) -> Tracker | None:
        """Connect to the tracking store and find (or create) the experiment; None, after a warning, on failure."""
        try:
            _probe(uri)
        except requests.RequestException as exc:
            _warn(echo, uri, f"cannot reach the server ({type(exc).__name__}: {_first_line(exc)})")
            return None
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            client = MlflowClient(uri)
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
        except (MlflowException, OSError) as exc:
            _warn(echo, uri, _first_line(exc))
            return None
        if found is not None and found.lifecycle_stage != "active":
            _warn(
                echo,
                uri,
                f"experiment '{experiment}' was deleted: restore it (in the MLflow UI) or set another "
                "MLFLOW_EXPERIMENT_NAME",
            )
            return None
        echo(f"tracking: MLflow experiment '{experiment}' at {uri}")
        return cls(client, experiment_id, uri, echo)

    def log_model_run(self, run: TrainingRecord, dataset: str, settings: Mapping[str, Any]) -> str | None:
        """One finished MLflow run for a trained model; its run id, or None when tracking failed."""
        params: dict[str, Any] = {
            **_flatten(run.config),
            **_flatten(run.learned),
            "model": run.name,
            "dataset": dataset,
            "refit": run.refit,
            **{f"evaluation.{k}": v for k, v in settings.items()},
        }
        finals: dict[str, float | None] = {
            "training_seconds": run.total_seconds,
            "fit_seconds": run.seconds,
            "refit_seconds": run.refit_seconds,
            "best_valid_ndcg10": run.best_valid_ndcg10,
        }
        if run.valid is not None:
            finals.update(_split_metrics("valid.", run.valid))
        tags = {STAGE_TAG: "train", MODEL_TAG: run.name, DATASET_TAG: dataset}

        def record(now: int) -> str:
            run_id = self._start(run.name, tags, start_ms=now - round(1000 * run.total_seconds))
            metrics = _curves(run.epochs, now) + _metrics(finals, now)
            self.client.log_batch(run_id, metrics=metrics, params=_params(params))
            self.client.set_terminated(run_id, "FINISHED", end_time=now)
            return run_id

        return self._attempt(f"logging the '{run.name}' run", record)

    def log_report(self, report: EvaluationReport, files: Sequence[Path], model_runs: Mapping[str, str]) -> str | None:
        """One MLflow run with the report files and every model's test figures; also adds them to `model_runs`."""
        dataset = report.dataset
        params = {
            "dataset": dataset,
            "n_items": report.n_items,
            "n_users.valid": report.n_users.get("valid"),
            "n_users.test": report.n_users.get("test"),
            "cutoff": report.cutoff,
            "bootstrap_resamples": report.bootstrap_resamples,
            "seed": report.seed,
            "baseline": report.baseline,
            "best_model": report.best_model,
        }
        per_model = {
            name: {**_split_metrics("test.", entry.test), "test.ndcg10_vs_ease": entry.ndcg10_vs_ease}
            for name, entry in report.models.items()
        }
        headline: dict[str, float | None] = {f"{name}.{k}": v for name, m in per_model.items() for k, v in m.items()}
        best = report.best_model
        if best is not None and best in per_model:
            headline.update({f"best.{k}": v for k, v in per_model[best].items()})

        def record(now: int) -> str:
            run_id = self._start("evaluate", {STAGE_TAG: "evaluate", DATASET_TAG: dataset}, start_ms=now)
            self.client.log_batch(run_id, metrics=_metrics(headline, now), params=_params(params))
            for path in files:
                self.client.log_artifact(run_id, str(path), artifact_path="report")
            self.client.set_terminated(run_id, "FINISHED", end_time=now)
            # The model's own training run then holds its validation and its test figures side by side.
            for name, model_run_id in model_runs.items():
                if name in per_model:
                    self.client.log_batch(model_run_id, metrics=_metrics(per_model[name], now))
                    self.client.set_tag(model_run_id, EVALUATE_RUN_TAG, run_id)
            return run_id

        return self._attempt("logging the evaluation report", record)

    def _start(self, name: str, tags: dict[str, str], start_ms: int) -> str:
        tags = {**self._tags, **tags}
        run = self.client.create_run(self.experiment_id, start_time=start_ms, tags=tags, run_name=name)
        return str(run.info.run_id)

    def _attempt(self, what: str, action: Callable[[int], str]) -> str | None:
        """Run `action(now_ms)` unless tracking already failed; on a store error warn and turn tracking off."""
        if not self.active:
            return None
        from mlflow.exceptions import MlflowException

        try:
            return action(int(time.time() * 1000))
        except (MlflowException, OSError, requests.RequestException) as exc:
            self.active = False
            _warn(self.echo, self.uri, f"{what}: {_first_line(exc)}")
            return None


def git_tags() -> dict[str, str]:
    """The commit of the checkout this package runs from (and whether it has uncommitted changes), if there is one."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout (an installed wheel)
        return {}
    return {GIT_COMMIT_TAG: commit, "movie_genie.git_dirty": str(dirty).lower()}


def _probe(uri: str) -> None:
    """Fail fast on an HTTP(S) server that does not answer: MLflow retries such calls for minutes before failing."""
    if uri.split(":", 1)[0].lower() in ("http", "https"):
        requests.get(uri, timeout=PROBE_TIMEOUT_S)  # any answer, even an error status, means the server is there


def _warn(echo: Callable[[str], None], uri: str, reason: str) -> None:
    echo(
        f"tracking: WARNING: MLflow tracking is off for the rest of this command: {reason} "
        f"(MLFLOW_TRACKING_URI={uri}). Checkpoints and reports are still written; fix the URI or unset it."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config dicts as dotted keys ({"weights": {"ease": 0.5}} -> {"weights.ease": 0.5})."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _split_metrics(prefix: str, values: SplitMetrics) -> dict[str, float | None]:
    """HR@10, NDCG@10, MRR, coverage of one split and the bounds of their 95% intervals."""
    out: dict[str, float | None] = {f"{prefix}{k}": getattr(values, k) for k in SPLIT_METRICS}
    for key, (low, high) in values.ci.items():
        out[f"{prefix}{key}_ci_low"], out[f"{prefix}{key}_ci_high"] = low, high
    return out


def _params(values: Mapping[str, Any]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(key, str(value)[:MAX_PARAM_LENGTH]) for key, value in values.items()]


def _metrics(values: Mapping[str, float | None], now: int, step: int = 0) -> list[Metric]:
    """Metric entities of the numeric, finite values (a model without a figure simply has no metric)."""
    from mlflow.entities import Metric

    return [
        Metric(key, float(value), now, step)
        for key, value in values.items()
        if isinstance(value, int | float) and math.isfinite(value)
    ]


def _curves(epochs: list[dict[str, float]], now: int) -> list[Metric]:
    """Each training-log row as one step: its epoch number when it has one, else its position (EASE's lambdas)."""
    metrics: list[Metric] = []
    for position, row in enumerate(epochs):
        step = int(row["epoch"]) if "epoch" in row else position
        metrics += _metrics({k: v for k, v in row.items() if k != "epoch"}, now, step)
    return metrics
