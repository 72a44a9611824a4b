"""Quality benchmark: the whole pipeline (data -> split -> train -> evaluate) per data set, report tables side by side.

Runs the real `movie-genie` stages with this checkout's params.yaml (dataset and paths overridden) into a scratch
folder, so the figures are exactly what `dvc repro` would report: full-ranking leave-one-out test metrics with 95%
bootstrap intervals, each model's NDCG@10 as a ratio of EASE's measured in the same run, and training seconds.
The machine's load average is recorded: training times on a shared 2-core machine depend on it.

Run: .venv/bin/python benchmarks/bench_quality.py [--datasets ml-100k ml-latest-small] [--models popularity ease ...]
Prints a table and writes benchmarks/results/quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.output import write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "quality.json"
CLI = [sys.executable, "-m", "movie_genie.cli"]


def _shared(dataset: str) -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return (Path(env) if env else ROOT.parent / "shared" / "datasets") / dataset


def _stage(params: Path, *args: str) -> None:
    subprocess.run([*CLI, "--params", str(params), *args], cwd=ROOT, check=True)


def run_dataset(dataset: str, models: list[str] | None, work: Path) -> dict[str, Any]:
    """Run the pipeline for one data set; return its report.json plus wall times per stage."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["dataset"] = {**raw.get("dataset", {}), "name": dataset, "source": None, "metadata_csv": None}
    raw["paths"] = {"data_dir": str(work / "data"), "artifacts_dir": str(work / "artifacts")}
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    timings = {}
    start = time.perf_counter()
    _stage(params, "data", "--source", str(_shared(dataset)))
    _stage(params, "enrich")
    _stage(params, "split")
    timings["data_s"] = time.perf_counter() - start
    start = time.perf_counter()
    _stage(params, "train", *[arg for name in models or [] for arg in ("--model", name)])
    timings["train_s"] = time.perf_counter() - start
    start = time.perf_counter()
    _stage(params, "evaluate")
    timings["evaluate_s"] = time.perf_counter() - start
    report = json.loads((work / "artifacts" / "report" / "report.json").read_text(encoding="utf-8"))
    return {"timings": timings, "report": report}


def table(results: dict[str, Any]) -> str:
    """One row per data set and model: test HR@10, NDCG@10 [95% CI], MRR, coverage, ratio vs EASE, train s."""
    lines = [
        f"{'data set':<16} {'model':<11} {'HR@10':>7} {'NDCG@10':>8} {'95% CI':>17} {'MRR':>7} {'cov':>6} "
        f"{'/EASE':>6} {'train s':>8}"
    ]
    for dataset, result in results.items():
        for name, entry in result["report"]["models"].items():
            test = entry["test"]
            low, high = test["ci"].get("ndcg10", [float("nan")] * 2)
            ratio = entry.get("ndcg10_vs_ease")
            seconds = entry.get("training_seconds")
            lines.append(
                f"{dataset:<16} {name:<11} {test['hr10']:>7.4f} {test['ndcg10']:>8.4f} [{low:.4f}, {high:.4f}] "
                f"{test['mrr']:>7.4f} {test['coverage']:>6.3f} {'–' if ratio is None else f'{ratio:.2f}':>6} "
                f"{'–' if seconds is None else f'{seconds:.1f}':>8}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-latest-small"])
    parser.add_argument("--models", nargs="+", default=None, help="default: every model, in registry order")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    results = {}
    for dataset in args.datasets:
        with tempfile.TemporaryDirectory(prefix=f"bench-quality-{dataset}-") as tmp:
            results[dataset] = run_dataset(dataset, args.models, Path(tmp))
    print(table(results))
    payload = {
        "benchmark": "quality",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "results": results,
    }
    write_json(RESULTS, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
