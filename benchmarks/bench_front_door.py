"""Front-door benchmark: does a normal client still get quick answers while thousands of slow sockets are open,
and what do the rate limits let through?

The real stack on loopback: `movie-genie serve` (gunicorn, 2 workers, production settings, the rate-limit
counters in the server's shared SQLite file) behind Debian's nginx running the shipped deploy/nginx/ files.

1. idle: a normal client (one request at a time, ~12 a second, a new connection each: a film, a home-page row,
   the genres) through nginx; its p50/p95.
2. slow sockets: a second process opens `--sockets` connections from 127.0.5.x addresses (20 per address, the
   proxy's limit_conn), half trickling a request header one byte every 2 s (nginx resets them at 10 s; they
   reconnect at once), half sending a POST's headers and then one body byte every 5 s of 60,000. While they are
   held, the same normal client again: its p95 must stay within 2x of idle. The baseline: the same attack on the
   same nginx with 1,024 worker_connections (the official image's default, which this project shipped before).
3. rate limits: one address sends 200 GETs as fast as it can (nginx's limit_req: a 60 burst, then 30 a second),
   and 40 sign-in attempts spread over both workers (the app's sign_in_rate_limit, 10 a minute, counted once for
   both workers).

Run on the repository's own pipeline outputs (params.yaml, data/, artifacts/ after `make pipeline`), or on a
folder built by tests/artefacts.py (MOVIE_GENIE_API_ARTEFACTS or --artefacts):
    .venv/bin/python -m benchmarks.bench_front_door [--artefacts /tmp/api-artefacts] [--sockets 5000]
Prints a table and writes benchmarks/results/front_door.json. Bounded: about two minutes; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.deploy.nginx import Nginx  # noqa: E402
from tests.live_server import LiveServer, free_port  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "front_door.json"
MOVIE_GENIE = str(Path(sys.executable).with_name("movie-genie"))
NORMAL_PATHS = ("/api/movies/1", "/api/recommendations?user_id=5&k=10", "/api/genres")
PER_ADDRESS = 20  # the proxy's limit_conn per address (deploy/nginx/locations.conf)
SLOW_HEADER = b"GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Slow: "
SLOW_BODY = b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"


# --- the attacker (a process of its own, so its event loop does not slow the measuring client) ---------------


async def _slow_socket(port: int, source: str, header: bool, stop: asyncio.Event, stats: dict[str, int]) -> None:
    """Hold one slow connection until `stop`; a header trickler reconnects whenever nginx resets it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            stats["refused"] += 1
            await asyncio.sleep(1)
            continue
        stats["open"] += 1
        stats["peak"] = max(stats["peak"], stats["open"])
        opened = time.monotonic()
        try:
            writer.write(SLOW_HEADER if header else SLOW_BODY)
            every = 2.0 if header else 5.0
            while not stop.is_set():
                try:
                    if await asyncio.wait_for(reader.read(1024), timeout=every) == b"":
                        break  # closed by nginx
                    break  # answered (e.g. 429): not held
                except TimeoutError:
                    writer.write(b"a" if header else b" ")
                    await writer.drain()
        except OSError:
            pass
        finally:
            stats["open"] -= 1
            stats["closed_by_server"] += 0 if stop.is_set() else 1
            writer.close()
        if time.monotonic() - opened < 1:
            await asyncio.sleep(1)  # dropped at once (a full proxy): retry at a person's pace, not in a tight loop


