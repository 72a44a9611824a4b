"""API load test: `movie-genie serve` (gunicorn, the configured workers) on loopback, driven by wrk.

Each endpoint is loaded for the same duration at the same concurrency (32 connections), one after the other, in
one run against one server, so they compare fairly:
- trivial:          GET /api/ping (the baseline: routing, headers, metrics, JSON; no work)
- recommendations:  GET /api/recommendations?user_id=U&model=hybrid&k=20, U rotating over the active users (2 per
                    connection: the 32 clients are people re-opening their home page, not a crawl of every user)
- search:           GET /api/search?q=Q&k=20, Q rotating over plain-language and title queries (hybrid mode)
- movie details:    GET /api/movies/M, M rotating over the catalogue (live rating figures from the database)

The default run uses the serving config of params.yaml (response cache on, warmed by a short warm-up; every
recommendation request still reads the user's feedback version from the database, as live feedback needs). A second
server with the cache switched off (cache_ttl_s: 0) measures the cold path, where every request reads the history
from the database and runs the hybrid model (Two-Tower + BERT4Rec + popularity) or the search engine.

Targets (default config): p99 <= 20 ms recommendations, <= 25 ms search; recommendations throughput
>= 40 % of the trivial endpoint's.

Needs wrk (Debian: `apt-get install wrk`) and the pipeline's artefacts (`make pipeline`, or --params pointing at
another artefact set). Run: .venv/bin/python benchmarks/bench_api.py [--params params.yaml] [--duration 15]
Prints a table and writes benchmarks/results/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from benchmarks.output import print_header, write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "api.json"
TARGETS = {"recommendations": 20.0, "search": 25.0}  # p99 ms
THROUGHPUT_TARGET = 0.40  # recommendations req/s relative to trivial
QUERIES = [
    "action movies with robots",
    "a heist that goes wrong",
    "feel-good family animation",
    "space adventure",
    "romantic comedy in new york",
    "star wars",
    "termnator",
    "toy story",
    "war drama",
    "funny detective",
    "scary haunted house",
    "courtroom drama",
    "godfather",
    "alien invasion",
    "musical",
    "batman",
    "time travel",
    "high school comedy",
    "western gunfight",
    "serial killer thriller",
]

# wrk script: rotate over the paths given in PATHS; print latency percentiles and totals as JSON when done.
_LUA = """
local paths = {PATHS}
local pace_ms = {PACE_MS}
local counter = 0
if pace_ms > 0 then
  delay = function() return pace_ms end
end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


class Server:
    """`movie-genie serve` in a subprocess, stopped with SIGTERM."""

    def __init__(
        self, params_file: Path, port: int, workers: int | None, log: Path, env: dict[str, str] | None = None
    ) -> None:
        command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(params_file), "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        self.base = f"http://127.0.0.1:{port}"
        self._log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})}
            )

    def wait_ready(self, timeout_s: float = 240.0) -> dict[str, Any]:
        """Wait until /api/health answers 200 (ready: every capability has something serving it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited ({self.process.returncode}):\n{self._log.read_text()[-3000:]}")
            try:
                health: dict[str, Any] = _get_json(f"{self.base}/api/health")
                return health
            except urllib.error.HTTPError as exc:
                body = exc.read().decode(errors="replace")
                raise SystemExit(f"/api/health says the server is not ready ({exc.code}): {body}") from exc
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise SystemExit(f"server did not start within {timeout_s:.0f} s:\n{self._log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM the gunicorn master and wait for it."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _paths(base: str, active_users: int) -> dict[str, list[str]]:
    """The rotating request paths of each endpoint, from the server's own data."""
    body = _get_json(f"{base}/api/users?page=1&page_size={min(active_users, 100)}")
    users = [u["user_id"] for u in body["data"]][:active_users]
    movies: list[int] = []
    page = 1
    while True:
        body = _get_json(f"{base}/api/movies?page={page}&page_size=100&sort=popularity")
        movies += [m["movie_id"] for m in body["data"]]
        if page * 100 >= body["meta"]["total"]:
            break
        page += 1
    return {
        "trivial": ["/api/ping"],
        "recommendations": [f"/api/recommendations?user_id={u}&model=hybrid&k=20" for u in users],
        "search": [f"/api/search?q={urllib.parse.quote(q)}&k=20" for q in QUERIES],
        "movie_details": [f"/api/movies/{m}" for m in movies],
    }


def _wrk(
    base: str, paths: list[str], seconds: int, connections: int, threads: int, workdir: Path, pace_ms: int = 0
) -> dict[str, Any]:
    """One wrk run rotating over `paths`; with pace_ms each connection waits that long between requests."""
    script = workdir / "rotate.lua"
    lua = _LUA.replace("{PATHS}", "{" + ",".join(json.dumps(p) for p in paths) + "}")
    script.write_text(lua.replace("{PACE_MS}", str(pace_ms)))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
        "distinct_paths": len(paths),
    }


def _params_without_cache(params_file: Path, workdir: Path) -> Path:
    raw = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    base_dir = params_file.resolve().parent
    paths = raw.get("paths") or {}
    # Keep the artefact folders where they are when they were relative to the original params file.
    raw["paths"] = {k: str((base_dir / v).resolve()) for k, v in paths.items()} if paths else raw.get("paths")
    raw["serving"] = {**(raw.get("serving") or {}), "cache_ttl_s": 0}
    target = workdir / "params-nocache.yaml"
    target.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return target


