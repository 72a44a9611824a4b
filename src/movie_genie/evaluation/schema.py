"""The evaluation report's one schema: what `movie-genie evaluate` writes to report.json and every reader reads.

The Markdown report, the documentation pages, MLflow tracking, the API (`GET /api/models`) and, through the API's
OpenAPI spec and the generated TypeScript client, the web app all use these types; none of them guesses a shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.errors import ArtifactMissingError, DataError
from movie_genie.files import write_text_atomically
from movie_genie.models.catalogue import MODEL_NAMES

# training/<name>.json beside the checkpoints: each model's train stage writes its own record (one DVC output per
# model), the report reads them all.
TRAINING_RECORDS_DIR = "training"
REPORT_FILE = "report.json"  # in the report folder, beside report.md and the plots

# A 95% interval as [low, high]; a list, not a tuple, which the web app's typed client reads as number[].
Interval = Annotated[list[float], Field(min_length=2, max_length=2)]


class SplitMetrics(BaseModel):
    """One model on one split: means over users, 95% bootstrap intervals, catalogue coverage, ranking time."""

    model_config = ConfigDict(extra="forbid")

    n_users: int
    hr10: float
    ndcg10: float
    mrr: float
    coverage: float = Field(description="distinct items in all top-10 lists / catalogue size")
    n_liked: int = Field(default=0, description="users whose held-out film they rated 4★ or more")
    n_disliked: int = Field(default=0, description="users whose held-out film they rated 2★ or less")
    liked_hr10: float | None = Field(default=None, description="HR@10 over the users who liked their held-out film")
    liked_ndcg10: float | None = Field(default=None, description="NDCG@10 over the users who liked their held-out film")
    disliked_hr10: float | None = Field(
        default=None, description="HR@10 over the users who disliked their held-out film (lower is better)"
    )
    ci: dict[str, Interval] = Field(
        default_factory=dict,
        description="95% interval [low, high] per metric (hr10, ndcg10, mrr, liked_hr10, liked_ndcg10, disliked_hr10)",
    )
    seconds: float = 0.0


class TrainingRecord(BaseModel):
    """One model's training record (training/<name>.json): what its train stage did (the report reads validation
    figures here)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    seconds: float
    refit: bool = False
    refit_seconds: float = 0.0
    total_seconds: float
    best_valid_ndcg10: float | None = None
    epochs: list[dict[str, float]] = Field(default_factory=list)
    valid: SplitMetrics | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    learned: dict[str, Any] = Field(default_factory=dict)
    mlflow_run_id: str | None = None


class TrainingRecords(BaseModel):
    """The training records of a models folder, one per trained model, in the catalogue's order."""

    models: dict[str, TrainingRecord] = Field(default_factory=dict)

    @classmethod
    def read(cls, models_dir: Path) -> TrainingRecords:
        """Every readable record in `models_dir`/training (a missing folder: none; a file from an older format is
        skipped, and rewritten when that model is trained again)."""
        records: dict[str, TrainingRecord] = {}
        for path in sorted((models_dir / TRAINING_RECORDS_DIR).glob("*.json")):
            try:
                record = TrainingRecord.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                continue
            records[record.name] = record
        order = {name: i for i, name in enumerate(MODEL_NAMES)}
        return cls(models=dict(sorted(records.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))))

    @staticmethod
    def write(models_dir: Path, record: TrainingRecord) -> Path:
        """Write one model's record as indented JSON, atomically (replacing only that model's file)."""
        path = models_dir / TRAINING_RECORDS_DIR / f"{record.name}.json"
        write_text_atomically(path, record.model_dump_json(indent=2) + "\n")
        return path


class PairedDifference(BaseModel):
    """Test NDCG@10 of this model minus another's, with a paired bootstrap 95% interval (the same users resampled
    for both models). "Beats" means the whole interval is above zero."""

    model_config = ConfigDict(extra="forbid")

    against: str
    difference: float
    ci: Interval
    metric: str = Field(default="ndcg10", description="the figure compared (ndcg10 or liked_ndcg10)")

    @property
    def beats(self) -> bool:
        """True when the interval lies above zero."""
        return self.ci[0] > 0


class ModelEntry(BaseModel):
    """Everything the report says about one model."""

    model_config = ConfigDict(extra="forbid")

    valid: SplitMetrics | None = None
    valid_source: str
    test: SplitMetrics
    training_seconds: float | None = None
    refit_on_train_and_valid: bool | None = None
    epochs: list[dict[str, float]] = Field(default_factory=list, description="per-epoch (or per-trial) training log")
    config: dict[str, Any] = Field(default_factory=dict, description="the hyperparameters it was trained with")
    learned: dict[str, Any] = Field(default_factory=dict, description="what fit chose (a lambda, blend weights)")
    ndcg10_vs_ease: float | None = Field(default=None, description="test NDCG@10 divided by EASE's")
    vs_ease: PairedDifference | None = None
    vs_best: PairedDifference | None = None
    liked_vs_ease: PairedDifference | None = Field(default=None, description="liked-next NDCG@10 minus EASE's")
    liked_vs_best: PairedDifference | None = Field(
        default=None, description="liked-next NDCG@10 minus the best model's on that figure"
    )

    @property
    def beats_ease(self) -> bool | None:
        """Whether the paired interval against EASE is above zero (None for EASE itself or without EASE)."""
        return None if self.vs_ease is None else self.vs_ease.beats


class EvaluationReport(BaseModel):
    """report.json: the protocol, the data set and one entry per model, in training order."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    protocol: str
    n_items: int
    n_users: dict[Literal["valid", "test"], int]
    cutoff: int
    bootstrap_resamples: int
    seed: int
    baseline: str
    best_model: str | None
    best_liked_model: str | None = Field(default=None, description="the best model on test liked-next NDCG@10")
    models: dict[str, ModelEntry]

    @classmethod
    def read(cls, path: Path) -> EvaluationReport:
        """Read and check report.json; a missing file or another shape says to run `movie-genie evaluate`."""
        if not path.is_file():
            raise ArtifactMissingError(f"no evaluation report at {path}: run `movie-genie evaluate`")
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).strip().splitlines()[0][:200]
            raise DataError(
                f"{path} is not a valid evaluation report ({first}): re-run `movie-genie evaluate`"
            ) from exc

    def write(self, path: Path) -> None:
        """Write as indented JSON, atomically (a reader never sees half a report)."""
        write_text_atomically(path, self.model_dump_json(indent=2) + "\n")
