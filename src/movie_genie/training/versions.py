"""Model versions: what `movie-genie retrain` makes (online/serving.py holds which version each model serves).

    artifacts/versions/
      v20261130-081502/        one folder per retrain: <name>.pt checkpoints, training records, the split it was
        version.json           trained on, and its manifest (data folded in, test figures, candidate - current)
      serving.json             the serving state: the version each model serves (absent: "base", the pipeline's
                               artifacts/models), the versions it replaced (for rollback), runtime experiments

`promote` and `rollback` rewrite serving.json atomically under a lock; every API worker polls it and swaps in the
models it names without a restart (api/services/loaded_models.py). Nothing here deletes a version: a rollback is
one command however far back it goes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.config import Layout
from movie_genie.errors import DataError, MovieGenieError
from movie_genie.evaluation.schema import PairedDifference, SplitMetrics
from movie_genie.models.registry import checkpoint_path

# The pipeline's own checkpoints (artifacts/models): what every model serves until a version is promoted.
BASE = "base"
MANIFEST_FILE = "version.json"
VERSION_PREFIX = "v"


class VersionError(MovieGenieError):
    """A version command that cannot be done as asked (unknown version, nothing to roll back to)."""


class FoldedData(BaseModel):
    """What a retrain trained on: the data set's ratings with the app's marks folded in."""

    model_config = ConfigDict(extra="forbid")

    ratings: int = Field(description="interactions after folding in the app's marks")
    users: int
    app_events: int = Field(description="app marks read (ratings, likes, watched, dislikes, not interested)")
    app_users: int = Field(description="users with at least one app mark")
    new_users: int = Field(description="users with no data set ratings (created in the app)")


class VersionedModel(BaseModel):
    """One model of a version: its test figures on the version's split and the paired comparison with the
    version it would replace, evaluated on the same users."""

    model_config = ConfigDict(extra="forbid")

    test: SplitMetrics
    training_seconds: float
    vs_current: PairedDifference | None = Field(
        default=None, description="test NDCG@10 of this version minus the serving one's (paired bootstrap)"
    )


class VersionManifest(BaseModel):
    """version.json: one retrain's models, the data they saw and how they compare with what was serving."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created_at: datetime
    dataset: str
    data: FoldedData
    models: dict[str, VersionedModel]
    test_users: int


def new_version_id(now: datetime | None = None) -> str:
    """A sortable, readable id: v<UTC date>-<time>, e.g. v20261130-081502."""
    return VERSION_PREFIX + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


class VersionStore:
    """The versions folder of a layout: manifests, checkpoints and the serving state."""

    def __init__(self, layout: Layout) -> None:
        self.base_dir = layout.models_dir
        self.root = layout.versions_dir

    def folder(self, version: str) -> Path:
        """Where a version's checkpoints are (BASE: the pipeline's models folder)."""
        return self.base_dir if version == BASE else self.root / version

    def checkpoint(self, name: str, version: str) -> Path:
        """The checkpoint file of model `name` in `version`."""
        return checkpoint_path(self.folder(version), name)

    def manifest(self, version: str) -> VersionManifest:
        """A version's manifest; VersionError names the versions there are when it does not exist."""
        path = self.root / version / MANIFEST_FILE
        if not path.is_file():
            known = ", ".join(m.id for m in self.manifests()) or "none yet: run `movie-genie retrain`"
            raise VersionError(f"no model version {version!r} in {self.root} (versions: {known})")
        try:
            return VersionManifest.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DataError(f"{path} is not a valid version manifest ({exc.__class__.__name__})") from exc

    def manifests(self) -> list[VersionManifest]:
        """Every complete version, oldest first (a retrain that did not finish left no manifest)."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in sorted(self.root.glob(f"{VERSION_PREFIX}*")):
            path = folder / MANIFEST_FILE
            if path.is_file():
                try:
                    found.append(VersionManifest.model_validate_json(path.read_text(encoding="utf-8")))
                except (OSError, ValidationError):
                    continue  # a damaged manifest hides that one version, never the others
        return found
