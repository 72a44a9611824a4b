"""A real `movie-genie serve` (gunicorn) process for the tests that drive it over HTTP: the multi-worker checks
(tests/deploy), and the browser tests (tests/e2e).

`LiveServer.start` returns only once EVERY worker answers: gunicorn workers load the models after the fork, so
on a busy machine the first worker can answer long before the others, and a test that needs all of them would
otherwise see fewer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest

STARTUP_TIMEOUT_S = 180
BURST = 8  # concurrent GETs per burst when reaching every worker


def stop_process_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM to a server started in its own session (its master stops its workers); kill the whole group if it
    is still running after `timeout` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running `movie-genie serve` with `workers` gunicorn workers, and the HTTP calls tests make to it."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int

    @classmethod
    def start(
        cls,
        command: list[str],
        *,
        port: int,
        workers: int,
        env: dict[str, str],
        log: Path,
        cwd: Path | None = None,
        **fields: Any,
    ) -> Self:
        """Run `command` (which serves on `port`), wait until every worker answers /api/ping, or fail the test.

        A new session: when the command is a shell that execs gunicorn, SIGTERM still reaches the master.
        `fields` fill a subclass's extra fields.
        """
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(f"http://127.0.0.1:{port}", process, log, workers, **fields)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        seen: set[str] = set()
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            while len(seen) < workers:
                if process.poll() is not None:
                    pytest.fail(f"movie-genie serve exited with {process.returncode}:\n{server.log_tail()}")
                if time.monotonic() > deadline:
                    server.stop()
                    pytest.fail(
                        f"{len(seen)} of {workers} workers answered within {STARTUP_TIMEOUT_S} s:\n{server.log_tail()}"
                    )
                seen |= {i for i in pool.map(lambda _: server._instance("/api/ping"), range(BURST)) if i}
                time.sleep(0.2)
        return server

    def stop(self) -> None:
        """SIGTERM to the gunicorn master, which stops its workers; kill the whole group if it hangs."""
        stop_process_group(self.process, timeout=30)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def get(
        self, path: str, timeout: float = 15.0, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """GET a JSON endpoint (with extra headers, e.g. Authorization): status, headers, decoded body (errors too)."""
        request = urllib.request.Request(self.base + path, headers={"Connection": "close", **(headers or {})})
        return self._call(request, timeout)

    def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """POST a JSON body (with extra headers, e.g. Authorization): status, headers, decoded body."""
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Connection": "close", **(headers or {})},
            method="POST",
        )
        return self._call(request, 15.0)

    def text(self, path: str) -> str:
        """GET a text endpoint (/metrics)."""
        with urllib.request.urlopen(self.base + path, timeout=15) as response:
            return str(response.read().decode())

    def from_every_worker(
        self, path: str, max_bursts: int = 40, headers: dict[str, str] | None = None
    ) -> dict[str, list[Any]]:
        """Concurrent bursts of GETs until every worker (X-Instance) has answered; 200 bodies per worker."""
        seen: dict[str, list[Any]] = {}
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            for _ in range(max_bursts):
                for status, answered, body in pool.map(lambda _: self.get(path, headers=headers), range(BURST)):
                    assert status == 200, body
                    seen.setdefault(answered["X-Instance"], []).append(body)
                if len(seen) >= self.workers:
                    return seen
        pytest.fail(f"only {len(seen)} of {self.workers} workers answered {max_bursts * BURST} requests to {path}")

    def log_tail(self) -> str:
        """The last lines of the server's log (for failure messages)."""
        return self.log.read_text(errors="replace")[-4000:]

    def _instance(self, path: str) -> str | None:
        """The X-Instance of the worker that answered a 200, or None while nothing answers."""
        try:
            status, headers, _ = self.get(path, timeout=2)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None
        return headers.get("X-Instance") if status == 200 else None

    @staticmethod
    def _call(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], Any]:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")
