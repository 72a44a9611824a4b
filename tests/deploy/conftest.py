"""The production configuration for real: `movie-genie serve` (gunicorn, 2 workers) as the container runs it.

Two configurations, each a real server process driven over HTTP:
- `postgres-redis`: DATABASE_URL at a uniquely named database on the PostgreSQL server on loopback
  (MOVIE_GENIE_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), dropped
  afterwards; REDIS_URL at a dedicated Redis database (MOVIE_GENIE_TEST_REDIS_DEPLOY_URL, default
  redis://127.0.0.1:6379/14), flushed afterwards. A server that cannot be reached FAILS these tests with the
  command that starts it; they are never skipped.
- `sqlite-local`: a fresh SQLite file and each worker's in-process cache.

The server is started by the container's own entry point (deploy/docker-entrypoint.sh: `movie-genie db upgrade`,
`movie-genie db load`, then exec `movie-genie serve`) in a folder holding params.yaml, as /app does in the image.
The artefacts (data, models, index, report) are the API tests' session set: a real ml-100k slice through every
pipeline stage (tests/artefacts.py).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from tests.artefacts import Artefacts
from tests.live_server import LiveServer, free_port
from tests.postgres import POSTGRES_ADMIN_URL, postgres_admin

# Database 14: the API's own Redis tests use 15; this suite flushes only its own number.
REDIS_URL = os.environ.get("MOVIE_GENIE_TEST_REDIS_DEPLOY_URL", "redis://127.0.0.1:6379/14")
WORKERS = 2
# Production settings, as compose sets them: demo mode off, so MovieLens profiles are written with the admin token.
ADMIN_TOKEN = "deploy-tests-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MOVIE_GENIE = str(Path(sys.executable).with_name("movie-genie"))
ENTRYPOINT = Path(__file__).resolve().parents[2] / "deploy" / "docker-entrypoint.sh"

START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@dataclass
class Server(LiveServer):
    """The production server of one configuration (`backend`), and the database and cache it uses."""

    backend: str = ""
    database_url: str = ""
    redis_url: str | None = None


def _redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {REDIS_URL} is not reachable ({exc}). The production configuration tests need it: start it "
            f"with `{START_REDIS}`, or point MOVIE_GENIE_TEST_REDIS_DEPLOY_URL at another server/database.",
            pytrace=False,
        )
    return client


def server_env(database_url: str, redis_url: str | None) -> dict[str, str]:
    """The environment of the server and its CLI steps: production settings (as compose), this database and cache,
    offline, no proxies."""
    # No proxies: the test talks to loopback only. The container's offline settings for the sentence model.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DATABASE_URL=database_url, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.update(MOVIE_GENIE_ENV="production", MOVIE_GENIE_ADMIN_TOKEN=ADMIN_TOKEN)
    env.pop("MOVIE_GENIE_DEMO_MODE", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _start(backend: str, built: Artefacts, database_url: str, redis_url: str | None, log: Path) -> Server:
    """Run the container's entry point and command: db upgrade, db load, then `movie-genie serve` (exec'd)."""
    env = server_env(database_url, redis_url)
    # The container finds `movie-genie` on PATH and params.yaml in its working directory; so does this process.
    env["PATH"] = f"{Path(MOVIE_GENIE).parent}{os.pathsep}{env.get('PATH', '')}"
    port = free_port()
    command = ["sh", str(ENTRYPOINT), "movie-genie", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    return Server.start(
        command,
        port=port,
        workers=WORKERS,
        env=env,
        log=log,
        cwd=built.root,
        backend=backend,
        database_url=database_url,
        redis_url=redis_url,
    )


@pytest.fixture(
    scope="session",
    params=[pytest.param("postgres-redis", marks=pytest.mark.postgres), "sqlite-local"],
)
def server(
    request: pytest.FixtureRequest,
    artefacts: Artefacts,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """`movie-genie serve` with 2 gunicorn workers on a freshly prepared database of this configuration."""
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"deploy-{backend}")
    if backend == "sqlite-local":
        with _start(backend, artefacts, f"sqlite:///{folder / 'movie_genie.db'}", None, folder / "serve.log") as server:
            yield server
        return

    cache = _redis_client()
    name = f"movie_genie_deploy_{uuid.uuid4().hex[:12]}"
    with postgres_admin("production configuration tests") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with _start(backend, artefacts, database_url, REDIS_URL, folder / "serve.log") as server:
            yield server
    finally:
        cache.flushdb()
        cache.close()
        with postgres_admin("production configuration tests") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    """A client of the dedicated Redis database the postgres-redis server caches in."""
    client = _redis_client()
    yield client
    client.close()
