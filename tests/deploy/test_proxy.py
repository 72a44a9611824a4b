"""The front door for real: Debian's nginx with the shipped deploy/nginx/movie-genie.conf in front of
`movie-genie serve` (gunicorn, 2 workers, started by the container's entry point on SQLite), both on loopback.

- Slow clients (headers, then one body byte every half second) hold gunicorn's threads when gunicorn faces them:
  /api/ping stops answering (the reproduction, bounded to a few seconds). Through nginx the same attack never
  reaches gunicorn and /api/ping answers within 1 s; clients that stall are reset after nginx's timeouts.
- What nginx answers itself (malformed, oversized, an app that is down) is in the API's error shape.
- Requests just inside nginx's limits reach the app (gunicorn's own, HTML, limits are not hit first).
- Normal calls (recommendations, feedback) pass with the app's security headers; /metrics stays internal.

Every attack is bounded: 64 sockets, a few seconds, 127.0.0.1 only; the sockets are closed on the way out.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from movie_genie.api.config import ServingConfig
from tests.artefacts import Artefacts
from tests.deploy.conftest import ADMIN, Server, _start
from tests.deploy.nginx import Nginx
from tests.live_server import free_port

SLOW_CLIENTS = 64
TRICKLE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 1.0
PROBE_EVERY_S = 0.25
# nginx's client_header_timeout / client_body_timeout in the shipped config.
NGINX_CLIENT_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def app(artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own (the attacks must not disturb the shared ones): the entry point on a fresh SQLite."""
    folder = tmp_path_factory.mktemp("proxy-app")
    database = f"sqlite:///{folder / 'movie_genie.db'}"
    with _start("sqlite-local", artefacts, database, None, folder / "serve.log") as server:
        yield server