def run_config(
    label: str, params_file: Path, args: argparse.Namespace, workdir: Path
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, Any]]:
    """Start a server with these params, warm every endpoint, then load each one in turn, saturated then paced."""
    server = Server(params_file, _free_port(), args.workers, workdir / f"server-{label}.log")
    try:
        health = server.wait_ready()
        paths = _paths(server.base, 2 * args.connections)
        print(f"[{label}] server ready; warming up ...", file=sys.stderr)
        for endpoint_paths in paths.values():
            _wrk(server.base, endpoint_paths, args.warmup, args.connections, args.threads, workdir)
        results: dict[str, dict[str, dict[str, Any]]] = {"saturated": {}, "paced": {}}
        for shape, pace in (("saturated", 0), ("paced", args.pace_ms)):
            for name, endpoint_paths in paths.items():
                r = _wrk(server.base, endpoint_paths, args.duration, args.connections, args.threads, workdir, pace)
                results[shape][name] = r
                print(f"[{label}/{shape}] {name}: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms", file=sys.stderr)
        return results, health
    finally:
        server.stop()


def run_meta(load_before: tuple[float, float, float], script: str) -> dict[str, Any]:
    """Where and when a run ran: the machine, its load average before and after, the time and the command."""
    return {
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.platform(),
        "python": platform.python_version(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": f"python benchmarks/{script} " + " ".join(sys.argv[1:]),
    }


def main() -> None:
    """Run the load test and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: params)")
    parser.add_argument(
        "--pace-ms", type=int, default=100, help="paced runs: each client waits this long between requests"
    )
    parser.add_argument("--skip-uncached", action="store_true", help="only the default (cached) configuration")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian) and run again")

    serving = (yaml.safe_load(args.params.read_text(encoding="utf-8")) or {}).get("serving") or {}
    # Other processes on the machine skew tail latencies: record how busy it was around the run.
    load_before = os.getloadavg()
    configs: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = Path(tmp)
        results, health = run_config("cached", args.params, args, workdir)
        configs["cached"] = results
        if not args.skip_uncached:
            configs["uncached"], _ = run_config("uncached", _params_without_cache(args.params, workdir), args, workdir)

    rows = []
    print(f"\nAPI load test: wrk, {args.connections} connections, {args.duration} s per endpoint, loopback")
    print(
        f"machine load average (1/5/15 min) before: {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
        f"after: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        "saturated = every connection sends its next request as soon as the answer arrives (max throughput);\n"
        f"paced = each connection waits {args.pace_ms} ms between requests "
        f"(<= {args.connections * 1000 // max(args.pace_ms, 1)} req/s offered)"
    )
    header = f"{'config':<9} {'load':<10} {'endpoint':<16} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
    header += f" {'vs trivial':>10}"
    print_header(header)
    for config, shapes in configs.items():
        for shape, by_endpoint in shapes.items():
            trivial = by_endpoint["trivial"]["rps"]
            for name, r in by_endpoint.items():
                ratio = float(r["rps"]) / float(trivial) if trivial else 0.0
                r["rps_vs_trivial"] = round(ratio, 3)
                rows.append({"config": config, "load": shape, "endpoint": name, **r})
                errors = r["non_2xx"] or r["socket_errors"]
                print(
                    f"{config:<9} {shape:<10} {name:<16} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
                    f"{r['p99_ms']:>8.2f} {ratio:>9.0%}"
                    + (f"  ({r['non_2xx']} non-2xx, {r['socket_errors']} socket errors)" if errors else "")
                )
    cached = configs["cached"]
    checks: dict[str, dict[str, Any]] = {
        "recommendations_p99_ms_paced": {
            "value": cached["paced"]["recommendations"]["p99_ms"],
            "target": TARGETS["recommendations"],
        },
        "search_p99_ms_paced": {"value": cached["paced"]["search"]["p99_ms"], "target": TARGETS["search"]},
        "recommendations_p99_ms_saturated": {
            "value": cached["saturated"]["recommendations"]["p99_ms"],
            "target": TARGETS["recommendations"],
        },
        "search_p99_ms_saturated": {"value": cached["saturated"]["search"]["p99_ms"], "target": TARGETS["search"]},
        "recommendations_rps_vs_trivial_saturated": {
            "value": cached["saturated"]["recommendations"]["rps_vs_trivial"],
            "target": THROUGHPUT_TARGET,
        },
    }
    for name, check in checks.items():
        higher_is_better = "vs_trivial" in name
        check["met"] = check["value"] >= check["target"] if higher_is_better else check["value"] <= check["target"]
        print(f"target {name}: {check['value']} ({'met' if check['met'] else 'MISSED'}; target {check['target']})")

    meta = {
        "tool": "wrk " + subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0],
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "pace_ms": args.pace_ms,
        "wrk_threads": args.threads,
        "serving": serving,
        "workers": args.workers or serving.get("workers"),
        "health": health.get("data", {}).get("checks"),
        **run_meta(load_before, "bench_api.py"),
    }
    write_json(RESULTS, {"meta": meta, "results": rows, "targets": checks})


if __name__ == "__main__":
    main()
