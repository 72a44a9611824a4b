"""Model benchmark: training time, full-ranking quality and recommend latency of BERT4Rec and Two-Tower.

Baselines measured in the same run, on the same split: popularity (the trivial model: a fixed ranking) and EASE
(closed form, lambda from the known answers in tests/evaluation/test_known_answers.py). Every model is trained on
the training split with the hyperparameters of params.yaml (`models.<name>`, with the data set's overrides); the
neural models early-stop on validation NDCG@10. Then, as the train stage does, models whose config says
`refit_with_valid` are refit on train + validation (the neural ones fine-tune for a few epochs) before the test;
training time = fit + refit.
Quality is the full-ranking leave-one-out protocol of docs/evaluation.md (validation: history = train; test: history =
train + validation). Latency is `recommend(Query(history), k=10)` for one user at a time, in
process, with one intra-op torch thread (as each serving worker runs), over real histories of test users.

The machine's load average is recorded at the start and end: training times on a shared 2-core machine depend on it.

Run: .venv/bin/python benchmarks/bench_models.py [--datasets ml-100k ml-latest-small] [--users 300]
Prints a table and writes benchmarks/results/models.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.output import write_json
from movie_genie.config import load_params
from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.split import leave_one_out
from movie_genie.evaluation.metrics import evaluate, make_validator, test_set, validation_set
from movie_genie.models.base import Query, Recommender, Refittable, TrainingData
from movie_genie.models.bert4rec import Bert4Rec, Bert4RecConfig
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.ease import Ease, EaseConfig
from movie_genie.models.popularity import Popularity
from movie_genie.models.two_tower import TwoTower, TwoTowerConfig
from movie_genie.training.loop import align_embeddings, training_data_from_frames

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "models.json"
# The known answers' lambdas (tests/evaluation/test_known_answers.py).
EASE_LAMBDA = {"ml-100k": 500.0, "ml-latest-small": 50.0}


def _shared(dataset: str) -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return (Path(env) if env else ROOT.parent / "shared" / "datasets") / dataset


def load_data(dataset: str, embeddings: Path | None) -> tuple[TrainingData, Any, Any]:
    """TrainingData for `dataset` from the shared MovieLens copy, split leave-one-out by time (min 3 per user)."""
    with Archive(_shared(dataset)) as archive:
        tables = read_movielens(archive)
    split = leave_one_out(tables.ratings, tables.movies["movie_id"], min_interactions=3)
    text = align_embeddings(embeddings, split.id_map) if embeddings is not None else None
    data = training_data_from_frames(split.id_map, split.train, split.valid, tables.movies, tables.users, text)
    return data, validation_set(split.train, split.valid), test_set(split.train, split.valid, split.test)


def latency_ms(model: Recommender, histories: Sequence[list[int]], repeat: int = 3) -> dict[str, float]:
    """p50/p99 of one `recommend(history, k=10)` call, in milliseconds, over the given movie-id histories."""
    for history in histories[:20]:
        model.recommend(Query(history), k=10)  # warm caches (item tables, allocator)
    samples = []
    for _ in range(repeat):
        for history in histories:
            start = time.perf_counter()
            model.recommend(Query(history), k=10)
            samples.append((time.perf_counter() - start) * 1000.0)
    values = np.asarray(samples)
    return {"p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


def bench_dataset(dataset: str, n_users: int, embeddings: Path | None, train_threads: int) -> dict[str, Any]:
    """Train, evaluate and time every model on one data set."""
    params = load_params(ROOT / "params.yaml")
    section = params.section("models")
    data, valid_set, target_set = load_data(dataset, embeddings)
    n_items = data.id_map.n_items
    models: dict[str, Recommender] = {
        "popularity": Popularity(),
        "ease": Ease(EaseConfig(lambdas=(EASE_LAMBDA.get(dataset, 200.0),))),  # refit on train + valid, as reported
        "bert4rec": Bert4Rec(Bert4RecConfig.from_params(section.get("bert4rec"), dataset)),
        "two_tower": TwoTower(TwoTowerConfig.from_params(section.get("two_tower"), dataset)),
    }
    validate = make_validator(data)
    refit_data = with_validation_in_train(data)
    rng = np.random.default_rng(0)
    picked = rng.choice(len(target_set), size=min(n_users, len(target_set)), replace=False)
    histories = [data.id_map.indices_to_items(target_set.histories[int(i)]) for i in picked]
    rows: dict[str, Any] = {}
    default_threads = torch.get_num_threads()
    for name, model in models.items():
        torch.set_num_threads(train_threads or default_threads)  # neural models apply their own torch_threads
        start = time.perf_counter()
        log = model.fit(data, validate)
        fit_seconds = time.perf_counter() - start
        torch.set_num_threads(1)
        valid = evaluate(model, valid_set, n_items, n_bootstrap=0)
        refit_seconds = 0.0
        if isinstance(model, Refittable) and model.refits:
            # As the train stage does: the tuned model is refit (baselines) or fine-tuned (neural) on train + valid.
            torch.set_num_threads(train_threads or default_threads)
            start = time.perf_counter()
            model.refit(refit_data)
            refit_seconds = time.perf_counter() - start
            torch.set_num_threads(1)
        test = evaluate(model, target_set, n_items, n_bootstrap=0)
        seconds = fit_seconds + refit_seconds
        rows[name] = {
            "train_seconds": seconds,
            "fit_seconds": fit_seconds,
            "refit_seconds": refit_seconds,
            "epochs": len(log.epochs),
            "best_valid_ndcg10_during_fit": log.best_valid_ndcg10,
            "valid": {"ndcg10": valid.ndcg10, "hr10": valid.hr10},
            "test": {"ndcg10": test.ndcg10, "hr10": test.hr10},
            "latency": latency_ms(model, histories),
        }
        print(
            f"[{dataset}] {name}: {seconds:.1f} s, valid NDCG@10 {valid.ndcg10:.4f}, test NDCG@10 {test.ndcg10:.4f}",
            flush=True,
        )
    ease_test = rows["ease"]["test"]["ndcg10"]
    pop_p50 = rows["popularity"]["latency"]["p50_ms"]
    for row in rows.values():
        row["test_ndcg10_vs_ease"] = row["test"]["ndcg10"] / ease_test if ease_test else None
        row["p50_vs_popularity"] = row["latency"]["p50_ms"] / pop_p50 if pop_p50 else None
    return {"n_users": len(target_set), "n_items": n_items, "latency_users": len(histories), "models": rows}


def print_table(results: dict[str, Any]) -> None:
    """One line per data set and model."""
    header = (
        f"{'dataset':<16} {'model':<11} {'train s':>8} {'ep':>3} {'valid NDCG':>10} {'valid HR':>8} "
        f"{'test NDCG':>9} {'test HR':>7} {'x EASE':>6} {'p50 ms':>7} {'p99 ms':>7} {'x pop':>6}"
    )
    print(header)
    print("-" * len(header))
    for dataset, block in results["datasets"].items():
        for name, row in block["models"].items():
            print(
                f"{dataset:<16} {name:<11} {row['train_seconds']:>8.1f} {row['epochs']:>3} "
                f"{row['valid']['ndcg10']:>10.4f} {row['valid']['hr10']:>8.4f} {row['test']['ndcg10']:>9.4f} "
                f"{row['test']['hr10']:>7.4f} {row['test_ndcg10_vs_ease']:>6.2f} {row['latency']['p50_ms']:>7.3f} "
                f"{row['latency']['p99_ms']:>7.3f} {row['p50_vs_popularity']:>6.1f}"
            )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["ml-100k"], choices=sorted(EASE_LAMBDA))
    parser.add_argument("--users", type=int, default=300, help="test users whose histories time recommend()")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads while training (0 = each model's torch_threads setting)"
    )
    parser.add_argument(
        "--embeddings",
        nargs="*",
        default=[],
        metavar="DATASET=PATH",
        help="embeddings.npz per data set (item text feature), e.g. ml-100k=artifacts/embeddings/embeddings.npz",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "load_average_start": list(os.getloadavg()),
        "train_threads": args.threads,
        "latency_threads": 1,
        "datasets": {},
    }
    embeddings = dict(item.split("=", 1) for item in args.embeddings)
    for dataset in args.datasets:
        path = Path(embeddings[dataset]) if dataset in embeddings else None
        results["datasets"][dataset] = bench_dataset(dataset, args.users, path, args.threads)
        results["datasets"][dataset]["text_embeddings"] = str(path) if path else None
    results["load_average_end"] = list(os.getloadavg())
    print_table(results)
    print(f"load average (1/5/15 min) at start {results['load_average_start']}, end {results['load_average_end']}")
    write_json(args.output, results)


if __name__ == "__main__":
    main()
