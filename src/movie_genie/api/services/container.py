"""The Services container: everything the routes use, loaded once per process (database, catalogue, models, search
index, evaluation report), and the readiness and model reports built from it."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from pydantic import ValidationError

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache, make_cache
from movie_genie.api.config import ServingConfig
from movie_genie.api.errors import ApiError, ConflictError, public_text
from movie_genie.api.services.catalogue import Catalogue, count_catalogue_metadata
from movie_genie.api.services.database import Database
from movie_genie.api.services.explanations import Explainer
from movie_genie.api.services.feedback import FeedbackService
from movie_genie.api.services.home import HomeService
from movie_genie.api.services.item_space import ItemSpace
from movie_genie.api.services.loaded_models import SERVED, LoadedModels, ReloadPoller, Snapshot, wanted_versions
from movie_genie.api.services.movies import MovieService
from movie_genie.api.services.online import OnlineService
from movie_genie.api.services.recommendations import RecommendationService
from movie_genie.api.services.search import SearchService
from movie_genie.api.services.users import UserService
from movie_genie.config import Layout, Params, Settings
from movie_genie.db.load import EMPTY_CATALOGUE_HELP
from movie_genie.db.migrate import ensure_schema_current
from movie_genie.db.movies import count_movies
from movie_genie.errors import MovieGenieError
from movie_genie.evaluation.schema import REPORT_FILE, EvaluationReport
from movie_genie.models.catalogue import CATALOGUE, CONTENT
from movie_genie.online.experiments import Experiment, OnlineReport, load_experiments
from movie_genie.online.impressions import ImpressionLog, ImpressionWriter
from movie_genie.online.serving import ExperimentExistsError, ServingState, ServingStore
from movie_genie.training.progress import Preparing, pending_models, progress_path, read_progress
from movie_genie.training.versions import VersionError

log = logging.getLogger(__name__)

EXTENSION_KEY = "movie_genie"


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found


@dataclass
class Services:
    """Everything the routes use, loaded once per process."""

    config: ServingConfig
    layout: Layout
    db: Database
    cache: Cache
    catalogue: Catalogue
    models: LoadedModels
    recommendations: RecommendationService
    movies: MovieService
    users: UserService
    feedback: FeedbackService
    search: SearchService
    home: HomeService
    online: OnlineService
    report: EvaluationReport | None
    catalogue_info: s.CatalogueInfo
    versions: ServingStore
    configured_experiments: tuple[Experiment, ...]  # params.yaml's; serving.json adds those started at run time
    started_at: float = field(default_factory=time.time)

    @classmethod
    def load(cls, settings: Settings, params: Params, layout: Layout, config: ServingConfig) -> Services:
        """Connect to the database (which must be migrated), load the catalogue, models, index and report."""
        db = Database(settings, params)
        ensure_schema_current(db.engine)
        # Entries are namespaced by database, so two deployments sharing one Redis never see each other's answers.
        namespace = hashlib.sha1(settings.database_url.encode()).hexdigest()[:8]
        cache = make_cache(settings.redis_url, config.cache_ttl_s, config.cache_max_entries, namespace)
        catalogue = Catalogue.load(db)
        versions = ServingStore(layout)
        configured = load_experiments(params)
        state = _serving_state(versions)
        experiments = (*configured, *state.experiments)
        models = LoadedModels.load(layout.models_dir, versions, wanted_versions(state, experiments))
        search = SearchService(layout, catalogue, cache, db, models, config)
        space = ItemSpace(models, search)
        recommendations = RecommendationService(db, catalogue, models, cache, config, Explainer(catalogue), space)
        movies = MovieService(db, catalogue, models, search, space, cache)
        writer = None
        if config.log_impressions:
            c = config
            writer = ImpressionWriter(db.engine, c.impression_flush_ms, c.impression_batch, c.impression_queue_max)
        online = OnlineService(db, models, recommendations, ImpressionLog(writer), experiments, config)
        return cls(
            config=config,
            layout=layout,
            db=db,
            cache=cache,
            catalogue=catalogue,
            models=models,
            recommendations=recommendations,
            movies=movies,
            users=UserService(db, catalogue, recommendations),
            feedback=FeedbackService(db),
            search=search,
            home=HomeService(
                db, catalogue, models, recommendations, movies, cache, lambda: pending_models(progress_path(layout))
            ),
            online=online,
            report=_read_report(layout.report_dir / REPORT_FILE),
            catalogue_info=count_catalogue_metadata(db),
            versions=versions,
            configured_experiments=configured,
        )

    def refresh_versions(self) -> list[str]:
        """Serve what serving.json says now: its experiments join params.yaml's, and the models whose version
        changed are loaded and swapped in (the keys that changed). Called by the poller; safe to call any time."""
        state = self.versions.state()
        experiments = (*self.configured_experiments, *state.experiments)
        changed = self.models.reload(wanted_versions(state, experiments))
        self.report = _read_report(self.layout.report_dir / REPORT_FILE)  # a first run writes it last
        self.online.use_experiments(experiments)
        return changed

    def delete_user(self, user_id: int) -> s.DeletedUser:
        """Delete a profile made in the app: first this worker's queued impressions are written (so that the
        deletion takes them too), then every row of the user goes in one transaction. An impression another worker
        still holds is refused by the database when it is written (the user is gone) and dropped."""
        self.online.impressions.settle()
        return self.users.delete(user_id)

    def start_experiment(self, body: s.ExperimentBody) -> OnlineReport:
        """Add an experiment to serving.json and run it in this worker now (the others within reload_poll_s)."""
        if body.name in self.online.experiments:
            raise ConflictError(f"an experiment named {body.name!r} already exists", code="experiment_exists")
        try:
            experiment = Experiment.model_validate(body.model_dump())
        except ValidationError as exc:
            raise ApiError(exc.errors()[0]["msg"], code="invalid_experiment") from exc
        try:
            self.versions.add_experiment(experiment)
        except ExperimentExistsError as exc:
            raise ConflictError(str(exc), code="experiment_exists") from exc
        except VersionError as exc:
            raise ApiError(str(exc), code="invalid_experiment") from exc
        self.refresh_versions()
        return self.online.report(experiment.name)

    def watch_versions(self, every_s: float) -> ReloadPoller:
        """Poll serving.json, a first run's progress file and the evaluation report every `every_s` seconds in a
        daemon thread (one per worker: `movie-genie serve`)."""
        paths = (self.versions.state_path, progress_path(self.layout), self.layout.report_dir / REPORT_FILE)
        return ReloadPoller(paths, self.refresh_versions, every_s).start()

    def health(self) -> s.Health:
        """Readiness: "ready" while every capability (recommendations, similar films, search, the database) has
        something serving it along its fallback chain, "not_ready" when one has nothing; each dependency's state in
        `checks` ("degraded" when one is down). Details are plain words: paths and errors go to the log."""
        checks: dict[str, s.Check] = {}
        try:
            # The database itself, not the catalogue in memory: a query on the movies table.
            with self.db.session() as session:
                n_movies = count_movies(session)
            detail = f"{n_movies} movies" if n_movies else f"0 movies: the catalogue is empty; {EMPTY_CATALOGUE_HELP}"
            checks["database"] = s.Check(ok=n_movies > 0, detail=detail)
        except Exception as exc:  # unreachable, locked, file gone, tables missing: all mean "not ready"
            log.warning("health: the database does not answer: %s", exc)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            checks["database"] = s.Check(ok=False, detail=f"the database does not answer: {public_text(reason)}")
        loaded = self.models.snapshot()
        preparing = read_progress(progress_path(self.layout))
        # A first run's models that have not failed: still training, or trained and about to be loaded (each
        # worker loads a checkpoint within reload_poll_s of its appearing). Expected, so they are not a fault.
        coming = {m.name: m.state for m in preparing.models if m.state != "failed"} if preparing else {}
        for name in SERVED:
            ok = name in loaded.models
            detail = f"version {loaded.versions[name]}" if ok else loaded.errors.get(name, "not loaded")
            if not ok and name in coming:
                detail = (
                    "trained: loading it now"
                    if coming[name] == "ready"
                    else "still training: the other models answer for it until it is ready"
                )
            checks[f"model:{name}"] = s.Check(ok=ok, detail=detail)
        missing_parts = "; ".join(self.search.missing_parts.values())
        search_ok = self.search.ready and not missing_parts
        checks["search_index"] = s.Check(ok=search_ok, detail=self.search.error or missing_parts or "loaded")
        checks["cache"] = s.Check(ok=self.cache.ping(), detail=self.cache.name)
        capabilities = {
            "recommendations": _chain_capability(CATALOGUE.fallback(), loaded, "recommendations"),
            "similar_films": _similar_capability(loaded, self.search),
            "search": _search_capability(self.search),
            "database": s.Capability(
                ok=checks["database"].ok,
                served_by=self.db.engine.url.get_backend_name() if checks["database"].ok else None,
                detail=checks["database"].detail or "",
            ),
        }
        ready = all(c.ok for c in capabilities.values())
        return s.Health(
            status="ready" if ready else "not_ready",
            degraded=not all(c.ok for key, c in checks.items() if key.removeprefix("model:") not in coming),
            capabilities=capabilities,
            checks=checks,
            preparing=_preparing_view(preparing),
        )

    def models_info(self) -> s.ModelsInfo:
        """Every model: the version it serves, its figures from the evaluation report, its retrained versions with
        their offline figures, and the experiments it is in; every experiment's online report."""
        state = _serving_state(self.versions)
        manifests = list(reversed(self.versions.manifests()))
        loaded = self.models.snapshot()
        infos = [
            s.ModelInfo(
                name=name,
                api_name=name,
                version=loaded.versions.get(name),
                release=loaded.releases.get(name),
                loaded=name in loaded.models,
                evaluation=self.report.models.get(name) if self.report else None,
                versions=[
                    s.ModelVersionInfo(
                        version=m.id,
                        created_at=m.created_at,
                        serving=state.version_of(name) == m.id,
                        test=m.models[name].test,
                        vs_current=m.models[name].vs_current,
                    )
                    for m in manifests
                    if name in m.models
                ],
                experiments=[
                    e.name
                    for e in self.online.experiments.values()
                    if any(v.partition("@")[0] == name for v in e.variants)
                ],
            )
            for name in SERVED
        ]
        catalogue = [
            s.ModelCard(name=spec.name, label=spec.label, summary=spec.summary, trained=spec.trained)
            for spec in sorted(CATALOGUE.specs, key=lambda spec: spec.list_rank)
        ]
        return s.ModelsInfo(
            models=infos,
            catalogue=catalogue,
            report=self.report,
            experiments=self.online.reports(),
            reload_error=self.models.reload_error,
        )


