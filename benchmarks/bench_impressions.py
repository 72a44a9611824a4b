"""The cost of impression logging on GET /api/recommendations: two `movie-genie serve` servers on one artefact set,
one with `serving.log_impressions: true` (the default) and one with it off, loaded in alternating rounds in one run
so that machine noise falls on both alike.

Each round sends `--requests` requests from `--concurrency` keep-alive clients, rotating over the data set's
users (the response cache is on, as in production: the cached path is where logging weighs most). Latency is
measured at the client; the table shows p50/p99 per server and the difference, and the count of impressions the
logging server wrote (read from the database after it stopped, which flushes its queue).

`--in-process` measures the same in one process without HTTP or other processes: the app's test client sends the
requests one at a time, alternating blocks with logging on and off (the writer thread keeps running, so its
batched writes compete for the interpreter lock as they do in a worker). Less realistic, much less noisy on a
shared machine.

Run: .venv/bin/python -m benchmarks.bench_impressions [--params params.yaml] [--rounds 4] [--requests 2000]
     [--in-process]
Writes benchmarks/results/impressions.json (impressions-in-process.json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, func, select

from benchmarks.bench_api import Server, _free_port, _get_json
from benchmarks.output import write_json
from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY
from movie_genie.config import Layout, Settings, load_params
from movie_genie.db.models import Impression

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "impressions.json"


def _params_with(params_file: Path, workdir: Path, label: str, log_impressions: bool) -> Path:
    raw = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    base_dir = params_file.resolve().parent
    paths = raw.get("paths") or {}
    raw["paths"] = {k: str((base_dir / v).resolve()) for k, v in paths.items()} if paths else raw.get("paths")
    raw["serving"] = {**(raw.get("serving") or {}), "log_impressions": log_impressions}
    target = workdir / f"params-{label}.yaml"
    target.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return target


def _load(base: str, paths: list[str], requests: int, concurrency: int) -> list[float]:
    """Send `requests` GETs from `concurrency` keep-alive clients; each one's latency in ms."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // concurrency

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine: list[float] = []
        for i in range(per_client):
            path = paths[(offset + i * concurrency) % len(paths)]
            start = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def _impressions(params_file: Path) -> int:
    params = load_params(params_file)
    url = Settings.from_env(Layout.from_params(params).data_dir).database_url
    engine = create_engine(url)
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Impression)).scalar_one())


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    """One app, logging switched on and off between blocks of requests; per-request latency of each."""
    params = load_params(args.params)
    app = create_app(Settings.from_env(Layout.from_params(params).data_dir), params)
    online = app.extensions[EXTENSION_KEY].online
    writer = online.impressions.writer
    client = app.test_client()
    users = [u["user_id"] for u in client.get("/api/users?page_size=64").get_json()["data"]]
    paths = [f"/api/recommendations?user_id={u}&model={args.model}&k={args.k}" for u in users]
    latencies: dict[str, list[float]] = {"logging": [], "no-logging": []}
    block = 200
    for r in range(args.rounds * args.requests // block + 1):
        label = "logging" if r % 2 else "no-logging"
        online.impressions.writer = writer if label == "logging" else None
        for i in range(block):
            start = time.perf_counter()
            response = client.get(paths[(r * block + i) % len(paths)])
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}")
            if r > 1:  # the first two blocks warm the cache
                latencies[label].append(elapsed)
    online.impressions.writer = writer
    writer.close()
    return latencies


def main() -> None:
    """Start both servers, alternate rounds, print and save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="per round and server")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--model", default="ease")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--in-process", action="store_true", help="one process, test client (see above)")
    parser.add_argument(
        "--a-a", action="store_true", help="both servers without logging: the noise floor of the comparison"
    )
    args = parser.parse_args()
    if args.in_process:
        before = _impressions(args.params)
        latencies = in_process(args)
        _report(args, latencies, _impressions(args.params) - before, "in-process, test client, one at a time")
        return

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        before = _impressions(args.params)
        servers = {
            label: Server(_params_with(args.params, workdir, label, on), _free_port(), args.workers, workdir / label)
            for label, on in (("logging", not args.a_a), ("no-logging", False))
        }
        try:
            for server in servers.values():
                server.wait_ready()
            users = [u["user_id"] for u in _get_json(f"{servers['logging'].base}/api/users?page_size=64")["data"]]
            paths = [f"/api/recommendations?user_id={u}&model={args.model}&k={args.k}" for u in users]
            for server in servers.values():  # warm the caches
                _load(server.base, paths, len(paths) * 2, args.concurrency)
            latencies: dict[str, list[float]] = {label: [] for label in servers}
            for r in range(args.rounds):
                order = list(servers) if r % 2 == 0 else list(reversed(servers))
                for label in order:
                    latencies[label] += _load(servers[label].base, paths, args.requests, args.concurrency)
        finally:
            for server in servers.values():
                server.stop()
        written = _impressions(args.params) - before
    how = f"{args.workers} gunicorn worker(s), {args.concurrency} keep-alive clients"
    _report(args, latencies, written, how + (" (A/A: logging off in both)" if args.a_a else ""))


def _report(args: argparse.Namespace, latencies: dict[str, list[float]], written: int, how: str) -> None:
    rows = {
        label: {
            "requests": len(values),
            "p50_ms": round(_quantile(values, 0.5), 3),
            "p99_ms": round(_quantile(values, 0.99), 3),
            "mean_ms": round(statistics.fmean(values), 3),
        }
        for label, values in latencies.items()
    }
    result = {
        "endpoint": f"GET /api/recommendations?model={args.model}&k={args.k} (cached answers, 64 users)",
        "how": how,
        "servers": rows,
        "p99_cost_ms": round(rows["logging"]["p99_ms"] - rows["no-logging"]["p99_ms"], 3),
        "p50_cost_ms": round(rows["logging"]["p50_ms"] - rows["no-logging"]["p50_ms"], 3),
        "impressions_written": written,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    print(json.dumps(result, indent=2))
    if not args.a_a and written < len(latencies["logging"]):
        print(f"only {written} of {len(latencies['logging'])} impressions were written", file=sys.stderr)
    name = "impressions-in-process.json" if args.in_process else "impressions-a-a.json" if args.a_a else RESULTS.name
    write_json(RESULTS.with_name(name), result)


if __name__ == "__main__":
    main()
