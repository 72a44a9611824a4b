"""`movie-genie serve`: gunicorn with several worker processes, each holding its own loaded models.

Before gunicorn starts: the database is migrated to head (so a fresh checkout serves without a separate step),
PROMETHEUS_MULTIPROC_DIR points at a fresh folder, so /metrics aggregates every worker, and (without
RATE_LIMIT_REDIS_URL) a fresh SQLite file holds the rate-limit counters that every worker shares. Each worker
builds the app after the fork (models are loaded once per worker, never per request) with one torch intra-op
thread: several workers each running torch's default thread count would oversubscribe the CPU and ruin tail
latency.

This module imports nothing that imports prometheus_client at module level: the multiprocess switch is read when
prometheus_client is first imported, which must happen after the environment variable is set.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from movie_genie.api.config import ServingConfig
from movie_genie.config import Params, Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and how many processes and threads to run."""

    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 2
    threads: int = 4
    timeout_s: int = 60
    torch_threads: int = 1


def _child_exit(_server: Any, worker: Any) -> None:
    # A dead worker's live gauges/counters files must be marked so /metrics stops summing stale processes.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    """gunicorn configured in code (no config file): each worker builds the app in `load`."""

    def __init__(self, params: Params, settings: Settings, options: ServeOptions) -> None:
        self._params = params
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        o = self._options
        config = {
            "bind": f"{o.host}:{o.port}",
            "workers": o.workers,
            # gthread: keep-alive connections and a few requests in flight per worker while one waits on the DB.
            "worker_class": "gthread",
            "threads": o.threads,
            "timeout": o.timeout_s,
            "graceful_timeout": 10,
            "keepalive": 5,
            "preload_app": False,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "child_exit": _child_exit,
            "proc_name": "movie-genie",
            # gunicorn's control socket defaults to one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn), which two
            # servers on one host would fight over; nothing here uses gunicornc.
            "control_socket_disable": True,
        }
        for key, value in config.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        import torch

        torch.set_num_threads(self._options.torch_threads)
        from movie_genie.api.app import create_app
        from movie_genie.api.config import ServingConfig
        from movie_genie.api.services import EXTENSION_KEY

        app = create_app(self._settings, self._params)
        every_s = ServingConfig.from_params(self._params).reload_poll_s
        if every_s > 0:  # hot reload: this worker swaps in promoted model versions (api/services/loaded_models.py)
            app.extensions[EXTENSION_KEY].watch_versions(every_s)
        return app


def prepare_database(settings: Settings, params: Params) -> str | None:
    """Migrate the database to the code's head revision and return it; ConfigError when it holds no movies.

    An app without a catalogue is no app: refusing to start says what to run, where serving would show 0 films.
    """
    from movie_genie.config import ConfigError
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import describe_url, make_engine
    from movie_genie.db.load import EMPTY_CATALOGUE_HELP
    from movie_genie.db.migrate import table_counts, upgrade

    db_params = DatabaseParams.from_params(params)
    engine = make_engine(settings.database_url, busy_timeout_ms=db_params.busy_timeout_ms)
    try:
        revision = upgrade(engine)
        if table_counts(engine).get("movies", 0) == 0:
            raise ConfigError(f"{describe_url(settings.database_url)} holds no movies: {EMPTY_CATALOGUE_HELP}")
        return revision
    finally:
        engine.dispose()


def demo_mode_for(settings: Settings, host: str) -> Settings:
    """Local demo mode is for loopback: on another address it is off unless MOVIE_GENIE_DEMO_MODE asks for it."""
    if not settings.demo_mode or os.environ.get("MOVIE_GENIE_DEMO_MODE", "").strip():
        return settings
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return settings
    log.warning(
        "serving on %s: demo mode (anyone may rate as any MovieLens user) is off; MOVIE_GENIE_DEMO_MODE=1 keeps it",
        host,
    )
    return dataclasses.replace(settings, demo_mode=False)


def serve(params: Params, settings: Settings, options: ServeOptions) -> None:
    """Migrate, then run gunicorn in the foreground until interrupted."""
    settings = demo_mode_for(settings, options.host)
    revision = prepare_database(settings, params)
    log.info("database at revision %s", revision)
    # This server's own files: the workers' metrics, and (without a Redis for them) the rate-limit counters that
    # every worker shares (not in the metrics folder: prometheus_client reads every *.db file there).
    runtime = Path(tempfile.mkdtemp(prefix="movie-genie-serve-"))
    (runtime / "metrics").mkdir()
    os.environ[MULTIPROC_ENV] = str(runtime / "metrics")
    if not settings.rate_limit_redis_url:
        settings = dataclasses.replace(settings, rate_limit_file=runtime / "rate-limits.db")
    # Import (not load) the app's modules once in the master: forked workers start without re-importing torch,
    # pandas, SQLAlchemy... Artefacts are still loaded after the fork (ONNX Runtime and torch thread pools must be
    # created in the process that uses them).
    import movie_genie.api.app  # noqa: F401

    try:
        _Gunicorn(params, settings, options).run()
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def options_from(config: ServingConfig, host: str, port: int, workers: int | None) -> ServeOptions:
    """Combine params.yaml's serving section with the command line (which wins)."""
    return ServeOptions(
        host=host,
        port=port,
        workers=workers or config.workers,
        threads=config.threads,
        timeout_s=config.timeout_s,
        torch_threads=config.torch_threads,
    )
