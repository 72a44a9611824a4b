"""Scale benchmark: time and peak memory of every stage from 1x to ~320x ml-latest-small (about ml-32m).

The data are the synthetic generator's (`movie-genie data --synthetic SCALE`, data/synthetic.py): the statistics
that drive cost (power-law popularity and activity, per-user time order, genres, titles, tags), never quality.
Each stage runs in its own process, in its own scratch folder (never the checkout's data/ or artifacts/), so its
peak resident memory is its own. Stages that would run for hours are CAPPED: they stop at the time cap and report
the rate they reached (films/s, users/s, batches/s) and the full time that rate implies ("est."), instead of
waiting. A stage that would take more memory than the budget is stopped too (EASE refuses on its own, with the
message a user gets).

Stages (in order, per scale): data (generate + enrich copy), split, embed (MiniLM over every film document), train
popularity, train ease (one lambda), one epoch each of SASRec, BERT4Rec and Two-Tower (batches until the cap;
epoch time = batches per epoch / batches per second), evaluate (full-ranking test evaluation of SASRec over every
test user, bootstrap included), index (`movie-genie index`: FAISS, BM25, catalogue, collab SVD, ONNX export),
db load into SQLite and into PostgreSQL (COPY), recommend latency of each trained model (in-process, one query at
a time, a test user's history) and search latency (the search engine over the built index, in-process).
Inference costs do not depend on what the weights learned, so a capped epoch's weights time recommend and evaluate
honestly.

Separately (`--ann`): the vector index at 10k and 100k films, exact (IndexFlatIP) and HNSW, with HNSW's recall@10
against exact search and the query latency, on clustered unit vectors (384-d, like the sentence embeddings).
And (`--ddp`): one epoch of Two-Tower and BERT4Rec at 1x in one process vs two under torchrun.

Run (about 25 minutes on 2 cores):
    nice -n 10 .venv/bin/python -m benchmarks.bench_scale [--scales 1 10 100 320] [--ann] [--ddp]
Prints a table and writes benchmarks/results/scale.json; `--publish` also copies it to docs/results/scale.json,
from which the docs build draws the table and the log-log plot (docs/scale.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import yaml

from benchmarks.output import write_json
from benchmarks.scale_report import cell, command_arguments, growth_exponents, portable, print_table
from benchmarks.scale_stages import (
    MUST_FINISH,
    NEEDS,
    POSTGRES_ADMIN_URL,
    PUBLISHED,
    RESULTS,
    ROOT,
    SCALES,
    SELF_CAPPING,
    STAGES,
    child,
    latency_ms,
)

# ----------------------------------------------------------------------------------------------------------------
# The parent side: run each stage under a time and memory cap, read what it reported
# ----------------------------------------------------------------------------------------------------------------

_TQDM = re.compile(r"(\d+)/(\d+) \[(\d+):(\d+)")  # "450000/1000000 [00:10<..." (mm:ss elapsed)


def _tqdm_progress(log: Path, offset: int) -> dict[str, Any] | None:
    """The last "n/total [mm:ss" of a tqdm bar in a stage's output from `offset` on (stages without own reports)."""
    with log.open("rb") as text:
        text.seek(offset)
        matches = _TQDM.findall(text.read().decode(errors="replace"))
    unfinished = [m for m in matches if int(m[0]) < int(m[1])]  # a finished bar (loading weights) is not the stage's
    if not unfinished:
        return None
    done, total, minutes, seconds = (int(v) for v in unfinished[-1])
    return {"done": done, "total": total, "unit": "rows", "seconds": max(minutes * 60 + seconds, 1)}


