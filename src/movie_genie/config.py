"""Typed configuration: `params.yaml` for tunable values, the environment for secrets and URLs.

Each subsystem owns the typed section it reads (e.g. `models.bert4rec`), so `Params` keeps the
sections it does not know as plain mappings and the owning module validates them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.errors import MovieGenieError

DEFAULT_PARAMS_FILE = Path("params.yaml")
SectionT = TypeVar("SectionT", bound=BaseModel)


class ConfigError(MovieGenieError):
    """A params.yaml or environment value is missing or invalid; the message says which and why."""


class Section(BaseModel):
    """The one idiom for configuration read from params.yaml: a frozen pydantic model per section (or model), whose
    fields declare types, bounds and defaults; an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def changed(self, **changes: Any) -> Self:
        """A copy with some values changed, validated like params.yaml (pydantic's model_copy would not check)."""
        return self.model_validate({**self.model_dump(), **changes})


class DatasetParams(Section):
    """Which MovieLens data set to use and where it comes from."""

    name: str = "ml-latest-small"
    source: str | None = None
    metadata_csv: str | None = None


class SplitParams(Section):
    """Leave-one-out split settings."""

    min_interactions: int = Field(default=3, ge=3)


class PathParams(Section):
    """Where pipeline outputs live, relative to the project root."""

    data_dir: Path = Path("data")
    artifacts_dir: Path = Path("artifacts")


class Params(BaseModel):
    """Everything in params.yaml. Unknown top-level sections are kept for the modules that own them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    dataset: DatasetParams = DatasetParams()
    split: SplitParams = SplitParams()
    paths: PathParams = PathParams()

    def section(self, name: str) -> dict[str, Any]:
        """Return a top-level section not modelled here (e.g. `models`, `search`, `serving`) as a dict."""
        value = (self.model_extra or {}).get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"params.yaml: section '{name}' must be a mapping, got {type(value).__name__}")
        return value

    def validated(self, name: str, model: type[SectionT]) -> SectionT:
        """A section not modelled here, validated as the owning module's `model`; ConfigError naming the bad key."""
        try:
            return model.model_validate(self.section(name))
        except ValidationError as exc:
            raise ConfigError(f"params.yaml: section '{name}' is invalid:\n{exc}") from exc


def load_params(path: Path | str = DEFAULT_PARAMS_FILE) -> Params:
    """Read and validate params.yaml; raise ConfigError with the offending key on bad input."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} not found: run from the project root or pass --params PATH")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path} is invalid:\n{exc}") from exc


@dataclass(frozen=True)
class Layout:
    """Fixed file layout of pipeline outputs under the data and artifacts folders."""

    data_dir: Path
    artifacts_dir: Path

    @classmethod
    def from_params(cls, params: Params) -> Layout:
        """Build the layout from the `paths` section."""
        return cls(params.paths.data_dir, params.paths.artifacts_dir)

    @property
    def cache_dir(self) -> Path:
        """Downloaded archives (checksum-verified)."""
        return Path(os.environ.get("MOVIE_GENIE_CACHE", self.data_dir / "cache"))

    @property
    def canonical_dir(self) -> Path:
        """Tables as read from the data set: movies/ratings/users/tags.parquet and dataset.json."""
        return self.data_dir / "canonical"

    @property
    def tmdb_csv(self) -> Path:
        """The `tmdb` stage's metadata CSV fetched from the TMDB API (header only when TMDB_API_KEY is not set)."""
        return self.data_dir / "tmdb.csv"

    @property
    def processed_dir(self) -> Path:
        """The canonical tables after metadata enrichment; everything downstream reads these."""
        return self.data_dir / "processed"

    @property
    def split_dir(self) -> Path:
        """train/valid/test.parquet and id_map.json."""
        return self.data_dir / "split"

    @property
    def embeddings_dir(self) -> Path:
        """Sentence embeddings of each movie's text (embeddings.npz): item features and semantic search."""
        return self.artifacts_dir / "embeddings"

    @property
    def models_dir(self) -> Path:
        """One self-describing checkpoint per model: <name>.pt."""
        return self.artifacts_dir / "models"

    @property
    def versions_dir(self) -> Path:
        """Model versions made by `movie-genie retrain` (one folder each, old ones kept for rollback) and
        serving.json, which says the version each model serves (online/serving.py). Not a DVC output: a
        `dvc repro` never deletes them."""
        return self.artifacts_dir / "versions"

    @property
    def report_dir(self) -> Path:
        """Evaluation report: report.json, report.md, *.png."""
        return self.artifacts_dir / "report"

    @property
    def index_dir(self) -> Path:
        """Search index: embeddings, FAISS index, lexical index, ONNX encoder."""
        return self.artifacts_dir / "index"


