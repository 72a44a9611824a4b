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

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from tests.artefacts import Artefacts

POSTGRES_ADMIN_URL = os.environ.get(
    "MOVIE_GENIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Database 14: the API's own Redis tests use 15; this suite flushes only its own number.
REDIS_URL = os.environ.get("MOVIE_GENIE_TEST_REDIS_DEPLOY_URL", "redis://127.0.0.1:6379/14")
STARTUP_TIMEOUT_S = 180
WORKERS = 2
MOVIE_GENIE = str(Path(sys.executable).with_name("movie-genie"))
ENTRYPOINT = Path(__file__).resolve().parents[2] / "deploy" / "docker-entrypoint.sh"

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@dataclass
class Server:
    """A running `movie-genie serve` and the HTTP calls the tests make to it."""

    backend: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str
    redis_url: str | None

    def get(self, path: str, timeout: float = 15.0) -> tuple[int, dict[str, str], Any]:
        """GET a JSON endpoint: status, headers, decoded body (errors too)."""
        return self._call(urllib.request.Request(self.base + path, headers={"Connection": "close"}), timeout)

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """POST a JSON body: status, headers, decoded body."""
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Connection": "close"},
            method="POST",
        )
        return self._call(request, 15.0)

    def text(self, path: str) -> str:
        """GET a text endpoint (/metrics)."""
        with urllib.request.urlopen(self.base + path, timeout=15) as response:
            return str(response.read().decode())

    def from_every_worker(self, path: str, max_bursts: int = 40) -> dict[str, list[Any]]:
        """Concurrent bursts of GETs until every worker (X-Instance) has answered; 200 bodies per worker."""
        seen: dict[str, list[Any]] = {}
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(max_bursts):
                for status, headers, body in pool.map(lambda _: self.get(path), range(8)):
                    assert status == 200, body
                    seen.setdefault(headers["X-Instance"], []).append(body)
                if len(seen) >= WORKERS:
                    return seen
        pytest.fail(f"only {len(seen)} of {WORKERS} workers answered {max_bursts * 8} requests to {path}")

    def log_tail(self) -> str:
        """The last lines of the server's log (for failure messages)."""
        return self.log.read_text(errors="replace")[-4000:]

    @staticmethod
    def _call(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], Any]:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_admin() -> psycopg.Connection:
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    try:
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {url.render_as_string(hide_password=True)} is not reachable ({exc}). The production "
            f"configuration tests need it: start it with `{START_POSTGRES}`, or point MOVIE_GENIE_TEST_POSTGRES_URL "
            "at a server with trust auth.",
            pytrace=False,
        )


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
    """The environment of the server and its CLI steps: this database and cache, offline, no proxies."""
    # No proxies: the test talks to loopback only. The container's offline settings for the sentence model.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DATABASE_URL=database_url, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _start(backend: str, built: Artefacts, database_url: str, redis_url: str | None, log: Path) -> Server:
    """Run the container's entry point and command: db upgrade, db load, then `movie-genie serve` (exec'd)."""
    env = server_env(database_url, redis_url)
    # The container finds `movie-genie` on PATH and params.yaml in its working directory; so does this process.
    env["PATH"] = f"{Path(MOVIE_GENIE).parent}{os.pathsep}{env.get('PATH', '')}"
    # gunicorn's control socket goes to $XDG_RUNTIME_DIR (else ~/.gunicorn, shared by every server on the host).
    env["XDG_RUNTIME_DIR"] = str(log.parent)
    port = _free_port()
    command = ["sh", str(ENTRYPOINT), "movie-genie", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    with log.open("wb") as out:
        # A new session: the entry point execs gunicorn, so SIGTERM reaches the master, which stops its workers.
        process = subprocess.Popen(
            command, cwd=built.root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(backend, f"http://127.0.0.1:{port}", process, log, database_url, redis_url)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"the entry point exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if server.get("/api/ping", timeout=2)[0] == 200:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            _stop(server)
            pytest.fail(f"movie-genie serve did not answer within {STARTUP_TIMEOUT_S} s:\n{server.log_tail()}")
        time.sleep(0.5)


def _stop(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


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
        server = _start(backend, artefacts, f"sqlite:///{folder / 'movie_genie.db'}", None, folder / "serve.log")
        try:
            yield server
        finally:
            _stop(server)
        return

    cache = _redis_client()
    name = f"movie_genie_deploy_{uuid.uuid4().hex[:12]}"
    with _postgres_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        server = _start(backend, artefacts, database_url, REDIS_URL, folder / "serve.log")
        try:
            yield server
        finally:
            _stop(server)
    finally:
        cache.flushdb()
        cache.close()
        with _postgres_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    """A client of the dedicated Redis database the postgres-redis server caches in."""
    client = _redis_client()
    yield client
    client.close()