@pytest.fixture(scope="module")
def proxy(app: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """nginx with the shipped config, its upstream at the app."""
    with Nginx.start(tmp_path_factory.mktemp("nginx"), app.base.removeprefix("http://")) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def through(app: Server, proxy: Nginx) -> Server:
    """The app's HTTP helpers (get/post) aimed at the proxy."""
    return replace(app, base=proxy.base)


# --- slow clients and the probe -------------------------------------------------------------------------------


def _slow_request(length: int) -> bytes:
    return (
        "POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@contextmanager
def trickling_clients(port: int, count: int = SLOW_CLIENTS) -> Iterator[list[socket.socket]]:
    """`count` sockets that send a POST's headers, then one body byte every TRICKLE_EVERY_S; closed on exit."""
    sockets = []
    stop = threading.Event()
    try:
        for i in range(count):
            # From 16 loopback addresses, 4 each: within the proxy's connections per address (limit_conn), as
            # many people's slow phones would be; the probe comes from 127.0.0.1.
            source = (f"127.0.1.{i % 16 + 1}", 0)
            sock = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=source)
            sock.sendall(_slow_request(60_000))  # under the body limit, so nobody refuses it early
            sockets.append(sock)

        def trickle() -> None:
            while not stop.wait(TRICKLE_EVERY_S):
                for sock in sockets:
                    with suppress(OSError):
                        sock.send(b" ")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        yield sockets
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


@dataclass
class Probes:
    """GET /api/ping every PROBE_EVERY_S with a PROBE_TIMEOUT_S timeout: latency in s, or None when it failed."""

    latencies: list[float | None]

    @property
    def answered(self) -> list[float]:
        return [t for t in self.latencies if t is not None]

    @property
    def failed(self) -> int:
        return sum(t is None for t in self.latencies)

    def summary(self) -> str:
        worst = f"{max(self.answered) * 1000:.0f} ms" if self.answered else "-"
        return f"{len(self.answered)}/{len(self.latencies)} probes answered within {PROBE_TIMEOUT_S} s, slowest {worst}"


def probe(base: str, duration_s: float) -> Probes:
    """Probe /api/ping for `duration_s`."""
    latencies: list[float | None] = []
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        start = time.monotonic()
        request = urllib.request.Request(base + "/api/ping", headers={"Connection": "close"})
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
                ok = response.status == 200 and json.loads(response.read())["data"] is not None
        except (urllib.error.URLError, OSError, ValueError):
            ok = False
        took = time.monotonic() - start
        latencies.append(took if ok and took <= PROBE_TIMEOUT_S else None)
        time.sleep(max(0.0, PROBE_EVERY_S - took))
    return Probes(latencies)


def test_slow_clients_starve_gunicorn_when_it_faces_them(app: Server) -> None:
    """The reproduction, bounded to 5 s: 64 trickling clients straight at gunicorn take every thread."""
    port = int(app.base.rsplit(":", 1)[1])
    assert probe(app.base, 1.0).failed == 0, "the app must answer before the attack"
    with trickling_clients(port):
        time.sleep(1.0)  # the workers pick the slow requests up
        attacked = probe(app.base, 5.0)
    print(f"\ndirect to gunicorn, {SLOW_CLIENTS} slow clients: {attacked.summary()}")
    assert attacked.failed >= len(attacked.latencies) * 0.8, (
        f"expected gunicorn facing slow clients to stop answering: {attacked.summary()}"
    )
    # Closing the slow sockets frees the threads: the app serves again (the other tests rely on it).
    deadline = time.monotonic() + 20
    while probe(app.base, 0.5).failed and time.monotonic() < deadline:
        pass
    assert probe(app.base, 1.0).failed == 0, app.log_tail()


def _closed_by_peer(sock: socket.socket, within_s: float) -> float | None:
    """Seconds until the peer closed or reset `sock` (None if it stayed open `within_s`)."""
    start = time.monotonic()
    sock.settimeout(within_s)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return None
    except OSError:
        return time.monotonic() - start
    return time.monotonic() - start if data == b"" else None


def test_slow_clients_do_not_reach_gunicorn_through_the_proxy(proxy: Nginx) -> None:
    """The same 64 clients at nginx: /api/ping keeps answering within 1 s; clients that stall are reset."""
    stalled_header = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    stalled_header.sendall(b"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
    stalled_body = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    stalled_body.sendall(_slow_request(100) + b'{"user_id"')  # and never the rest
    closed: dict[str, float | None] = {}
    watchers = [
        threading.Thread(
            target=lambda name=name, sock=sock: closed.__setitem__(
                name, _closed_by_peer(sock, NGINX_CLIENT_TIMEOUT_S + 3)
            )
        )
        for name, sock in (("header", stalled_header), ("body", stalled_body))
    ]
    try:
        for watcher in watchers:
            watcher.start()
        with trickling_clients(proxy.port):
            time.sleep(1.0)
            attacked = probe(proxy.base, NGINX_CLIENT_TIMEOUT_S + 2)
        for watcher in watchers:
            watcher.join(timeout=NGINX_CLIENT_TIMEOUT_S + 5)
    finally:
        stalled_header.close()
        stalled_body.close()
    print(f"\nthrough nginx, {SLOW_CLIENTS} slow clients: {attacked.summary()}; stalled clients reset after {closed}")
    assert attacked.failed == 0, attacked.summary()
    for name, after in closed.items():
        assert after is not None and NGINX_CLIENT_TIMEOUT_S - 1 <= after <= NGINX_CLIENT_TIMEOUT_S + 3, (name, after)


# --- what nginx answers itself ---------------------------------------------------------------------------------


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw(port: int, request: bytes) -> RawAnswer:
    """Send bytes as they are (no client library would send most of these) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (int(ln.split(b":", 1)[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")),
                None,
            )
            if length is not None and len(body) >= length:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return RawAnswer(int(lines[0].split()[1]), headers, body)


def _get(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""]).encode()


BIG = 20_000


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        pytest.param(_get("/api/" + "a" * BIG), 414, "uri_too_long", id="20kB-url"),
        pytest.param(_get("/api/ping", "X-Big: " + "a" * BIG), 431, "headers_too_large", id="20kB-header"),
        pytest.param(_slow_request(70_000), 413, "payload_too_large", id="70kB-body"),
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", 400, "bad_request", id="malformed"),
        pytest.param(_get("/_errors/400.json"), 404, "not_found", id="internal-page"),
        pytest.param(_get("/metrics"), 404, "not_found", id="metrics"),
    ],
)
def test_what_nginx_refuses_is_answered_in_the_api_error_shape(
    proxy: Nginx, request_bytes: bytes, status: int, code: str
) -> None:
    answer = raw(proxy.port, request_bytes)
    assert answer.status == status, answer
    assert answer.headers["Content-Type"] == "application/json", answer.headers
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == code, error
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Server"] == "nginx", "server_tokens off: no version"


def test_a_down_app_is_a_json_502(tmp_path: Path) -> None:
    with Nginx.start(tmp_path / "nginx", f"127.0.0.1:{free_port()}") as nginx:  # nothing listens there
        answer = raw(nginx.port, _get("/api/recommendations?user_id=1"))
    assert answer.status == 502 and answer.headers["Content-Type"] == "application/json", answer
    assert answer.json()["error"]["code"] == "bad_gateway"


# --- what nginx lets through -----------------------------------------------------------------------------------

# The longest request line and header line nginx accepts with `large_client_header_buffers 4 4k` (CRLF excluded).
LONGEST_LINE = 4094


def test_requests_just_inside_the_proxy_limits_reach_the_app_not_gunicorn_errors(
    proxy: Nginx, artefacts: Artefacts
) -> None:
    """gunicorn answers its own limit errors in HTML: nginx's limits sit at or below them, so it never gets to."""
    path = "/api/" + "a" * (LONGEST_LINE - len("GET /api/ HTTP/1.1"))
    answer = raw(proxy.port, _get(path))
    assert answer.headers["Content-Type"] == "application/json", answer
    assert answer.status == 404 and answer.json()["error"]["code"] == "not_found", answer  # the app's 404
    assert "X-Instance" in answer.headers, "answered by the app"
    assert raw(proxy.port, _get(path + "a")).status == 414  # one more byte: nginx's JSON 414

    header = "X-Long: " + "a" * (LONGEST_LINE - len("X-Long: "))
    answer = raw(proxy.port, _get("/api/ping", header))
    assert answer.status == 200 and "X-Instance" in answer.headers, answer

    limit = ServingConfig.from_params(artefacts.params).max_body_bytes  # what the app runs with
    body = b'{"user_id": 1, "movie_id": 1, "kind": "like"}'
    exact = _slow_request(limit) + body + b" " * (limit - len(body))
    answer = raw(proxy.port, exact)  # exactly the limit: the app's validation answers, not a 413
    assert answer.status != 413 and "X-Instance" in answer.headers, answer
    answer = raw(proxy.port, _slow_request(limit + 1) + b" " * (limit + 1))
    assert answer.status == 413 and "X-Instance" not in answer.headers, answer  # nginx refused it

    # The one limit nginx cannot mirror: it bounds the headers' size, not their count, so more than gunicorn's 100
    # header fields still get gunicorn's HTML 431 (deploy/README.md says so). Only a broken client sends that many.
    answer = raw(proxy.port, _get("/api/ping", *[f"X-H{i}: v" for i in range(101)]))
    assert answer.status == 431 and answer.headers["Content-Type"] == "text/html", answer


# --- normal calls ----------------------------------------------------------------------------------------------


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def test_api_calls_pass_through_with_the_security_headers(through: Server) -> None:
    status, headers, body = through.get("/api/recommendations?user_id=7&model=ease&k=10")
    assert status == 200 and len(body["data"]["items"]) == 10, body
    assert all(name in headers for name in SECURITY_HEADERS), headers
    assert headers["X-Frame-Options"] == "DENY" and headers["Server"] == "nginx"
    top = body["data"]["items"][0]["movie"]["movie_id"]

    status, headers, event = through.post("/api/feedback", {"user_id": 7, "movie_id": top, "kind": "like"}, ADMIN)
    assert status == 201, event
    assert all(name in headers for name in SECURITY_HEADERS), headers
    status, _, again = through.get("/api/recommendations?user_id=7&model=ease&k=10")
    assert status == 200 and top not in [i["movie"]["movie_id"] for i in again["data"]["items"]]

    # The app's own errors pass through untouched (nginx does not intercept them).
    status, headers, error = through.get("/api/movies/999999999")
    assert status == 404 and error["error"]["code"] == "not_found" and "X-Instance" in headers, error
    connection = http.client.HTTPConnection("127.0.0.1", int(through.base.rsplit(":", 1)[1]), timeout=10)
    connection.request("GET", "/api/ping")
    assert connection.getresponse().status == 200
    connection.close()