def _tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and its children."""
    try:
        procs = [process, *process.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs)
    except psutil.Error:
        return 0


def run_stage(stage: str, work: Path, scale: float, cap_s: float, memory_gib: float, env: dict[str, str]) -> dict:
    """Run a stage in a child process; stop it at its cap (time, or memory); return its row of the table."""
    progress_file = work / f"progress-{stage.replace(' ', '_')}.jsonl"
    progress_file.unlink(missing_ok=True)
    log = work / "stages.log"
    # Stages that stop themselves get time to prepare (read the split: a minute at 320x) and to finish; the others
    # are stopped from here.
    hard_cap = None if stage in MUST_FINISH else cap_s + (90 if stage in SELF_CAPPING else 30)
    argv = [sys.executable, "-m", "benchmarks.bench_scale", "--child", stage, "--work", str(work)]
    argv += ["--scale", str(scale), "--cap", str(cap_s), "--progress", str(progress_file)]
    start = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"\n== {scale:g}x {stage}\n".encode())
        out.flush()
        offset = out.tell()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(process.pid)
        peak, stopped = 0, None
        while process.poll() is None:
            peak = max(peak, _tree_rss(watched))
            if peak > memory_gib * 2**30:
                stopped = f"stopped at the memory limit ({memory_gib:g} GiB)"
            elif hard_cap is not None and time.perf_counter() - start > hard_cap:
                stopped = f"stopped at the time cap ({cap_s:.0f} s)"
            if stopped:
                process.kill()
                break
            time.sleep(0.2)
        process.wait()
    seconds = time.perf_counter() - start
    lines = [json.loads(x) for x in progress_file.read_text().splitlines()] if progress_file.exists() else []
    reports = [x for x in lines if "done" in x]
    last = lines[-1] if lines else {}
    row: dict[str, Any] = {"scale": scale, "stage": stage, "seconds": seconds, "peak_mib": peak / 2**20, "cap_s": cap_s}
    if "refused" in last:
        row.update(status="refused", note=last["refused"], needs_gib=last.get("needs_gib"))
        return row
    if "result" in last:
        row.update(last["result"])
        row["status"] = "capped" if last["capped"] else "ok"
        row["seconds"], row["prep_s"] = last["seconds"], last["prep_s"]
    else:
        row["status"] = "capped" if stopped else "failed"
        row["note"] = stopped or f"exit {process.returncode}: see {log}"
        reports = reports or [r for r in [_tqdm_progress(log, offset)] if r]
    if reports:
        done, total = reports[-1]["done"], reports[-1]["total"]
        rate = done / max(reports[-1]["seconds"], 1e-9)
        row.update(done=done, total=total, unit=reports[-1]["unit"], rate=rate)
        if row["status"] == "capped" and rate > 0:
            row["estimated_s"] = total / rate
    if row["status"] == "capped" and not row.get("estimated_s"):
        estimates = [x for x in lines if "estimated_s" in x]
        if estimates:  # a stage without a rate (one long solve) may have predicted its own time
            row["estimated_s"] = estimates[-1]["estimated_s"]
            row["note"] = f"{row.get('note', 'capped')}; estimated from a {estimates[-1]['how']}"
    return row


def _postgres_database(name: str, create: bool) -> str | None:
    """CREATE (or DROP) a throwaway database on the local server; its URL, or None when there is no server."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            if create:
                admin.execute(f'CREATE DATABASE "{name}"')
            else:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        return None
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def prepare_work(work: Path, memory_gib: float) -> dict[str, str]:
    """A scratch project in `work` (its own params.yaml, data and artifacts folders); the stages' environment."""
    work.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(work / "data"), "artifacts_dir": str(work / "artifacts")}
    raw["dataset"] = {"name": "synthetic", "source": None, "metadata_csv": None}
    # EASE's budget: what this benchmark may use (the machine is shared), unless params.yaml sets a smaller one.
    ease = raw["models"]["ease"]
    ease["memory_budget_gib"] = min(memory_gib, ease.get("memory_budget_gib") or memory_gib)
    # One BLAS thread: on a busy shared machine two spin against each other (a 2,000-film solve took 4-8 s with two
    # threads and 0.6-0.9 s with one, measured while other work ran).
    ease["threads"] = 1
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MOVIE_GENIE_CACHE": str(work / "cache")}
    env.pop("TMDB_API_KEY", None)
    return env