@dataclass(frozen=True)
class Settings:
    """Values that come from the environment (secrets, URLs), never from params.yaml."""

    database_url: str
    redis_url: str | None
    tmdb_api_key: str | None
    cors_origins: tuple[str, ...]
    # Experiment tracking is on only when a tracking URI is set (movie_genie.evaluation.tracking).
    mlflow_tracking_uri: str | None = None
    mlflow_experiment: str = "movie-genie"
    # MOVIE_GENIE_ENV=production (compose sets it): demo mode off, writes and profile creation rate-limited.
    production: bool = False
    # Local demo mode (the default outside production, what `make run` serves on loopback): anyone who can reach
    # the server may rate as any MovieLens user. Profiles created in the app always need their own secret.
    demo_mode: bool = True
    # A bearer token that may write as any profile (MOVIE_GENIE_ADMIN_TOKEN); None: no such token.
    admin_token: str | None = None
    # Proxies in front of the server whose X-Forwarded-For is trusted (compose: 1, the nginx front door); 0 takes
    # the peer address, so that no client can choose its own rate-limit key.
    trusted_proxies: int = 0
    # Where rate-limit counters live (api/limit_store.py): a Redis server of their own (RATE_LIMIT_REDIS_URL,
    # maxmemory-policy noeviction), else a SQLite file that `movie-genie serve` makes for its workers.
    rate_limit_redis_url: str | None = None
    rate_limit_file: Path | None = None

    def __post_init__(self) -> None:
        if self.production and self.demo_mode:
            raise ConfigError("demo mode is for local use only: MOVIE_GENIE_ENV=production turns it off")
        if self.admin_token is not None and len(self.admin_token) < MIN_ADMIN_TOKEN:
            raise ConfigError(f"MOVIE_GENIE_ADMIN_TOKEN must have at least {MIN_ADMIN_TOKEN} characters")
        if self.trusted_proxies < 0:
            raise ConfigError("MOVIE_GENIE_TRUSTED_PROXIES must be 0 or more")

    @classmethod
    def from_env(cls, data_dir: Path = Path("data")) -> Settings:
        """Read settings; the database defaults to a SQLite file in the data folder."""
        origins = os.environ.get("CORS_ORIGINS", "")
        env = os.environ.get("MOVIE_GENIE_ENV", "development").strip().lower() or "development"
        if env not in ("development", "production"):
            raise ConfigError(f"MOVIE_GENIE_ENV must be 'development' or 'production', got {env!r}")
        production = env == "production"
        demo = _env_flag("MOVIE_GENIE_DEMO_MODE")
        if production and demo:
            raise ConfigError(
                "MOVIE_GENIE_DEMO_MODE=1 with MOVIE_GENIE_ENV=production: demo mode is for local use only"
            )
        proxies = os.environ.get("MOVIE_GENIE_TRUSTED_PROXIES", "0").strip() or "0"
        if not proxies.isdigit():
            raise ConfigError(f"MOVIE_GENIE_TRUSTED_PROXIES must be a number of proxies (0, 1, ...), got {proxies!r}")
        return cls(
            database_url=os.environ.get("DATABASE_URL", f"sqlite:///{data_dir / 'movie_genie.db'}"),
            redis_url=os.environ.get("REDIS_URL") or None,
            tmdb_api_key=os.environ.get("TMDB_API_KEY") or None,
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", "").strip() or None,
            mlflow_experiment=os.environ.get("MLFLOW_EXPERIMENT_NAME", "").strip() or "movie-genie",
            production=production,
            demo_mode=not production if demo is None else demo,
            admin_token=os.environ.get("MOVIE_GENIE_ADMIN_TOKEN", "").strip() or None,
            trusted_proxies=int(proxies),
            rate_limit_redis_url=os.environ.get("RATE_LIMIT_REDIS_URL") or None,
        )


MIN_ADMIN_TOKEN = 16


def _env_flag(name: str) -> bool | None:
    """A yes/no environment variable: None when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/0 (or true/false), got {value!r}")
