"""A throw-away redis-server on a loopback port, with the eviction policy a test asks for, that a test can stop."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest
import redis

from tests.live_server import free_port

INSTALL = "apt-get install redis-server (the machine's services include it; .ci/run starts the shared one)"


@dataclass
class RedisServer:
    """`redis-server` in the foreground, keeping nothing on disk."""

    port: int
    args: tuple[str, ...]
    folder: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        """redis://127.0.0.1:<port>/0"""
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start_new(cls, folder: Path, *args: str) -> Self:
        """Start a server with extra arguments (e.g. "--maxmemory-policy", "noeviction") and wait until it answers."""
        server = cls(free_port(), args, folder)
        server.start()
        return server

    def start(self) -> None:
        """(Re)start on the same port."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(f"redis-server is not installed: {INSTALL}", pytrace=False)
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder), *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"redis-server {' '.join(self.args)} did not answer on port {self.port}")
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); its port refuses connections afterwards."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