def run_scale(
    scale: float, cap_s: float, memory_gib: float, keep: Path | None, only: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every stage (or the `only` ones, in a kept folder that has the earlier ones' outputs) at one scale."""
    work = (keep / f"{scale:g}x") if keep else Path(tempfile.mkdtemp(prefix=f"bench-scale-{scale:g}x-"))
    env = prepare_work(work, memory_gib)
    database = f"movie_genie_bench_scale_{uuid.uuid4().hex[:8]}"
    rows = []
    for stage in [s for s in STAGES if only is None or s in only]:
        if stage == "db load postgres":
            url = _postgres_database(database, create=True)
            if url is None:
                rows.append({"scale": scale, "stage": stage, "status": "skipped", "note": "no PostgreSQL server at "
                             f"{POSTGRES_ADMIN_URL} (set MOVIE_GENIE_BENCH_POSTGRES_URL)"})  # fmt: skip
                continue
            env["BENCH_POSTGRES_URL"] = url
        needed = [*MUST_FINISH, *NEEDS.get(stage, ())]
        failed = [r["stage"] for r in rows if r["stage"] in needed and r["status"] != "ok"]
        if failed:
            rows.append({"scale": scale, "stage": stage, "status": "skipped", "note": f"{failed[0]} did not finish"})
            continue
        row = run_stage(stage, work, scale, cap_s, memory_gib, env)
        if stage == "db load postgres":
            _postgres_database(database, create=False)
        rows.append(row)
        print(f"  {scale:>5g}x {stage:<28} {cell(row)}", flush=True)
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return rows


# ----------------------------------------------------------------------------------------------------------------
# The vector index at 10k and 100k films, and torchrun with two processes
# ----------------------------------------------------------------------------------------------------------------


def film_vectors(n: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """n unit vectors shaped like film embeddings, and what they are.

    With this checkout's embeddings (`movie-genie embed` of the real catalogue): each is a blend of two real films'
    MiniLM vectors plus a little noise, so the vectors keep the structure real embeddings have. Without them:
    unit vectors around 500 random centres (harder for HNSW than real embeddings: no low-dimensional structure).
    """
    from movie_genie.config import Layout, load_params
    from movie_genie.search.embeddings import EMBEDDINGS_FILE, read_embeddings

    rng = np.random.default_rng(seed)
    path = Layout.from_params(load_params(ROOT / "params.yaml")).embeddings_dir / EMBEDDINGS_FILE
    path = path if path.is_absolute() else ROOT / path
    if path.is_file():
        real = read_embeddings(path).embedding
        a, b = real[rng.integers(0, len(real), size=n)], real[rng.integers(0, len(real), size=n)]
        weight = rng.uniform(0.5, 1.0, size=(n, 1)).astype(np.float32)
        vectors = weight * a + (1 - weight) * b + rng.normal(0, 0.01, size=a.shape).astype(np.float32)
        kind = f"blends of two of the {len(real):,} real MiniLM film vectors of this checkout, plus noise"
    else:
        centres = rng.normal(size=(500, 384)).astype(np.float32)
        vectors = centres[rng.integers(0, 500, size=n)] + rng.normal(0, 0.6, size=(n, 384)).astype(np.float32)
        kind = "unit vectors around 500 random centres (no embeddings in this checkout)"
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), kind


ANN_EF_SEARCH = (64, 128, 256, 512)


def ann_benchmark(sizes: tuple[int, ...] = (10_000, 100_000), queries: int = 200) -> dict[str, Any]:
    """Exact vs HNSW at each catalogue size: build seconds, query p50/p95 (1 thread), recall@10 against exact search
    for several efSearch values; `configured` marks what params.yaml picks at that size."""
    import faiss

    from movie_genie.config import load_params
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.vector import build_vector_index, vector_search

    config = SearchConfig.from_params(load_params(ROOT / "params.yaml")).vector
    rows = []
    kind = ""
    for n in sizes:
        everything, kind = film_vectors(n + queries)
        vectors, probe = everything[:n], everything[n:]  # queries: held-out vectors of the same kind
        truth: list[np.ndarray] = []
        for index_kind in ("exact", "hnsw"):
            cfg = config.model_copy(update={"hnsw_min_movies": n + 1 if index_kind == "exact" else 0})
            faiss.omp_set_num_threads(2)  # build on both cores, query on one (as a server worker does)
            start = time.perf_counter()
            index = build_vector_index(vectors, cfg)
            build_s = time.perf_counter() - start
            faiss.omp_set_num_threads(1)
            for ef in (0,) if index_kind == "exact" else ANN_EF_SEARCH:
                found = [vector_search(index, q, 10, ef)[0] for q in probe]
                latency = latency_ms(
                    lambda i, index=index, probe=probe, ef=ef: vector_search(index, probe[i], 10, ef), queries
                )
                truth = truth or found
                recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
                configured = (index_kind == "hnsw") == (n >= config.hnsw_min_movies) and ef in (0, cfg.hnsw_ef_search)
                rows.append({"films": n, "index": index_kind, "ef_search": ef or None, "build_s": build_s,
                             "recall10": recall, "configured": configured, **latency})  # fmt: skip
                print(f"  ann {n:>7,} {index_kind:<5} ef {ef:>3} build {build_s:6.1f} s  "
                      f"p50 {latency['p50_ms']:.3f} ms  recall@10 {recall:.3f}", flush=True)  # fmt: skip
    return {"vectors": kind, "rows": rows}


def ddp_benchmark(work: Path, env: dict[str, str], epochs: int = 2) -> list[dict[str, Any]]:
    """Seconds per epoch of Two-Tower and BERT4Rec at 1x with one process and with two (torchrun, gloo)."""
    raw = yaml.safe_load((work / "params.yaml").read_text(encoding="utf-8"))
    for name in ("two_tower", "bert4rec"):
        raw["models"][name].update(max_epochs=epochs, eval_every=100, refit_with_valid=False, progress=False)
    params = work / "params-ddp.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    torchrun = Path(sys.executable).with_name("torchrun")
    rows = []
    for name in ("two_tower", "bert4rec"):
        per_epoch = {}
        for procs in (1, 2):
            cli = ["-m", "movie_genie.cli", "--params", str(params), "train", "--model", name]
            launch = [str(torchrun), "--standalone", "--nproc-per-node", "2"] if procs == 2 else [sys.executable]
            argv = [*launch, *cli]
            with (work / "stages.log").open("ab") as out:
                subprocess.run(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
            epochs_log = json.loads((work / "artifacts" / "models" / "training" / f"{name}.json").read_text())["epochs"]
            # The first epoch's wall time (the last one also validates); `seconds` is cumulative from the start.
            per_epoch[procs] = epochs_log[0]["seconds"]
        speedup = per_epoch[1] / per_epoch[2]
        rows.append({"model": name, "epoch_s_1": per_epoch[1], "epoch_s_2": per_epoch[2], "speedup": speedup,
                     "efficiency": speedup / 2})  # fmt: skip
        print(f"  ddp {name:<10} 1 process {per_epoch[1]:6.1f} s/epoch, 2 processes {per_epoch[2]:6.1f} s/epoch: "
              f"x{speedup:.2f} (efficiency {speedup / 2:.0%})", flush=True)  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="*", default=list(SCALES))
    parser.add_argument("--cap", type=float, default=90, help="seconds per stage at 1x and 10x")
    parser.add_argument("--big-cap", type=float, default=30, help="seconds per stage above 10x")
    parser.add_argument("--memory-gib", type=float, default=9.0, help="memory limit per stage (and EASE's budget)")
    parser.add_argument("--stages", nargs="*", choices=STAGES, help="only these (with --keep of an earlier run)")
    parser.add_argument("--ann", action="store_true", help="also the vector index at 10k and 100k films")
    parser.add_argument("--ddp", action="store_true", help="also one process vs two (torchrun) at 1x")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: temp)")
    parser.add_argument("--publish", action="store_true", help="also write docs/results/scale.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--progress", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.work, args.scale, args.cap, args.progress)

    from benchmarks.bench_pipeline import calibrate  # imports torch: not in the children (their memory is measured)
    from movie_genie.data.synthetic import sizes

    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    arguments = sys.argv[1:] if argv is None else argv
    command = shlex.join(["nice", "-n", "10", ".venv/bin/python", "-m", "benchmarks.bench_scale", *arguments])
    load_start = os.getloadavg()
    calibration = [calibrate()]  # a fixed CPU workload: how busy the shared machine was (bench_pipeline.py)
    rerun = {(s, stage) for s in args.scales for stage in (args.stages or STAGES)}
    rows: list[dict[str, Any]] = [r for r in previous.get("rows", []) if (r["scale"], r["stage"]) not in rerun]
    for scale in args.scales:
        cap = args.cap if scale <= 10 else args.big_cap
        print(f"== {scale:g}x ({sizes(scale)}), cap {cap:.0f} s per stage", flush=True)
        rows += run_scale(scale, cap, args.memory_gib, args.keep, args.stages)
    rows.sort(key=lambda r: (r["scale"], STAGES.index(r["stage"])))
    scales = sorted({r["scale"] for r in rows})
    counts = {s: sizes(s) for s in scales}
    exponents = growth_exponents(rows, {s: c["ratings"] for s, c in counts.items()})
    ann = ann_benchmark() if args.ann else previous.get("ann", {})
    ddp = previous.get("ddp", [])
    if args.ddp:
        work = Path(tempfile.mkdtemp(prefix="bench-scale-ddp-"))
        env = prepare_work(work, args.memory_gib)
        for stage in MUST_FINISH:
            run_stage(stage, work, 1.0, 600, args.memory_gib, env)
        ddp = ddp_benchmark(work, env)
        shutil.rmtree(work, ignore_errors=True)
    calibration.append(calibrate())
    print_table(rows, scales)
    print("\ngrowth exponents (time ~ ratings^k): " + ", ".join(f"{s} {k:.2f}" for s, k in exponents.items()))
    payload = {
        "benchmark": "scale",
        # Every invocation whose rows the file holds (a later one may re-measure some stages or scales).
        "runs": [command_arguments(c) for c in [*previous.get("commands", []), *previous.get("runs", []), command]],
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "memory_gib": psutil.virtual_memory().total / 2**30,
        },
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "memory_gib": args.memory_gib,
        "calibration_s": {"before": calibration[0], "after": calibration[-1]},
        "sizes": {f"{s:g}": c for s, c in counts.items()},
        "stages": list(STAGES),
        "rows": rows,
        "growth_exponents": exponents,
        "ann": ann,
        "ddp": ddp,
    }
    for path in (RESULTS, PUBLISHED) if args.publish else (RESULTS,):
        write_json(path, portable(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
