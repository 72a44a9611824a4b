"""Debian's nginx running the shipped front-door config (deploy/nginx/) on loopback.

The shipped site files are `http`-context includes (compose mounts them into the official image). Here they are
copied into a temporary folder with their lines marked `# test: ...` pointed at loopback (the upstream at the
server under test, the listeners at free ports) and included by a minimal nginx.conf of the folder's own (pid,
logs and temp paths there, nothing global) that takes worker_connections and worker_rlimit_nofile from the shipped
deploy/nginx/nginx.conf. Every other line is the shipped files', unchanged.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import pytest

from tests.live_server import free_port, stop_process_group

NGINX_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
SITE = NGINX_DIR / "movie-genie.conf"
TLS_SITE = NGINX_DIR / "movie-genie-tls.conf"
MAIN = NGINX_DIR / "nginx.conf"
# The files a site includes (relative to the config's folder, as /etc/nginx in the container).
INCLUDES = ("common.conf", "locations.conf")
UPSTREAM_LINE = "server app:5001;"
LISTEN_LINE = "listen 8080;"
TLS_LISTEN_LINE = "listen 8443 ssl;"
INSTALL = "apt-get install nginx (.ci/run installs it)"


def nginx_binary() -> str:
    """Debian's nginx; FAIL (never skip) when it is missing, with the command that installs it."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        pytest.fail(f"nginx is not installed: {INSTALL}", pytrace=False)
    return path


def shipped_capacity() -> tuple[int, int]:
    """worker_connections and worker_rlimit_nofile of the shipped main config."""
    text = MAIN.read_text(encoding="utf-8")
    connections = re.search(r"^\s*worker_connections (\d+);", text, re.M)
    files = re.search(r"^\s*worker_rlimit_nofile (\d+);", text, re.M)
    assert connections and files, f"{MAIN.name} must set worker_connections and worker_rlimit_nofile"
    return int(connections.group(1)), int(files.group(1))


def _pointed(text: str, name: str, lines: dict[str, str]) -> str:
    for line, new in lines.items():
        if line in text:
            assert text.count(line) == 1, f"{name} must hold `{line}` at most once"
            text = text.replace(line, new)
    return text


def write_config(
    folder: Path, upstream: str, port: int, tls_port: int | None = None, connections: int | None = None
) -> Path:
    """The shipped site (the TLS one when `tls_port` is given: then `folder`/tls must hold fullchain.pem and
    privkey.pem) pointed at `upstream` and 127.0.0.1:`port`, inside a self-contained nginx.conf; `connections`
    replaces the shipped worker_connections (a benchmark's baseline)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = {UPSTREAM_LINE: f"server {upstream};", LISTEN_LINE: f"listen 127.0.0.1:{port};"}
    if tls_port is not None:
        lines[TLS_LISTEN_LINE] = f"listen 127.0.0.1:{tls_port} ssl;"
    site = TLS_SITE if tls_port is not None else SITE
    for source in (site, *(NGINX_DIR / name for name in INCLUDES)):
        text = _pointed(source.read_text(encoding="utf-8"), source.name, lines)
        (folder / source.name).write_text(text, encoding="utf-8")
    common = (folder / "common.conf").read_text(encoding="utf-8")
    assert f"server {upstream};" in common, f"common.conf must hold `{UPSTREAM_LINE}`"
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    shipped, files = shipped_capacity()
    connections = connections or shipped
    # As root, nginx's workers would run as `nobody` and could not write these root-only folders: run them as us.
    user = pwd.getpwuid(os.geteuid()).pw_name
    main = f"""
daemon off;
worker_processes 1;
worker_rlimit_nofile {files};
{"user " + user + ";" if os.geteuid() == 0 else ""}
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections {connections}; }}
http {{
    access_log {folder / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder / site.name};
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
    tls_port: int | None = None

    @classmethod
    def start(cls, folder: Path, upstream: str, *, tls: bool = False, connections: int | None = None) -> Self:
        """Write the config (the TLS site when `tls`: `folder`/tls holds the certificate; `connections` instead of
        the shipped worker_connections), start nginx in the foreground (its own session), wait until it accepts."""
        port = free_port()
        tls_port = free_port() if tls else None
        config = write_config(folder, upstream, port, tls_port, connections)
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
        proxy = cls(f"http://127.0.0.1:{port}", port, process, folder, tls_port)
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
        stop_process_group(self.process, timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self) -> str:
        """The end of nginx's error log and output (for failure messages)."""
        parts = [p.read_text(errors="replace")[-3000:] for p in (self.folder / "error.log", self.folder / "nginx.out")]
        return "\n".join(p for p in parts if p)


class _Echo(BaseHTTPRequestHandler):
    """Answers every GET with the scheme and client address nginx forwarded, as JSON."""

    def do_GET(self) -> None:
        forwarded = {"proto": self.headers.get("X-Forwarded-Proto"), "for": self.headers.get("X-Forwarded-For")}
        body = json.dumps({"data": forwarded}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def echo_upstream() -> Iterator[str]:
    """A small upstream on loopback for tests of nginx's own behaviour (TLS, limits): host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