def _missing_words(missing: list[str], loaded: Snapshot) -> str:
    """ "hybrid (no trained checkpoint: run `movie-genie train`), Two-Tower (not loaded)"."""
    return ", ".join(f"{CATALOGUE.label(m)} ({loaded.errors.get(m, 'not loaded')})" for m in missing)


def _chain_capability(chain: tuple[str, ...], loaded: Snapshot, what: str) -> s.Capability:
    """Served by the first loaded model of `chain`; not served when none is."""
    missing = [m for m in chain if m not in loaded.models]
    served = next((m for m in chain if m in loaded.models), None)
    order = " → ".join(CATALOGUE.label(m) for m in chain)
    if served is None:
        detail = f"no model of {order} is loaded: run `movie-genie train` ({_missing_words(missing, loaded)})"
    elif not missing:
        detail = f"{CATALOGUE.label(served)} makes the {what}"
    else:
        not_loaded = _missing_words(missing, loaded)
        detail = f"{CATALOGUE.label(served)} makes the {what} (fallback of {order}); not loaded: {not_loaded}"
    return s.Capability(ok=served is not None, served_by=served, missing=missing, detail=detail)


def _similar_capability(loaded: Snapshot, search: SearchService) -> s.Capability:
    """Films like a film: a model of who watches what (Two-Tower: watched by the same people), else the text
    embeddings (a similar story)."""
    collaborative, content = CATALOGUE.able("similar_items")[0], CONTENT.name
    has = {collaborative: collaborative in loaded.models, content: search.content_vectors is not None}
    missing = [name for name, ok in has.items() if not ok]
    served = next((m for m in has if m not in missing), None)
    why = {collaborative: loaded.errors.get(collaborative, "not loaded"), content: search.content_error or "not loaded"}
    model = CATALOGUE.label(collaborative)
    words = {collaborative: model, content: "the text embeddings"}
    gone = "; ".join(f"{words[m]}: {why[m]}" for m in missing)
    if served is None:
        detail = f"neither {model} nor the text embeddings are loaded ({gone})"
    elif not missing:
        detail = f"{model} (watched by the same people) and the text embeddings (a similar story)"
    elif served == collaborative:
        detail = f"{model} only: films with a similar story are not shown ({gone})"
    else:
        detail = f"the text embeddings only: films watched by the same people are not shown ({gone})"
    return s.Capability(ok=served is not None, served_by=served, missing=missing, detail=detail)


