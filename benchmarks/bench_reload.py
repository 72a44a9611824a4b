"""Hot reload under load: a real `movie-genie serve` (gunicorn, several workers) answers a steady stream of
requests from many clients while a retrained model version is promoted and then rolled back; every request must
succeed, and the table shows how long each worker took to swap and what latency looked like before, during and
after each swap.

The server runs on copies of the artifacts folder (its serving.json is the one promoted and rolled back) and of
the SQLite database (where its impressions go), so the checkout's serving state and database are never touched.
The version must exist: `movie-genie retrain --model ease` makes one.

Run: .venv/bin/python -m benchmarks.bench_reload [--params params.yaml] [--model ease] [--version ID]
     [--clients 32] [--seconds 45] [--workers 2]
Writes benchmarks/results/reload.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bench_api import Server, _free_port
from benchmarks.output import write_json
from movie_genie.api.services.artefacts import file_version
from movie_genie.config import Layout, Settings, load_params
from movie_genie.data.tables import read_parquet
from movie_genie.online.serving import ServingStore
from movie_genie.online.simulation_db import copy_database, sqlite_path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "reload.json"


@dataclass
class Sample:
    """One request as a client saw it."""

    at: float  # seconds since the load started
    ms: float
    ok: bool
    instance: str | None = None
    version: str | None = None
    error: str | None = None


RECONNECT_EVERY = 25  # requests per keep-alive connection: new connections spread the clients over the workers


def _client(host: str, port: int, paths: list[str], stop: threading.Event, out: list[Sample], t0: float) -> None:
    """One keep-alive client sending requests back to back until `stop`, on a new connection every
    RECONNECT_EVERY requests; a failure reconnects and counts."""
    connection: http.client.HTTPConnection | None = None
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        if connection is not None and i % RECONNECT_EVERY == 0:
            connection.close()
            connection = None
        start = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            ms = (time.perf_counter() - start) * 1000
            if response.status != 200:
                out.append(Sample(start - t0, ms, False, error=f"HTTP {response.status}: {body[:200]!r}"))
                continue
            meta = json.loads(body)["meta"]
            out.append(Sample(start - t0, ms, True, response.getheader("X-Instance"), meta["model_version"]))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            out.append(Sample(start - t0, (time.perf_counter() - start) * 1000, False, error=repr(exc)))
            if connection is not None:
                connection.close()
            connection = None
    if connection is not None:
        connection.close()


def _wait_for_workers(port: int, workers: int, timeout_s: float = 240.0) -> None:
    """Until every worker has answered (each loads the models after the fork; the first answers long before the
    last): otherwise every client could connect to the first one."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(seen)} of {workers} workers answered within {timeout_s:.0f} s")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/api/ping", headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
            if response.status == 200 and response.getheader("X-Instance"):
                seen.add(str(response.getheader("X-Instance")))
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
        finally:
            connection.close()
        time.sleep(0.02)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def _swapped_at(samples: list[Sample], digest: str, since: float) -> dict[str, float | None]:
    """Per worker: seconds from `since` until it first answered with `digest` (None: it never did)."""
    instances = {s.instance for s in samples if s.instance}
    first: dict[str, float | None] = {}
    for instance in sorted(instances):
        hits = [s.at for s in samples if s.instance == instance and s.version == digest and s.at >= since]
        first[instance] = min(hits) - since if hits else None
    return first


@dataclass(frozen=True)
class Sandbox:
    """A params file whose artifacts folder and SQLite database are copies: what runs on it (promotions, a
    server's impressions, app feedback) never touches the checkout's. The data folder stays shared, read-only."""

    params_file: Path
    layout: Layout
    database_url: str

    @classmethod
    def make(cls, params_file: Path, workdir: Path) -> Sandbox:
        params = load_params(params_file)
        layout = Layout.from_params(params)
        shutil.copytree(layout.artifacts_dir, workdir / "artifacts", ignore=shutil.ignore_patterns("mlruns"))
        database = workdir / "movie_genie.db"
        copy_database(sqlite_path(Settings.from_env(layout.data_dir).database_url), database)
        raw = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        raw["paths"] = {"data_dir": str(layout.data_dir.resolve()), "artifacts_dir": str(workdir / "artifacts")}
        target = workdir / "params.yaml"
        target.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return cls(target, Layout.from_params(load_params(target)), f"sqlite:///{database}")


