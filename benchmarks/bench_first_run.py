"""First-run benchmark: a new user's `make run` on a clean clone, phase by phase, then a second `make run`.

Clones this repository's committed HEAD into a scratch folder and runs `make run` there as a new user would: caches
cold by default (pip without its cache, npm with an empty cache folder; `--warm-caches` uses this machine's), the
default data set shipped in the repository, no TMDB key. While it runs, the benchmark watches the clone and the
server and stamps each phase: the virtual environment installed, the web app built, each DVC stage started, the
server answering, the first recommendations (GET /api/recommendations for user 1 answers 10 films), each model
loaded, and every model served with nothing left to prepare. Then it stops the run (Ctrl-C, as a person does) and
times a second `make run` with nothing changed until the app answers with every model.

Goals (issue 30): first recommendations <= 180 s, every model loaded <= 480 s, second run <= 30 s. Baseline measured
in the same run: the pipeline's fixed CPU workload (bench_pipeline.calibrate) before and after, and the load average,
since every figure here moves with how busy the machine is.

Run: .venv/bin/python -m benchmarks.bench_first_run [--keep DIR] [--warm-caches]
Prints a table and writes benchmarks/results/first_run.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.bench_pipeline import calibrate
from benchmarks.output import ROOT, print_header, write_json
from movie_genie.models.catalogue import MODEL_NAMES

RESULTS = ROOT / "benchmarks" / "results" / "first_run.json"
GOALS_S = {"first recommendations": 180.0, "every model loaded": 480.0, "second run": 30.0}
LIMIT_S = 3600  # give up on a run after an hour
STAGE_LINE = re.compile(r"Running stage '([^']+)'")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict[str, Any] | None:
    """A GET's JSON body (an error's too); None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        return dict(json.load(error))
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None


class Run:
    """One `make run` in the clone, watched until every model is served."""

    def __init__(self, clone: Path, env: dict[str, str], log: Path) -> None:
        self.clone, self.port, self.log = clone, free_port(), log
        self.start = time.monotonic()
        self.phases: dict[str, float] = {}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["make", "run", f"PORT={self.port}"],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C goes to the whole group, as in a terminal
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stamp(self, phase: str) -> None:
        if phase not in self.phases:
            self.phases[phase] = round(time.monotonic() - self.start, 1)
            print(f"  {self.phases[phase]:7.1f} s  {phase}", flush=True)

    def watch(self) -> dict[str, float]:
        """Poll the clone and the server every half second until every model is served; the phases' times."""
        base = f"http://127.0.0.1:{self.port}"
        while time.monotonic() - self.start < LIMIT_S:
            if self.process.poll() is not None:
                raise SystemExit(f"make run exited with {self.process.returncode}; see {self.log}")
            if (self.clone / ".venv" / ".installed-stamp").is_file():
                self.stamp("venv installed")
            if (self.clone / "web" / "dist" / "index.html").is_file():
                self.stamp("web app built")
            for stage in STAGE_LINE.findall(self.log.read_text(errors="replace")):
                self.stamp(f"stage {stage} started")
            health = (_get(f"{base}/api/health") or {}).get("data")
            if health is not None:
                self.stamp("server answers")
                for name in MODEL_NAMES:
                    if health["checks"].get(f"model:{name}", {}).get("ok"):
                        self.stamp(f"{name} loaded")
                if "first recommendations" not in self.phases:
                    answer = _get(f"{base}/api/recommendations?user_id=1&k=10") or {}
                    if len(answer.get("data", {}).get("items", [])) == 10:
                        self.stamp("first recommendations")
                if health["preparing"] is None and not health["degraded"]:
                    self.stamp("every model loaded")
                    return self.phases
            time.sleep(0.5)
        raise SystemExit(f"make run did not serve every model within {LIMIT_S} s; see {self.log}")

    def stop(self) -> None:
        """Ctrl-C to the run's process group; it stops its server and any training."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="clone into this folder and keep it (default: temp)")
    parser.add_argument("--warm-caches", action="store_true", help="use this machine's pip and npm caches")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    clone = work / "clone"
    if clone.exists():
        shutil.rmtree(clone)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "DATABASE_URL", "REDIS_URL", "TMDB_API_KEY")}
    if not args.warm_caches:
        env |= {"PIP_NO_CACHE_DIR": "1", "npm_config_cache": str(work / "npm-cache")}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    load_before, calibration_before = os.getloadavg()[0], calibrate()

    print("first make run (a clean clone):")
    with Run(clone, env, work / "first-run.log") as first:
        phases = first.watch()
    print("second make run (nothing changed):")
    with Run(clone, env, work / "second-run.log") as second:
        second_phases = second.watch()
    load_after, calibration_after = os.getloadavg()[0], calibrate()

    measured = {
        "first recommendations": phases["first recommendations"],
        "every model loaded": phases["every model loaded"],
        "second run": second_phases["every model loaded"],
    }
    print()
    print_header(f"{'goal':<24} {'seconds':>8} {'goal s':>7}  met")
    for goal, seconds in measured.items():
        print(f"{goal:<24} {seconds:>8.1f} {GOALS_S[goal]:>7.0f}  {'yes' if seconds <= GOALS_S[goal] else 'NO'}")
    print(
        f"calibration {calibration_before:.2f} -> {calibration_after:.2f} s, load {load_before:.1f} -> {load_after:.1f}"
    )
    write_json(
        RESULTS,
        {
            "caches": "warm" if args.warm_caches else "cold",
            "commit": commit,
            "goals_s": GOALS_S,
            "measured_s": measured,
            "met": {goal: measured[goal] <= GOALS_S[goal] for goal in measured},
            "first_run_phases_s": phases,
            "second_run_phases_s": second_phases,
            "calibration_s": {"before": calibration_before, "after": calibration_after},
            "load_average": {"before": load_before, "after": load_after},
            "cpus": os.cpu_count(),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