def _search_capability(search: SearchService) -> s.Capability:
    """The search index: its lexical (BM25) and title retrievers, and the semantic one unless its files are
    damaged (then the others serve and `missing` names it)."""
    if search.engine is None:
        detail = search.error or "the search index is not loaded: run `movie-genie index`"
        return s.Capability(ok=False, served_by=None, missing=["search_index"], detail=detail)
    if search.missing_parts:
        detail = "the search index without its " + "; ".join(search.missing_parts.values())
        return s.Capability(ok=True, served_by="search_index", missing=list(search.missing_parts), detail=detail)
    return s.Capability(
        ok=True, served_by="search_index", detail="the search index (semantic, lexical and title retrievers)"
    )


def _serving_state(versions: ServingStore) -> ServingState:
    """serving.json's state; a damaged file is logged and every model serves its base version (the API starts)."""
    try:
        return versions.state()
    except MovieGenieError as exc:
        log.error("%s", exc)
        return ServingState()


def _preparing_view(preparing: Preparing | None) -> s.Preparing | None:
    """The first run's progress as the API shows it; None once nothing is being prepared."""
    if preparing is None:
        return None
    models = [
        s.PreparingModel(name=m.name, label=CATALOGUE.label(m.name), state=m.state, seconds=m.seconds)
        for m in preparing.models
    ]
    ready = sum(m.state == "ready" for m in models)
    return s.Preparing(started_at=preparing.started_at, ready=ready, total=len(models), models=models)


def _read_report(path: Path) -> EvaluationReport | None:
    """The evaluation report, or None (logged) when it is missing or unreadable: the API serves without it."""
    try:
        return EvaluationReport.read(path)
    except MovieGenieError as exc:
        log.warning("%s", exc)
        return None
