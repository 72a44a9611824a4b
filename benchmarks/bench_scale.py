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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
PUBLISHED = ROOT / "docs" / "results" / "scale.json"
SCALES = (1.0, 10.0, 100.0, 320.0)
NEURAL = ("sasrec", "bert4rec", "two_tower")
STAGES = (
    "data",
    "split",
    "embed",
    "train popularity",
    "train ease",
    *(f"train {m} (1 epoch)" for m in NEURAL),
    "evaluate",
    "index",
    "db load sqlite",
    "db load postgres",
    "recommend",
    "search",
)
# Stages everything after them needs: they are never capped by time (only by memory).
MUST_FINISH = ("data", "split")
NEEDS = {"search": ("index",)}  # a stage that needs another's complete output besides data and split
# Stages that stop at the cap themselves and report their rate (the others are stopped from outside).
SELF_CAPPING = ("embed", *(f"train {m} (1 epoch)" for m in NEURAL), "evaluate")
EASE_LAMBDA = 100.0  # one solve: the grid multiplies it by its length
CALIBRATION_FILMS = 2_000  # EASE predicts its own solve from one of this size
LATENCY_QUERIES = 40
SEARCH_QUERIES = ("dark robot adventure", "funny romantic comedy", "war film", "korlan", "space horror mystery")
POSTGRES_ADMIN_URL = os.environ.get("MOVIE_GENIE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# ----------------------------------------------------------------------------------------------------------------
# The child side: one stage in its own process
# ----------------------------------------------------------------------------------------------------------------


class Progress:
    """What a stage reports while it runs: units done of a total, as JSON lines the parent reads after a cap."""

    def __init__(self, path: Path, cap_s: float) -> None:
        self.path, self.born, self.cap_s = path, time.perf_counter(), cap_s
        self.start = self.born
        self.stopped = False  # set by a stage that stopped itself at the cap before the end of its work
        self.extra: dict[str, Any] = {}

    def begin(self) -> None:
        """The measured work starts now; what came before (reading the split, loading a model) is preparation."""
        self.start = time.perf_counter()

    def prep_s(self) -> float:
        return self.start - self.born

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def over(self) -> bool:
        """True once the stage has used its time cap (it then stops itself and reports its rate)."""
        return self.elapsed() > self.cap_s

    def report_estimate(self, seconds: float, how: str) -> None:
        """The stage's own prediction of its full time, for a parent that has to stop it before it ends."""
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"estimated_s": seconds, "how": how}) + "\n")

    def report(self, done: float, total: float, unit: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"done": done, "total": total, "unit": unit, "seconds": self.elapsed()}) + "\n")


def _layout(work: Path) -> Any:
    from movie_genie.config import Layout

    return Layout(work / "data", work / "artifacts")


def _params(work: Path) -> Any:
    from movie_genie.config import load_params

    return load_params(work / "params.yaml")


