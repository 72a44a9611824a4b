"""Debian's nginx running the shipped front-door config (deploy/nginx/movie-genie.conf) on loopback.

The shipped file is an `http`-context include (compose mounts it into the official image's conf.d). Here it is
included by a minimal nginx.conf written into a temporary folder (pid, logs and temp paths there, nothing global),
with its two marked lines pointed at loopback: the upstream at the server under test, the listener at a free port.
Every other line is the shipped file, unchanged.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

from tests.live_server import free_port

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "movie-genie.conf"
UPSTREAM_LINE = "server app:5001;"
LISTEN_LINE = "listen 8080;"
INSTALL = "apt-get install nginx (.ci/run installs it)"


def nginx_binary() -> str:
    """Debian's nginx; FAIL (never skip) when it is missing, with the command that installs it."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        pytest.fail(f"nginx is not installed: {INSTALL}", pytrace=False)
    return path


def write_config(folder: Path, upstream: str, port: int) -> Path:
    """The shipped site file pointed at `upstream` and 127.0.0.1:`port`, inside a self-contained nginx.conf."""
    site = SITE.read_text(encoding="utf-8")
    for line, new in ((UPSTREAM_LINE, f"server {upstream};"), (LISTEN_LINE, f"listen 127.0.0.1:{port};")):
        assert len(re.findall(re.escape(line), site)) == 1, f"{SITE.name} must hold `{line}` exactly once"
        site = site.replace(line, new)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movie-genie.conf").write_text(site, encoding="utf-8")
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    # As root, nginx's workers would run as `nobody` and could not write these root-only folders: run them as us.
    user = pwd.getpwuid(os.geteuid()).pw_name
    main = f"""
daemon off;
worker_processes 1;
{"user " + user + ";" if os.geteuid() == 0 else ""}
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    access_log {folder / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder / "movie-genie.conf"};
}}
"""
    config = folder / "nginx.conf"
    config.write_text(main, encoding="utf-8")
    return config


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a config written by `write_config`."""
    command = [nginx_binary(), "-t", "-p", str(config.parent), "-c", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


@dataclass
class Nginx:
    """A running nginx in front of `upstream`, listening on `base`."""

    base: str
    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @classmethod
    def start(cls, folder: Path, upstream: str) -> Self:
        """Write the config, start nginx in the foreground (its own session) and wait until it accepts."""
        port = free_port()
        config = write_config(folder, upstream, port)
        checked = check_config(config)
        assert checked.returncode == 0, f"nginx -t:\n{checked.stderr}"
        log = (folder / "nginx.out").open("wb")
        process = subprocess.Popen(
            [nginx_binary(), "-p", str(folder), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        proxy = cls(f"http://127.0.0.1:{port}", port, process, folder)
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{proxy.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proxy
            except OSError:
                if time.monotonic() > deadline:
                    proxy.stop()
                    pytest.fail(f"nginx did not listen on {port} within 15 s:\n{proxy.log_tail()}")
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM to the master (fast shutdown), which stops its worker; kill the group if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self) -> str:
        """The end of nginx's error log and output (for failure messages)."""
        parts = [p.read_text(errors="replace")[-3000:] for p in (self.folder / "error.log", self.folder / "nginx.out")]
        return "\n".join(p for p in parts if p)
