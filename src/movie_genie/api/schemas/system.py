"""The system's own resources: health, access, the catalogue's metadata coverage, models and experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from movie_genie.api.schemas.common import _Strict
from movie_genie.api.schemas.envelope import Envelope, Meta
from movie_genie.evaluation.schema import EvaluationReport, ModelEntry, PairedDifference, SplitMetrics
from movie_genie.online.experiments import Design, OnlineReport


class ExperimentPath(_Strict):
    """An experiment's name (params.yaml `experiments`)."""

    name: str = Field(max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class ExperimentBody(_Strict):
    """A new experiment, started at run time (it joins params.yaml's); variants are model names or
    `<model>@<version>` (a retrained challenger)."""

    name: str = Field(max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    design: Design
    variants: tuple[str, str]
    traffic: float = Field(default=1.0, gt=0.0, le=1.0)
    split: float = Field(default=0.5, gt=0.0, lt=1.0)
    horizon: int = Field(default=1000, ge=1)


class ModelVersionInfo(BaseModel):
    """One retrained version of a model (`movie-genie retrain`) and its offline figures on that version's split."""

    version: str
    created_at: datetime
    serving: bool
    test: SplitMetrics
    vs_current: PairedDifference | None = Field(
        default=None, description="its test NDCG@10 minus the version that served when it was made (same users)"
    )


class ModelCard(BaseModel):
    """A model as people meet it (models/catalogue.py): its name, the label the app shows and what it is good at."""

    name: str
    label: str = Field(description="how people read its name, e.g. 'Two-Tower'")
    summary: str = Field(description="what it is good at, in a sentence for someone who likes films")
    trained: bool = Field(description="false for text similarity, which search serves from the text embeddings")


class ModelInfo(BaseModel):
    """A loaded model: its version, its evaluation figures (test split) from the report, its retrained versions and
    the experiments it takes part in."""

    name: str
    api_name: str = Field(description="the `model` value of GET /api/recommendations (the same as `name`)")
    version: str | None = Field(default=None, description="short content hash of the checkpoint being served")
    release: str | None = Field(
        default=None, description="the version served: 'base' (the pipeline's) or a retrain's id; null: not loaded"
    )
    loaded: bool
    evaluation: ModelEntry | None = Field(
        default=None, description="its entry of the evaluation report (the base version), if any"
    )
    versions: list[ModelVersionInfo] = Field(default_factory=list, description="retrained versions, newest first")
    experiments: list[str] = Field(default_factory=list, description="experiments with this model as a variant")


class ModelsInfo(BaseModel):
    """Every model, the evaluation report (None until `movie-genie evaluate` has run) and every experiment's online
    report."""

    models: list[ModelInfo]
    catalogue: list[ModelCard] = Field(
        default_factory=list, description="every model an answer may name, with its label: the app's one list"
    )
    report: EvaluationReport | None = None
    experiments: list[OnlineReport] = Field(default_factory=list)
    reload_error: str | None = Field(default=None, description="why the last hot reload failed (old models serve)")


class Check(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str | None = None


class Capability(BaseModel):
    """One thing the app does (recommendations, similar films, search, the database) and what serves it now."""

    ok: bool = Field(description="something serves it (its first choice or a fallback)")
    served_by: str | None = Field(description="the model, retriever or database that serves it; null when none does")
    missing: list[str] = Field(default_factory=list, description="what it would use but is not loaded")
    detail: str = Field(description="what serves it and what is missing, in plain words")


class PreparingModel(BaseModel):
    """One model a first run still had to train when the server started."""

    name: str
    label: str = Field(description="how people read its name")
    state: Literal["waiting", "training", "ready", "failed"]
    seconds: float | None = Field(description="how long its training took (ready or failed); null before")


class Preparing(BaseModel):
    """The models a first `movie-genie run` trains behind the running server: each is served as soon as it is
    ready, without a restart; until then the others answer for it."""

    started_at: datetime
    ready: int = Field(description="how many of `models` are trained")
    total: int
    models: list[PreparingModel]


class Health(BaseModel):
    """Readiness: "ready" (200) while every capability has something serving it, along its fallback chain;
    "not_ready" (503) when one has nothing. `degraded` says a dependency is down although every capability is
    served; `checks` has each dependency: the database, each model, the search index, the cache. Liveness is
    GET /api/ping."""

    status: Literal["ready", "not_ready"]
    degraded: bool = Field(description="a dependency is down (see checks) although every capability may be served")
    capabilities: dict[str, Capability] = Field(
        description="recommendations, similar_films, search and database: what serves each"
    )
    checks: dict[str, Check]
    preparing: Preparing | None = Field(
        default=None,
        description="models still training behind the running server on a first run (they do not make it degraded)",
    )


class CatalogueInfo(BaseModel):
    """How much of the catalogue has metadata: with none, films have no plot summaries, posters or cast."""

    movies: int
    with_overview: int = Field(description="films with a plot summary; 0 = no metadata (set TMDB_API_KEY and rerun)")
    with_poster: int = Field(description="films with a poster")


class AccessInfo(BaseModel):
    """Who may write as which profile on this server (api/ownership.py)."""

    demo_mode: bool = Field(description="local demo mode: anyone may rate as any MovieLens user")
    notice: str | None = Field(description="what the app shows while in demo mode; null outside it")
    admin: bool = Field(description="the request carries the admin token (may write as any profile)")


class Ping(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"] = "ok"


class PingResponse(Envelope[Ping, Meta]):
    """GET /api/ping."""


class AccessResponse(Envelope[AccessInfo, Meta]):
    """GET /api/access."""


class HealthResponse(Envelope[Health, Meta]):
    """GET /api/health."""


class ModelsResponse(Envelope[ModelsInfo, Meta]):
    """GET /api/models."""


class CatalogueResponse(Envelope[CatalogueInfo, Meta]):
    """GET /api/catalogue."""


class OnlineReportResponse(Envelope[OnlineReport, Meta]):
    """GET /api/experiments/{name}/report."""


class OnlineReportsResponse(Envelope[list[OnlineReport], Meta]):
    """GET /api/experiments."""