def stage_data(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """Generate the synthetic tables and copy them to processed (the enrich stage without a metadata CSV)."""
    from movie_genie.data.stages import run_data, run_enrich

    params, layout = _params(work), _layout(work)
    run_data(params, layout, synthetic=scale)
    run_enrich(params, layout)
    info = json.loads((layout.processed_dir / "dataset.json").read_text())
    return {k: info[k] for k in ("users", "movies", "ratings", "tags")}


def stage_split(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.data.stages import run_split

    run_split(_params(work), _layout(work))
    return {}


def stage_embed(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """MiniLM over every film document until the cap; the rest are noisy copies (only for the later stages' cost)."""
    from movie_genie.search.build import read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.documents import build_documents, document_hash
    from movie_genie.search.embeddings import EMBEDDINGS_FILE, Embeddings, write_embeddings
    from movie_genie.search.encoder import EMBEDDING_DIM, embed_texts, load_sentence_model

    params, layout = _params(work), _layout(work)
    config = SearchConfig.from_params(params)
    movies, tags, _ = read_search_inputs(layout.processed_dir)
    docs = build_documents(movies, tags, config.encoder)
    model = load_sentence_model(config.encoder)
    progress.begin()  # loading the model (~10 s, once per process) is not the stage's cost
    matrix = np.zeros((len(docs), EMBEDDING_DIM), dtype=np.float32)
    done = 0
    while done < len(docs) and not progress.over():
        chunk = docs[done : done + 512]
        matrix[done : done + len(chunk)] = embed_texts(model, [d.text for d in chunk], config.encoder.batch_size)
        done += len(chunk)
        progress.report(done, len(docs), "films")
    progress.stopped = done < len(docs)
    if progress.stopped:  # fill the rest so index and the models can run on a full catalogue
        rng = np.random.default_rng(0)
        rest = matrix[rng.integers(0, done, size=len(docs) - done)] + rng.normal(0, 0.05, (len(docs) - done, 384))
        matrix[done:] = rest / np.linalg.norm(rest, axis=1, keepdims=True)
    write_embeddings(
        layout.embeddings_dir / EMBEDDINGS_FILE,
        Embeddings(
            movie_id=np.array([d.movie_id for d in docs], dtype=np.int64),
            embedding=matrix,
            text_hash=np.array([document_hash(d.text, config.encoder) for d in docs], dtype="<U64"),
        ),
    )
    return {"embedded": done, "films": len(docs)}


def _training_data(work: Path) -> Any:
    from movie_genie.training.loop import load_training_data

    return load_training_data(_layout(work))[0]


def stage_train_popularity(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.models.registry import checkpoint_path
    from movie_genie.training.loop import build_model

    data = _training_data(work)
    model = build_model("popularity", _params(work).section("models"))
    progress.begin()
    model.fit(data)
    model.save(checkpoint_path(_layout(work).models_dir, "popularity"))
    return {}


def stage_train_ease(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """One solve at one lambda (the grid multiplies it); refuses above the memory budget like `train` does."""
    from movie_genie.data.idmap import IdMap
    from movie_genie.data.schema import ID_MAP_FILE
    from movie_genie.models.ease import Ease, EaseConfig, check_memory, ease_memory_bytes, ease_weights
    from movie_genie.models.registry import checkpoint_path

    section = _params(work).section("models")["ease"]
    model = Ease(EaseConfig.from_params({**section, "lambdas": [EASE_LAMBDA], "progress": False}))
    n = IdMap.load(_layout(work).split_dir / ID_MAP_FILE).n_items
    progress.extra["needs_gib"] = ease_memory_bytes(n, model.config.dtype) / 2**30
    check_memory(model.config, n)  # as `train` does: refuse before reading the training rows
    data = _training_data(work)
    # One solve has no rate to report: time a small one now and predict this one as O(n^3) from it.
    small = min(n, CALIBRATION_FILMS)
    x = (np.random.default_rng(0).random((4 * small, small)) < 0.05).astype(np.float32)
    gram = x.T @ x
    ease_weights(gram[:10, :10], EASE_LAMBDA, model.config.dtype, model.config.threads)  # load BLAS, threadpoolctl
    start = time.perf_counter()
    ease_weights(gram, EASE_LAMBDA, model.config.dtype, model.config.threads)
    progress.report_estimate((time.perf_counter() - start) * (n / small) ** 3, f"{small:,}-film solve x (n/{small})^3")
    progress.begin()
    model.fit(data)
    model.save(checkpoint_path(_layout(work).models_dir, "ease"))
    return {"needs_gib": progress.extra["needs_gib"]}


def stage_train_epoch(name: str) -> Callable[[Path, float, Progress], dict[str, Any]]:
    """One epoch of a neural model's own batches and loss (the shared loop's steps), stopped at the cap."""

    def run(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
        import torch

        from movie_genie.models.registry import checkpoint_path
        from movie_genie.models.seeding import seed_everything, torch_threads
        from movie_genie.models.sequences import TrainRun
        from movie_genie.training.loop import build_model

        data = _training_data(work)
        model: Any = build_model(name, _params(work).section("models"))
        cfg = model.config
        generator = seed_everything(cfg.seed)
        model.id_map = data.id_map
        # The shared loop's pieces (sequences.TorchRecommender._train) driven batch by batch, so a cap can stop
        # mid-epoch and still give the rate.
        model.net = model._build_net(data)
        plan = model._plan(data, TrainRun(1, cfg.lr, 0, cfg.seed, generator, name))
        optimizer = torch.optim.AdamW(model.net.parameters(), lr=cfg.lr)
        progress.begin()  # reading the split and building the sequences is preparation
        batches = plan.batches(np.random.default_rng(cfg.seed))
        done = 0
        with torch_threads(cfg.torch_threads):
            model.net.train()
            for batch in batches:
                inputs, _ = plan.loss_inputs(batch, generator)
                loss = model._loss(*inputs)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                done += 1
                if done % 5 == 0 or done == len(batches):
                    progress.report(done, len(batches), "batches")
                if progress.over():
                    break
        progress.stopped = done < len(batches)
        model.net.eval()
        model._clear_cache()
        if name == "two_tower":  # what its _train adds after the loop (similar users), needed to save
            model.user_table = np.zeros((0, cfg.dim), dtype=np.float32)
        model.save(checkpoint_path(_layout(work).models_dir, name))
        softmax = "full"
        if hasattr(cfg, "full_softmax_max_items"):
            softmax = "full" if data.id_map.n_items <= cfg.full_softmax_max_items else "sampled"
        return {"softmax": softmax if name != "two_tower" else "in-batch"}

    return run


def stage_evaluate(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """The full-ranking test protocol (every test user, every film, bootstrap intervals) with SASRec's scoring."""
    from movie_genie.data.split import load_split
    from movie_genie.evaluation.metrics import (
        EvaluationParams,
        TargetRanks,
        bootstrap_ci,
        per_user_metrics,
        rank_targets,
        test_set,
    )
    from movie_genie.models.registry import checkpoint_path, model_class

    params, layout = _params(work), _layout(work)
    settings = EvaluationParams.from_params(params)
    id_map, frames = load_split(layout)
    eval_set = test_set(frames["train"], frames["valid"], frames["test"])
    model = model_class("sasrec").load(checkpoint_path(layout.models_dir, "sasrec"))
    progress.begin()
    chunk = 8 * settings.batch_size
    ranks = []
    done = 0
    while done < len(eval_set) and not progress.over():
        part = eval_set.subset(np.arange(done, min(done + chunk, len(eval_set))))
        ranks.append(rank_targets(model, part, id_map.n_items, batch_size=settings.batch_size)[0])
        done += len(part)
        progress.report(done, len(eval_set), "users")
    progress.stopped = done < len(eval_set)
    greater, ties = (np.concatenate([getattr(r, part) for r in ranks]) for part in ("greater", "ties"))
    per_user = per_user_metrics(TargetRanks(greater, ties))
    for values in per_user.values():
        bootstrap_ci(values, settings.bootstrap_resamples, settings.seed)
    return {"users": done}


def stage_index(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.search.build import build_index, read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.embeddings import EMBEDDINGS_FILE
    from movie_genie.search.encoder import load_sentence_model

    params, layout = _params(work), _layout(work)
    config = SearchConfig.from_params(params)
    movies, tags, ratings = read_search_inputs(layout.processed_dir)
    model = load_sentence_model(config.encoder)
    progress.begin()
    report = build_index(
        movies, tags, ratings, layout.embeddings_dir / EMBEDDINGS_FILE, layout.index_dir, config, model
    )
    return {"vector_index": report.vector_index}


def _db_load(url: str, work: Path, progress: Progress) -> dict[str, Any]:
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import make_engine
    from movie_genie.db.load import load_processed

    engine = make_engine(url)
    progress.begin()
    report = load_processed(
        engine, _layout(work).processed_dir, dataset_name="synthetic", params=DatabaseParams(), progress=True
    )
    engine.dispose()
    return {"ratings": report.ratings}


def stage_db_sqlite(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    return _db_load(f"sqlite:///{work / 'data' / 'movie_genie.db'}", work, progress)


def stage_db_postgres(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    return _db_load(os.environ["BENCH_POSTGRES_URL"], work, progress)


def _latency_ms(fn: Callable[[int], Any], n: int) -> dict[str, float]:
    fn(0)  # warm caches
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def stage_recommend(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """model.recommend(history of a test user, k=10) one query at a time, as an API worker serves it."""
    import torch

    from movie_genie.data.split import load_split
    from movie_genie.models.base import Query
    from movie_genie.models.catalogue import MODEL_NAMES
    from movie_genie.models.registry import checkpoint_path, model_class

    layout = _layout(work)
    torch.set_num_threads(1)  # one intra-op thread per API worker (serving.torch_threads)
    id_map, frames = load_split(layout)
    train = frames["train"]
    rng = np.random.default_rng(0)
    users = rng.choice(train["user_idx"].unique(), size=LATENCY_QUERIES + 1, replace=False)
    item_ids = np.asarray(id_map.item_ids)
    histories = [item_ids[train.loc[train["user_idx"] == u, "item_idx"].to_numpy()][-200:].tolist() for u in users]
    progress.begin()
    result: dict[str, Any] = {}
    for name in MODEL_NAMES:
        path = checkpoint_path(layout.models_dir, name)
        if not path.is_file():
            continue
        model = model_class(name).load(path)
        result[name] = _latency_ms(lambda i, m=model: m.recommend(Query(histories[i]), k=10), LATENCY_QUERIES)
    return {"latency": result, "films": id_map.n_items}


def stage_search(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.search.engine import SearchEngine

    engine = SearchEngine.load(_layout(work).index_dir)
    progress.begin()
    queries = [*SEARCH_QUERIES] * (LATENCY_QUERIES // len(SEARCH_QUERIES) + 1)
    engine.encoder.cache_clear()
    latency = _latency_ms(lambda i: engine.search(queries[i] + f" {i}", k=20), LATENCY_QUERIES)
    return {"latency": {"hybrid": latency}, "vector_index": engine.manifest.get("vector_index")}


CHILD_STAGES: dict[str, Callable[[Path, float, Progress], dict[str, Any]]] = {
    "data": stage_data,
    "split": stage_split,
    "embed": stage_embed,
    "train popularity": stage_train_popularity,
    "train ease": stage_train_ease,
    **{f"train {m} (1 epoch)": stage_train_epoch(m) for m in NEURAL},
    "evaluate": stage_evaluate,
    "index": stage_index,
    "db load sqlite": stage_db_sqlite,
    "db load postgres": stage_db_postgres,
    "recommend": stage_recommend,
    "search": stage_search,
}


def child(stage: str, work: Path, scale: float, cap_s: float, progress_file: Path) -> int:
    """Run one stage; its last line in progress_file is {"result": ...} or {"refused": message}."""
    from movie_genie.models.ease import EaseMemoryError

    progress = Progress(progress_file, cap_s)
    try:
        result = CHILD_STAGES[stage](work, scale, progress)
    except EaseMemoryError as exc:  # a clear refusal (EASE's memory guard) is a result, not a crash
        line = {"refused": str(exc), **progress.extra}
    else:
        line = {"result": result, "seconds": progress.elapsed(), "prep_s": progress.prep_s()}
        line["capped"] = progress.stopped
    with progress_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    return 0


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
                latency = _latency_ms(
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
            log = json.loads((work / "artifacts" / "models" / "training.json").read_text())
            epochs_log = log["models"][name]["epochs"]
            # The first epoch's wall time (the last one also validates); `seconds` is cumulative from the start.
            per_epoch[procs] = epochs_log[0]["seconds"]
        speedup = per_epoch[1] / per_epoch[2]
        rows.append({"model": name, "epoch_s_1": per_epoch[1], "epoch_s_2": per_epoch[2], "speedup": speedup,
                     "efficiency": speedup / 2})  # fmt: skip
        print(f"  ddp {name:<10} 1 process {per_epoch[1]:6.1f} s/epoch, 2 processes {per_epoch[2]:6.1f} s/epoch: "
              f"x{speedup:.2f} (efficiency {speedup / 2:.0%})", flush=True)  # fmt: skip
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Table and growth exponents
# ----------------------------------------------------------------------------------------------------------------


def _human_s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def cell(row: dict[str, Any]) -> str:
    """One table cell: time (or latency) and peak memory; capped stages give the rate reached and the estimate."""
    status = row.get("status")
    if status in ("skipped", "failed"):
        return status
    if status == "refused":
        needs = row.get("needs_gib")
        return f"refused (needs {needs:,.0f} GiB)" if needs else "refused"
    if "latency" in row:
        text = ", ".join(f"{k} {v['p50_ms']:.1f}" for k, v in row["latency"].items())
        return f"p50 ms: {text}"
    memory = f"{row['peak_mib'] / 1024:.1f} GiB" if row.get("peak_mib") else ""
    if status == "capped":
        rate = f"{row['rate']:,.1f} {row['unit']}/s" if row.get("rate") else "no rate"
        est = f", est. {_human_s(row['estimated_s'])}" if row.get("estimated_s") else ""
        return f"capped at {_human_s(row['seconds'])} ({rate}{est}), {memory}"
    return f"{_human_s(row['seconds'])}, {memory}"


def stage_cost(row: dict[str, Any]) -> float | None:
    """The stage's full time: measured, or extrapolated from the rate a capped stage reached; None otherwise."""
    if row.get("status") == "ok":
        return float(row["seconds"])
    if row.get("status") == "capped" and row.get("estimated_s"):
        return float(row["estimated_s"])
    return None


def growth_exponents(rows: list[dict[str, Any]], sizes: dict[float, int]) -> dict[str, float]:
    """Per stage: the slope of log(time) against log(ratings) over the scales with a cost (time ~ ratings^slope)."""
    exponents = {}
    for stage in STAGES:
        # Latency rows time a fixed number of requests: their growth is the latency ratio, shown on its own.
        points = [(sizes[r["scale"]], stage_cost(r)) for r in rows if r["stage"] == stage and "latency" not in r]
        points = [(n, c) for n, c in points if c and n]
        if len(points) >= 2:
            x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            exponents[stage] = float(np.polyfit(x, y, 1)[0])
    return exponents


# ----------------------------------------------------------------------------------------------------------------
# The docs page: docs/gen_pages.py renders docs/results/scale.json with these two functions at build time
# ----------------------------------------------------------------------------------------------------------------

PLOTTED = (
    "data", "split", "embed", "train ease", *(f"train {m} (1 epoch)" for m in NEURAL), "evaluate", "index",
    "db load sqlite", "db load postgres",
)  # fmt: skip


def plot_costs(payload: dict[str, Any], path: Path) -> None:
    """Log-log plot of each stage's time against the number of ratings: filled = measured, open = estimated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratings = {float(s): c["ratings"] for s, c in payload["sizes"].items()}
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, stage in enumerate(PLOTTED):
        points = [(ratings[r["scale"]], stage_cost(r), r["status"]) for r in payload["rows"] if r["stage"] == stage]
        points = [p for p in points if p[1]]
        if not points:
            continue
        colour = plt.get_cmap("tab20")(i % 20)
        k = payload["growth_exponents"].get(stage)
        label = f"{stage} (k = {k:.2f})" if k is not None else stage
        ax.plot([p[0] for p in points], [p[1] for p in points], "-", color=colour, label=label, alpha=0.8)
        for x, y, status in points:
            ax.plot(x, y, "o", color=colour, markerfacecolor=colour if status == "ok" else "white")
    ax.set(xscale="log", yscale="log", xlabel="ratings", ylabel="seconds (open marker: estimated from the rate)")
    ax.set_title("Cost of each stage against data size (time ~ ratings^k)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ratio(a: float | None, b: float | None) -> str:
    return f"x{a / b:.2f}" if a and b else "n/a"


def scale_markdown(payload: dict[str, Any], plot: str) -> str:
    """The results section of docs/scale.md: sizes, the stage x scale table, growth exponents, the plot, the
    latency at 10x the films, the vector index at 10k and 100k films, and torchrun's speed-up."""
    scales = sorted(float(s) for s in payload["sizes"])
    sizes = payload["sizes"]
    load = payload["load_average"]
    caps: dict[float, dict[float, list[str]]] = {}  # scale -> cap -> stages
    for r in payload["rows"]:
        if "cap_s" in r:
            caps.setdefault(r["scale"], {}).setdefault(r["cap_s"], []).append(r["stage"])

    def caps_text(scale: float) -> str:
        by_cap = sorted(caps[scale].items(), key=lambda item: -len(item[1]))
        extra = "".join(f" ({cap:.0f} s for {', '.join(stages)})" for cap, stages in by_cap[1:])
        return f"{scale:g}x {by_cap[0][0]:.0f} s{extra}"

    out = [
        "*Generated at build time from `docs/results/scale.json`, never edited by hand. Written by "
        + "; then ".join(f"`nice -n 10 .venv/bin/python -m benchmarks.bench_scale {c}`" for c in payload["runs"])
        + ".*",
        "",
        f"**Machine** {payload['machine']['cpus']} cores, {payload['machine']['memory_gib']:.0f} GiB, shared "
        f"(every time here moves with the load; in the last run that wrote the file the load average was "
        f"{load['start'][0]:.1f} at the start and {load['end'][0]:.1f} at the end, and a fixed single-threaded "
        "workload, `benchmarks/bench_pipeline.py`'s calibration, took "
        f"{payload['calibration_s']['before']:.1f} s before and {payload['calibration_s']['after']:.1f} s after). "
        "**Time caps per stage** "
        + " · ".join(caps_text(s) for s in sorted(caps))
        + f"; {payload['memory_gib']:g} GiB per stage (and EASE's budget).",
        "",
        "| scale | users | films | ratings | tags |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {s:g}x | {sizes[f'{s:g}']['users']:,} | {sizes[f'{s:g}']['movies']:,} | "
            f"{sizes[f'{s:g}']['ratings']:,} | {sizes[f'{s:g}']['tags']:,} |"
            for s in scales
        ),
        "",
        "### Every stage at every scale",
        "",
        "Time and peak resident memory of the stage's process; **capped**: stopped at the cap, with the rate it "
        "reached and the full time that rate implies (*est.*); **refused**: the stage's own memory check stopped it "
        "before any work. Latency rows: median milliseconds of one request.",
        "",
        "| stage | " + " | ".join(f"{s:g}x" for s in scales) + " | k |",
        "| --- | " + " | ".join("---" for _ in scales) + " | ---: |",
    ]
    exponents = payload["growth_exponents"]
    for stage in payload["stages"]:
        cells = {r["scale"]: cell(r) for r in payload["rows"] if r["stage"] == stage}
        k = f"{exponents[stage]:.2f}" if stage in exponents else ""
        out.append(f"| {stage} | " + " | ".join(cells.get(s, "-") for s in scales) + f" | {k} |")
    notes = [f"{r['scale']:g}x {r['stage']}: {r['note']}" for r in payload["rows"] if r.get("note")]
    out += ["", "*k*: the growth exponent, the slope of log(time) against log(ratings) over the scales with a "
            "measured or estimated time (1 = linear in the data).", ""]  # fmt: skip
    if notes:
        out += ['??? note "Notes on single cells"', "", *(f"    - {n}" for n in notes), ""]
    out += [f"![Cost of each stage against the number of ratings, log-log]({plot})", ""]

    latency: dict[float, dict[str, dict[str, float]]] = {}  # scale -> request -> p50/p95
    for r in payload["rows"]:
        if r["stage"] in ("recommend", "search") and "latency" in r:
            latency.setdefault(r["scale"], {}).update(r["latency"])
    if len(latency) >= 2:
        low, high = min(latency), max(latency)
        films = {s: sizes[f"{s:g}"]["movies"] for s in (low, high)}
        out += [
            f"### Latency at {films[high] / films[low]:.1f}x the films ({low:g}x -> {high:g}x)",
            "",
            "| request | " + f"{low:g}x ({films[low]:,} films) | {high:g}x ({films[high]:,} films) | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in sorted(set(latency[low]) | set(latency[high])):
            a, b = latency[low].get(name, {}).get("p50_ms"), latency[high].get(name, {}).get("p50_ms")
            fmt = lambda v: f"{v:.2f} ms" if v else "-"  # noqa: E731
            out.append(f"| {'search' if name == 'hybrid' else 'recommend ' + name} | {fmt(a)} | {fmt(b)} | "
                       f"{_ratio(b, a)} |")  # fmt: skip
        out.append("")
    ann = payload.get("ann") or {}
    if ann.get("rows"):
        out += [
            "### The vector index at 10k and 100k films",
            "",
            f"Vectors: {ann['vectors']}; 200 held-out queries, one thread; recall@10 against exact search. "
            "*Configured*: the index and `efSearch` that `search.vector` picks at that size.",
            "",
            "| films | index | efSearch | configured | build | p50 | p95 | recall@10 |",
            "| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for a in ann["rows"]:
            out.append(f"| {a['films']:,} | {a['index']} | {a['ef_search'] or ''} | "
                       f"{'yes' if a['configured'] else ''} | {a['build_s']:.1f} s | {a['p50_ms']:.3f} ms | "
                       f"{a['p95_ms']:.3f} ms | {a['recall10']:.3f} |")  # fmt: skip
        chosen = {a["films"]: a for a in ann["rows"] if a["configured"]}
        if len(chosen) == 2:
            small, big = sorted(chosen)
            ratio = chosen[big]["p50_ms"] / chosen[small]["p50_ms"]
            verdict = "met" if ratio <= 2 else "not met"
            out += ["", f"As configured, {big:,} films cost x{ratio:.2f} the query latency of {small:,} (target: at "
                    f"most x2, **{verdict}**), at recall@10 {chosen[big]['recall10']:.3f}.", ""]  # fmt: skip
            good = [a for a in ann["rows"] if a["films"] == big and a["index"] == "hnsw" and a["recall10"] >= 0.95]
            if good:
                best = min(good, key=lambda a: a["p50_ms"])
                out += [f"The fastest HNSW setting with recall@10 of at least 0.95 at {big:,} films (efSearch "
                        f"{best['ef_search']}) costs x{best['p50_ms'] / chosen[small]['p50_ms']:.2f}.", ""]  # fmt: skip
    if payload.get("ddp"):
        out += [
            "### Two processes with torchrun (1x, gloo, one thread each)",
            "",
            "| model | 1 process, s/epoch | 2 processes, s/epoch | speed-up | scaling efficiency |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for d in payload["ddp"]:
            out.append(f"| {d['model']} | {d['epoch_s_1']:.1f} | {d['epoch_s_2']:.1f} | x{d['speedup']:.2f} | "
                       f"{d['efficiency']:.0%} |")  # fmt: skip
        out.append("")
    return "\n".join(out) + "\n"


def print_table(rows: list[dict[str, Any]], scales: list[float]) -> None:
    print(f"\n{'stage':<28}" + "".join(f"{f'{s:g}x':>44}" for s in scales))
    for stage in STAGES:
        cells = {r["scale"]: cell(r) for r in rows if r["stage"] == stage}
        print(f"{stage:<28}" + "".join(f"{cells.get(s, '-'):>44}" for s in scales))


_PATH = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+([\w.-]+)")  # absolute paths only (not .venv/bin/python)


def _arguments(command: str) -> str:
    """A run's arguments to this benchmark, with the scratch folder of --keep written as DIR."""
    words = shlex.split(command.split("benchmarks.bench_scale", 1)[-1])
    return shlex.join(["DIR" if i and words[i - 1] == "--keep" else w for i, w in enumerate(words)])


def portable(value: Any) -> Any:
    """The result without this machine's paths (scratch folders in messages): each path becomes its last part."""
    if isinstance(value, str):
        return _PATH.sub(r"\1", value)
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items() if k != "summary"}
    if isinstance(value, list):
        return [portable(v) for v in value]
    return value


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
        "runs": [_arguments(c) for c in [*previous.get("commands", []), *previous.get("runs", []), command]],
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
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(portable(payload), indent=2) + "\n", encoding="utf-8")
    if args.publish:
        PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RESULTS, PUBLISHED)
    print(f"-> {RESULTS.relative_to(ROOT)}" + (f" and {PUBLISHED.relative_to(ROOT)}" if args.publish else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
