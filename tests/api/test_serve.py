"""`movie-genie serve` for real: gunicorn with two worker processes on a free loopback port.

Live feedback must hold across processes: after a POST to one worker, BOTH workers answer with recommendations
that reflect it (each worker has its own in-process cache, so this only passes if the cache keys follow the
database). /metrics must aggregate the workers (Prometheus multiprocess mode).
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STARTUP_TIMEOUT_S = 120


@dataclass(frozen=True)
class Server:
    """A running `movie-genie serve`."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def server(artefacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn with 2 workers on the session's artefacts; stopped (SIGTERM to the master) afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": artefacts.database_url, "HF_HUB_OFFLINE": "1"}
    env.pop("REDIS_URL", None)  # the in-process cache: the harder case for cross-worker consistency
    command = [
        str(Path(sys.executable).with_name("movie-genie")),
        "--params",
        str(artefacts.params_file),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"movie-genie serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if _get(f"{base}/api/ping", timeout=2)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"movie-genie serve did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield Server(base, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers_from_both_workers(url: str, wait_s: float = 60.0) -> dict[str, list[Any]]:
    """Concurrent bursts of GETs until two different processes (X-Instance) have answered; bodies per process.

    The server answers as soon as its first worker is up; the second may still be loading models on a busy
    machine, so this keeps trying for `wait_s` seconds before calling it a failure.
    """
    seen: dict[str, list[Any]] = {}
    deadline = time.monotonic() + wait_s
    with ThreadPoolExecutor(max_workers=8) as pool:
        while time.monotonic() < deadline:
            for status, headers, body in pool.map(lambda _: _get(url), range(8)):
                assert status == 200, body
                seen.setdefault(headers["X-Instance"], []).append(body)
            if len(seen) >= 2:
                return seen
            time.sleep(0.2)
    pytest.fail(f"only {len(seen)} worker(s) answered within {wait_s:.0f} s")


def test_feedback_round_trip_across_two_workers(server: Server) -> None:
    url = f"{server.base}/api/recommendations?user_id=11&model=popular&k=5"
    before = _answers_from_both_workers(url)
    items = {json.dumps(b["data"]["items"]) for bodies in before.values() for b in bodies}
    assert len(items) == 1, "workers disagree before any feedback"
    # Each worker answered at least once, so each now holds the answer in its own in-process cache.
    assert any(b["meta"]["cached"] for bodies in before.values() for b in bodies)
    top = before[next(iter(before))][0]["data"]["items"][0]["movie"]["movie_id"]

    status, event = _post(f"{server.base}/api/feedback", {"user_id": 11, "movie_id": top, "kind": "watched"})
    assert status == 201 and event["data"]["movie_id"] == top

    after = _answers_from_both_workers(url)
    assert len(after) >= 2
    for bodies in after.values():
        for body in bodies:
            ids = [i["movie"]["movie_id"] for i in body["data"]["items"]]
            assert top not in ids, "a worker served recommendations that ignore the new feedback"
            assert body["meta"]["history_size"] == before[next(iter(before))][0]["meta"]["history_size"] + 1


def test_metrics_aggregate_every_worker(server: Server) -> None:
    url = f"{server.base}/api/movies/popular?k=3"
    answers = _answers_from_both_workers(url)
    sent = sum(len(b) for b in answers.values())
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=10) as response:
        text = response.read().decode()
    line = next(
        (
            ln
            for ln in text.splitlines()
            if ln.startswith("movie_genie_http_request_duration_seconds_count")
            and 'route="/api/movies/popular"' in ln
            and 'status="200"' in ln
        ),
        None,
    )
    assert line is not None, text[:2000]
    assert float(line.rsplit(" ", 1)[1]) >= sent


def test_serves_security_headers_and_json_errors(server: Server) -> None:
    status, headers, body = _get(f"{server.base}/api/movies/99999")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