async def _attack(port: int, sockets: int, seconds: float) -> dict[str, int]:
    stop = asyncio.Event()
    stats = {"open": 0, "peak": 0, "refused": 0, "closed_by_server": 0}
    tasks = []
    for i in range(sockets):
        source = f"127.0.5.{i // PER_ADDRESS + 1}" if i // PER_ADDRESS < 250 else f"127.0.6.{i // PER_ADDRESS - 249}"
        tasks.append(asyncio.create_task(_slow_socket(port, source, i % 2 == 0, stop, stats)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)  # let the handshakes complete
    for _ in range(200):
        if stats["open"] >= sockets * 0.99:
            break
        await asyncio.sleep(0.05)
    print(json.dumps({"ready": stats["open"]}), flush=True)
    # Hold until the measuring process closes our stdin (or `seconds` pass).
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), seconds)
    stats["held_at_end"] = stats["open"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats


def attacker(port: int, sockets: int, seconds: float) -> None:
    """Entry of the attacking process: hold the sockets, then print the counts as JSON."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(_attack(port, sockets, seconds))), flush=True)


# --- the measuring side -----------------------------------------------------------------------------------------


def normal_client(port: int, requests: int, every_s: float = 0.08) -> dict[str, float]:
    """One request at a time, a new connection each, paced: latency percentiles in ms and failures."""
    latencies, failures = [], 0
    for i in range(requests):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", NORMAL_PATHS[i % len(NORMAL_PATHS)])
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        took = time.perf_counter() - start
        if ok:
            latencies.append(took * 1000)
        else:
            failures += 1
        time.sleep(max(0.0, every_s - took))
    values = np.array(latencies) if latencies else np.array([float("nan")])
    return {
        "requests": requests,
        "failed": failures,
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "max_ms": float(values.max()),
    }


def under_attack(port: int, sockets: int, requests: int) -> dict[str, Any]:
    """The normal client while an attacking process holds `sockets` slow sockets; what the attacker saw."""
    attack = subprocess.Popen(
        [sys.executable, __file__, "--attack", str(port), "--sockets", str(sockets), "--seconds", "90"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert attack.stdin is not None and attack.stdout is not None
    ready = json.loads(attack.stdout.readline())["ready"]
    measured: dict[str, Any] = dict(normal_client(port, requests))
    attack.stdin.close()  # the attacker stops and reports
    counts = json.loads(attack.stdout.readline())
    attack.wait(timeout=30)
    measured.update(sockets_asked=sockets, sockets_held=ready, attacker=counts)
    return measured


def flood(port: int, requests: int) -> dict[str, int]:
    """One address, as fast as it can: how many nginx lets through (limit_req)."""
    statuses = []
    for _ in range(requests):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.7.1", 0))
        connection.request("GET", "/api/genres")
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        connection.close()
    return {"requests": requests, "200": statuses.count(200), "429": statuses.count(429)}


def sign_ins(server: LiveServer, attempts: int) -> dict[str, int]:
    """Wrong-key sign-ins from one client, 8 at a time (both workers answer): how many the app let through."""
    headers = [{"X-Forwarded-For": "192.0.2.77"}] * attempts
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda h: server.post("/api/sign-in", {"key": "not-a-key"}, h), headers))
    statuses = [status for status, _, _ in answers]
    return {
        "attempts": attempts,
        "let_through": statuses.count(401),
        "429": statuses.count(429),
        "workers": len({h.get("X-Instance") for _, h, _ in answers}),
    }


def run(artefacts: Path, sockets: int, requests: int) -> dict[str, Any]:
    """The three phases against a fresh server and proxy."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "RATE_LIMIT_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{artefacts / 'data' / 'movie_genie.db'}", MOVIE_GENIE_ENV="production")
    env.update(MOVIE_GENIE_TRUSTED_PROXIES="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["TOKENIZERS_PARALLELISM"] = "false"
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-front-door-") as tmp:
        work = Path(tmp)
        port = free_port()
        command = [MOVIE_GENIE, "--params", str(artefacts / "params.yaml"), "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "2"]
        # In the artefacts' folder: a params.yaml with relative paths (the repository's own) resolves there.
        server = LiveServer.start(command, port=port, workers=2, env=env, log=work / "serve.log", cwd=artefacts)
        proxy = Nginx.start(work / "nginx", f"127.0.0.1:{port}")
        try:
            normal_client(proxy.port, 15)  # warm both workers' caches and connections
            results["idle"] = normal_client(proxy.port, requests)
            results["slow_sockets"] = under_attack(proxy.port, sockets, requests)
            results["flood"] = flood(proxy.port, 200)
            results["sign_ins"] = sign_ins(LiveServer(proxy.base, server.process, server.log, 2), 40)
            proxy.stop()
            proxy = Nginx.start(work / "nginx-1024", f"127.0.0.1:{port}", connections=1024)
            results["slow_sockets_1024"] = under_attack(proxy.port, sockets, requests)
        finally:
            proxy.stop()
            server.stop()
    results["p95_ratio"] = results["slow_sockets"]["p95_ms"] / results["idle"]["p95_ms"]
    return results


def sockets_asked(results: dict[str, Any]) -> int:
    """How many slow sockets the attacker was asked to hold."""
    return int(results["slow_sockets"]["sockets_asked"])


def main() -> None:
    """Run, print the table, merge into the JSON file under `--label`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artefacts", type=Path, default=os.environ.get("MOVIE_GENIE_API_ARTEFACTS") or ROOT)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=150, help="normal-client requests per phase")
    parser.add_argument("--label", default="after")
    parser.add_argument("--attack", type=int, help=argparse.SUPPRESS)  # the attacking process: the proxy's port
    parser.add_argument("--seconds", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        attacker(args.attack, args.sockets, args.seconds)
        return
    if not (args.artefacts / "data" / "movie_genie.db").is_file():
        raise SystemExit(f"no database in {args.artefacts / 'data'}: run `make pipeline`, or pass --artefacts")
    start = time.perf_counter()
    r = run(Path(args.artefacts), min(args.sockets, 9000), min(args.requests, 400))
    print(f"\nfront door, {time.perf_counter() - start:.0f} s")
    print(f"{'phase':<14}{'sockets':>9}{'requests':>10}{'failed':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for phase in ("idle", "slow_sockets", "slow_sockets_1024"):
        p = r[phase]
        held = p.get("attacker", {}).get("held_at_end", 0)
        print(
            f"{phase:<14}{held:>9}{p['requests']:>10}{p['failed']:>8}"
            f"{p['p50_ms']:>9.1f}{p['p95_ms']:>9.1f}{p['max_ms']:>9.1f}"
        )
    print(f"p95 under slow sockets / idle: {r['p95_ratio']:.2f}x (target <= 2x)")
    old = r["slow_sockets_1024"]["attacker"]
    print(
        f"with 1,024 worker_connections: {old['held_at_end']} of {sockets_asked(r)} slow sockets held, "
        f"{old['closed_by_server']} connections dropped by nginx during the run"
    )
    f, s = r["flood"], r["sign_ins"]
    print(f"nginx limit_req, one address, {f['requests']} GETs back to back: {f['200']} passed, {f['429']} got 429")
    print(
        f"app sign_in_rate_limit, {s['attempts']} attempts over {s['workers']} workers: {s['let_through']} let "
        f"through, {s['429']} got 429"
    )
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    previous[args.label] = r
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