def load_test(
    sandbox: Sandbox, model: str, version: str, clients: int, seconds: float, workers: int, log: Path
) -> dict[str, Any]:
    """Serve the sandbox with `workers` workers; `clients` clients request `model`'s recommendations for `seconds`
    while `version` is promoted (at 1/3) and rolled back (at 2/3). The figures, as JSON-ready values."""
    store = ServingStore(sandbox.layout)
    serving = store.state().version_of(model)
    if serving == version:
        raise SystemExit(f"{model} already serves {version}: roll it back first or name another --version")
    old_digest = file_version(store.checkpoint(model, serving))
    new_digest = file_version(store.checkpoint(model, version))
    users = read_parquet(sandbox.layout.processed_dir / "ratings.parquet")["user_id"].drop_duplicates().head(400)
    paths = [f"/api/recommendations?user_id={u}&model={model}&k=10" for u in users.tolist()]
    port = _free_port()
    server = Server(sandbox.params_file, port, workers, log, env={"DATABASE_URL": sandbox.database_url})
    try:
        server.wait_ready()
        _wait_for_workers(port, workers)
        samples: list[Sample] = []
        stop = threading.Event()
        t0 = time.perf_counter()
        threads = [
            threading.Thread(target=_client, args=("127.0.0.1", port, paths[i:] + paths[:i], stop, samples, t0))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(seconds / 3)
        promoted_at = time.perf_counter() - t0
        store.promote(version, [model])
        time.sleep(seconds / 3)
        rolled_back_at = time.perf_counter() - t0
        store.rollback([model])
        time.sleep(seconds / 3)
        stop.set()
        for thread in threads:
            thread.join()
        duration = time.perf_counter() - t0
    finally:
        server.stop()

    swap_in = _swapped_at(samples, new_digest, promoted_at)
    swap_back = _swapped_at(samples, old_digest, rolled_back_at)
    settle = max((v for v in (*swap_in.values(), *swap_back.values()) if v is not None), default=0.0) + 1.0
    windows = {
        "steady (old version)": (0.0, promoted_at),
        "promotion (until every worker swapped + 1 s)": (promoted_at, promoted_at + settle),
        "steady (new version)": (promoted_at + settle, rolled_back_at),
        "rollback (until every worker swapped + 1 s)": (rolled_back_at, rolled_back_at + settle),
        "steady (old version again)": (rolled_back_at + settle, duration),
    }
    failures = [s for s in samples if not s.ok]
    return {
        "model": model,
        "version": version,
        "clients": clients,
        "workers": workers,
        "seconds": round(duration, 1),
        "requests": len(samples),
        "failed": len(failures),
        "failures": [f.error for f in failures[:20]],
        "throughput_rps": round(len(samples) / duration, 1),
        "swap_in_s": swap_in,
        "swap_back_s": swap_back,
        "windows": {
            name: _percentiles([s.ms for s in samples if s.ok and lo <= s.at < hi])
            for name, (lo, hi) in windows.items()
        },
    }


def table(result: dict[str, Any]) -> str:
    """The load test as text."""
    lines = [
        f"Hot reload of {result['model']} -> {result['version']} and back under {result['clients']} clients, "
        f"{result['workers']} workers, {result['seconds']:.0f} s: {result['requests']:,} requests "
        f"({result['throughput_rps']} req/s), {result['failed']} failed",
        f"{'window':<46} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for name, figures in result["windows"].items():
        p50, p99 = figures["p50_ms"], figures["p99_ms"]
        lines.append(
            f"{name:<46} {figures['n']:>9,} {'-' if p50 is None else f'{p50:.1f}':>8} "
            f"{'-' if p99 is None else f'{p99:.1f}':>8}"
        )
    for label, key in (("promotion", "swap_in_s"), ("rollback", "swap_back_s")):
        shown = ", ".join(f"{w}: {'never' if v is None else f'{v:.2f} s'}" for w, v in result[key].items())
        lines.append(f"{label}: each worker (X-Instance) first served the swapped model after {shown}")
    return "\n".join(lines)


def passed(result: dict[str, Any]) -> bool:
    """No failed request, and every worker swapped both ways."""
    swaps = (*result["swap_in_s"].values(), *result["swap_back_s"].values())
    return result["failed"] == 0 and all(v is not None for v in swaps) and len(result["swap_in_s"]) == result["workers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--model", default="ease", help="the model whose version is swapped")
    parser.add_argument("--version", default=None, help="the version to promote [newest one with --model]")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=45.0, help="load length (promote at 1/3, roll back at 2/3)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    store = ServingStore(Layout.from_params(load_params(args.params)))
    candidates = [m.id for m in store.manifests() if args.model in m.models]
    version = args.version or (candidates[-1] if candidates else None)
    if version is None:
        raise SystemExit(f"no retrained version of {args.model}: run `movie-genie retrain --model {args.model}` first")
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        sandbox = Sandbox.make(args.params, Path(tmp))
        result = load_test(sandbox, args.model, version, args.clients, args.seconds, args.workers, Path(tmp) / "log")
    result = {"benchmark": "reload", "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}, **result}
    write_json(RESULTS, result)
    print(table(result))
    if not passed(result):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
