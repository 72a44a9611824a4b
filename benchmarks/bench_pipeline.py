"""Pipeline benchmark: wall time and peak memory of every `dvc repro` stage from a clean state, on the default data.

Runs each stage's command from dvc.yaml in order (one train stage per model, in training order) with this
checkout's params.yaml, its outputs redirected to an empty scratch folder and a fresh SQLite database, so every stage
does its full work as in a first `make run`. The sum is what a new user waits for once the venv and the web app are
built (the budget on a 2-core machine: 6 minutes).

Baseline measured in the same run: a fixed CPU workload (single-threaded float32 matrix products) timed before and
after the stages. On a shared machine every figure moves with the load; the calibration and the load average say how
busy it was, and "x calib" expresses each stage in units of that workload so runs on differently loaded machines
compare.

Run: .venv/bin/python benchmarks/bench_pipeline.py [--keep DIR]
Prints a table and writes benchmarks/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from benchmarks.output import write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pipeline.json"
CLI = [sys.executable, "-m", "movie_genie.cli"]


def calibrate(repeats: int = 20, size: int = 1024) -> float:
    """Seconds for `repeats` single-threaded (size x size) float32 products: the machine's speed right now."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    return seconds


def stage_commands(params: Path) -> list[tuple[str, list[str]]]:
    """(name, argv) for every stage of dvc.yaml in order; a foreach stage (train) gives one per item (model)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    commands = []
    for name, stage in stages.items():
        runs = (
            [(f"{name}@{item}", stage["do"]["cmd"].replace("${item}", item)) for item in stage["foreach"]]
            if "foreach" in stage
            else [(name, stage["cmd"])]
        )
        # drop "movie-genie": the stage runs as this interpreter's module
        commands += [(label, [*CLI, "--params", str(params), *cmd.split()[1:]]) for label, cmd in runs]
    return commands


def run_stage(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run one stage; return (wall seconds, peak resident MiB of that process alone). Raises on failure."""
    start = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed (exit {process.returncode}); see {log}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports ru_maxrss in KiB


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: temp)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(work / "data"), "artifacts_dir": str(work / "artifacts")}
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'data' / 'movie_genie.db'}", "HF_HUB_OFFLINE": "1"}
    env["MOVIE_GENIE_CACHE"] = str(work / "cache")
    env.pop("TMDB_API_KEY", None)  # the default run: no network
    log = work / "stages.log"

    load_start = os.getloadavg()
    calib_before = calibrate()
    rows: list[dict[str, Any]] = []
    for name, command in stage_commands(params):
        seconds, peak_mib = run_stage(command, env, log)
        rows.append({"stage": name, "seconds": seconds, "peak_mib": peak_mib})
        print(f"  {name:<20} {seconds:7.1f} s", flush=True)
    calib_after = calibrate()
    calib = (calib_before + calib_after) / 2
    total = sum(r["seconds"] for r in rows)

    print(f"\n{'stage':<20} {'seconds':>8} {'share':>6} {'x calib':>8} {'peak MiB':>9}")
    for r in rows:
        r["x_calibration"] = r["seconds"] / calib
        print(f"{r['stage']:<20} {r['seconds']:>8.1f} {100 * r['seconds'] / total:>5.1f}% "
              f"{r['x_calibration']:>8.1f} {r['peak_mib']:>9.0f}")  # fmt: skip
    print(f"{'total':<20} {total:>8.1f} {100.0:>5.1f}% {total / calib:>8.1f}  (budget 360 s)")
    print(f"calibration {calib_before:.2f} s before, {calib_after:.2f} s after; load {load_start} -> {os.getloadavg()}")
    payload = {
        "benchmark": "pipeline",
        "dataset": raw["dataset"]["name"],
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "calibration_s": {"before": calib_before, "after": calib_after},
        "total_s": total,
        "budget_s": 360,
        "stages": rows,
        "peak_rss_children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    write_json(RESULTS, payload)
    print(f"stage output: {log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
