"""The front door bounds slow and greedy clients: Debian's nginx with the shipped deploy/nginx/ files on loopback.

Each test reproduces a defect of the old front door (a note on each says how it failed):
- no limit_conn: one address could hold any number of connections (each slow body one more);
- no limit_req: one address could send any number of requests a second;
- worker_connections 1024 (the harness's, and the official image's default): 2,100 slow sockets took every
  connection and a normal client got none;
- a header trickled one byte at a time stays bounded by client_header_timeout (a total, unlike the body's).
The upstream is a small echo server: these are nginx's own limits, applied before any request reaches the app.
Every attack is bounded in sockets and seconds, on 127.0.0.0/8 only, and closed on the way out.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest

from tests.deploy.nginx import Nginx, echo_upstream

SLOW_HEADER = b"GET /api/ping HTTP/1.1\r\nHost: x\r\n"  # and never the blank line
SLOW_BODY = (
    b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"
)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with echo_upstream() as upstream, Nginx.start(tmp_path_factory.mktemp("nginx-limits"), upstream) as nginx:
        yield nginx


def _answer(sock: socket.socket, timeout: float = 3.0) -> bytes:
    """What the server sent before closing or going quiet (b"" when it sent nothing)."""
    sock.settimeout(timeout)
    data = b""
    with suppress(TimeoutError, OSError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _slow_clients(
    stack: ExitStack, port: int, count: int, addresses: list[str], request: bytes = SLOW_BODY
) -> list[socket.socket]:
    """`count` sockets, round-robin over source `addresses`, each sending the start of `request` and no more."""
    sockets = []
    for i in range(count):
        source = (addresses[i % len(addresses)], 0)
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5, source_address=source))
        sock.sendall(request)
        sockets.append(sock)
    return sockets


def _dropped(sockets: list[socket.socket]) -> int:
    """How many of `sockets` the server has closed or answered (a socket still waiting reads nothing)."""
    dropped = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            sock.recv(1)
            dropped += 1
        except BlockingIOError:
            pass
        except OSError:
            dropped += 1
    return dropped


def _ping(port: int) -> tuple[int, float]:
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/ping")
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.monotonic() - start


def test_one_address_holds_at_most_20_connections(proxy: Nginx) -> None:
    """Old config: no limit_conn; 25 slow bodies from one address were all held (and 2,100 took the proxy down)."""
    with ExitStack() as stack:
        held = _slow_clients(stack, proxy.port, 20, ["127.0.3.1"])
        time.sleep(0.3)  # nginx has read their headers and is waiting for the bodies
        extra = _slow_clients(stack, proxy.port, 5, ["127.0.3.1"])
        refused = [_answer(sock) for sock in extra]
        for answer in refused:
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 429"), answer[:200]
            assert b"Retry-After: 1" in head
            assert json.loads(body)["error"]["code"] == "rate_limited"
        assert all(_answer(sock, 0.2) == b"" for sock in held), "the first 20 are still being read"
        # Another address is not affected.
        assert _ping(proxy.port)[0] == 200


def test_one_address_gets_30_requests_a_second_with_a_burst_of_60(proxy: Nginx) -> None:
    """Old config: no limit_req; any number of requests a second went through to the app."""
    statuses = []
    start = time.monotonic()
    for _ in range(120):
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5, source_address=("127.0.3.2", 0))
        connection.request("GET", "/api/ping")
        response = connection.getresponse()
        statuses.append(response.status)
        body = response.read()
        connection.close()
        if response.status == 429:
            assert json.loads(body)["error"]["code"] == "rate_limited"
    elapsed = time.monotonic() - start
    allowed = statuses.count(200)
    # The burst (60) at once, then 30 a second: what the elapsed time allows, and the rest refused.
    assert 60 <= allowed <= 61 + 30 * elapsed + 1, (allowed, elapsed)
    assert statuses.count(429) == 120 - allowed and statuses[-1] == 429


def test_2100_slow_sockets_are_all_held_and_leave_room_for_a_normal_client(proxy: Nginx) -> None:
    """Old config: worker_connections 1024; with 2,100 slow sockets nginx dropped about 1,100 of them (people on
    slow links cut off) and a normal client's request was closed without an answer."""
    addresses = [f"127.0.4.{i}" for i in range(1, 106)]  # 105 addresses x 20: within limit_conn
    with ExitStack() as stack:
        headers = _slow_clients(stack, proxy.port, 1050, addresses, SLOW_HEADER)
        bodies = _slow_clients(stack, proxy.port, 1050, addresses)
        time.sleep(0.5)
        probes = [_ping(proxy.port) for _ in range(20)]
        assert _dropped(headers) == 0 and _dropped(bodies) == 0
    assert all(status == 200 for status, _ in probes), probes
    assert max(took for _, took in probes) < 1.0, probes


def test_a_trickled_header_is_reset_within_the_header_timeout(proxy: Nginx, tmp_path: Path) -> None:
    """client_header_timeout (10 s) bounds the whole header, however steadily it trickles."""
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5, source_address=("127.0.3.3", 0))
    start = time.monotonic()
    closed_after = None
    try:
        sock.sendall(b"GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sock.settimeout(0.5)
        while time.monotonic() - start < 14:
            try:
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - start
                    break
            except TimeoutError:
                pass
            except OSError:
                closed_after = time.monotonic() - start
                break
            with suppress(OSError):
                sock.send(b"a")
    finally:
        sock.close()
    assert closed_after is not None and 9 <= closed_after <= 12, closed_after
