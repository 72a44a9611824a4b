"""Peer benchmark: RecBole's SASRec and BERT4Rec against ours, on the same split, machine and run.

RecBole is never a project dependency: this script creates a virtual environment of its own (pinned in
requirements.txt, under benchmarks/peers/.venv, git-ignored) and trains the peer there through recbole_runner.py.
Both sides use the project's leave-one-out split of the data set (built by the project's split code from the shared
MovieLens copy) and the same full-ranking NDCG@10: the target ranked against every item, the user's history removed,
ties never against the target. The peer gets RecBole's model defaults (2 layers, d=64, 50 items, cross-entropy over
all items), one training row per prefix of each user's training items (RecBole's sequential augmentation), batches of
256 (its default 2048 makes a few very slow steps on a CPU), and a search over dropout and learning rate within a
wall-clock budget per model (successive halving: see recbole_runner.py). Ours train with params.yaml's settings for
the data set, early-stop on validation, then fine-tune on train + validation before the test, as the train stage
does; their test NDCG@10 before that fine-tune is reported too (the peer never sees validation rows in training).

Times are wall-clock seconds of training plus validation, on the same number of torch threads for both sides. "To
reach" is when validation NDCG@10 first reached our BERT4Rec's best validation NDCG@10 of this run (the peer's on the
search clock, which counts every configuration it tried).

Run: .venv/bin/python -m benchmarks.peers.recbole_peer --dataset ml-100k --budget-s 900
Prints a table and writes benchmarks/results/peers-<dataset>.json (work files under benchmarks/results/peers/).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.bench_api import print_header
from benchmarks.bench_models import load_data
from movie_genie.config import load_params
from movie_genie.data.idmap import IdMap
from movie_genie.evaluation.metrics import EvalSet, evaluate, make_validator
from movie_genie.models.base import TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.sasrec import SasRec
from movie_genie.models.sequences import user_sequences
from movie_genie.models.transformer import SequenceRecommender

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
RESULTS = ROOT / "benchmarks" / "results"
MAX_LEN = 50  # RecBole's MAX_ITEM_LIST_LENGTH default, and our SASRec/BERT4Rec max_len on ml-100k
PEERS = ("SASRec", "BERT4Rec")


def peer_python(venv_dir: Path = VENV) -> Path:
    """The peer environment's Python, created (or rebuilt when requirements.txt changed) with the pinned packages."""
    python = venv_dir / "bin" / "python"
    stamp = venv_dir / "requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == want:
        return python
    print(f"creating the peer environment in {venv_dir} (downloads torch and recbole)", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    subprocess.run([str(python), "-m", "pip", "install", "--no-input", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(want + "\n", encoding="utf-8")
    return python


# ------------------------------------------------------------------------------------------------ export
def _write(path: Path, header: str, lines: list[str]) -> None:
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _row(user: int, history: Sequence[int], target: int) -> str:
    return f"{user}\t{' '.join(str(i) for i in history[-MAX_LEN:])}\t{target}"


def export_split(data: TrainingData, valid: EvalSet, test: EvalSet, folder: Path) -> None:
    """Write the split as RecBole atomic files (movie and user ids as tokens) plus each eval user's full history.

    Train rows: every prefix of a user's training items -> the next item (what RecBole's augmentation makes of an
    unsplit file). Valid rows: training items -> validation item; test rows: training + validation -> test item.
    """
    id_map: IdMap = data.id_map
    folder.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\titem_id_list:token_seq\titem_id:token"
    items = np.asarray(id_map.item_ids)
    train = []
    for u, seq in enumerate(user_sequences(data.train, id_map.n_users)):
        movies = items[seq].tolist()
        train.extend(_row(id_map.user_ids[u], movies[:t], movies[t]) for t in range(1, len(movies)))
    _write(folder / "loo.train.inter", header, train)
    histories: dict[str, dict[str, list[str]]] = {}
    for name, eval_set in (("valid", valid), ("test", test)):
        users = [id_map.user_ids[int(u)] for u in eval_set.user_idx]
        movie_histories = [items[h].tolist() for h in eval_set.histories]
        targets = items[eval_set.targets].tolist()
        rows = [_row(u, h, t) for u, h, t in zip(users, movie_histories, targets, strict=True)]
        _write(folder / f"loo.{name}.inter", header, rows)
        histories[name] = {str(u): [str(m) for m in h] for u, h in zip(users, movie_histories, strict=True)}
    _write(folder / "loo.item", "item_id:token", [str(m) for m in id_map.item_ids])
    (folder / "histories.json").write_text(json.dumps(histories), encoding="utf-8")


# ------------------------------------------------------------------------------------------------ ours
def train_ours(
    model: SequenceRecommender, data: TrainingData, valid: EvalSet, test: EvalSet, threads: int
) -> dict[str, Any]:
    """Fit with early stopping on validation, fine-tune on train + validation, test; the validation curve in time."""
    n_items = data.id_map.n_items
    model.config = model.config.changed(torch_threads=threads)  # the peer's thread count, whatever params.yaml says
    log = model.fit(data, make_validator(data))
    test_before_refit = evaluate(model, test, n_items, n_bootstrap=0).ndcg10
    start = time.perf_counter()
    model.refit(with_validation_in_train(data))
    refit_seconds = time.perf_counter() - start
    curve = [
        {"seconds": row["seconds"], "epochs": row["epoch"], "valid_ndcg10": row["valid_ndcg10"]}
        for row in log.epochs
        if "valid_ndcg10" in row
    ]
    best = max(curve, key=lambda p: p["valid_ndcg10"])
    return {
        "best": best,
        "fit_seconds": log.seconds,
        "refit_seconds": refit_seconds,
        "test_ndcg10": evaluate(model, test, n_items, n_bootstrap=0).ndcg10,
        "test_ndcg10_before_refit": test_before_refit,
        "curve": curve,
        "config": {k: v for k, v in vars(model.config).items() if k != "progress"},
    }


def run_peer(
    python: Path, model: str, folder: Path, budget_s: float, threads: int, dropouts: list[float], lrs: list[float]
) -> dict[str, Any]:
    """Train one RecBole model in its own environment and read back its result."""
    output = folder.parent / f"{model}.json"
    command = [
        str(python), str(HERE / "recbole_runner.py"), "--data", str(folder.parent), "--model", model,
        "--budget-s", str(budget_s), "--threads", str(threads), "--output", str(output),
        "--dropouts", *map(str, dropouts), "--lrs", *map(str, lrs),
    ]  # fmt: skip
    # RecBole writes log_tensorboard/ and saved/ into the working directory.
    subprocess.run(command, check=True, cwd=folder.parent)
    result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return result


def time_to_reach(curve: list[dict[str, float]], target: float, clock: str = "seconds") -> float | None:
    """Seconds until validation NDCG@10 first reached `target`, or None."""
    return next((p[clock] for p in curve if p["valid_ndcg10"] >= target), None)


def summarise(result: dict[str, Any]) -> None:
    """Add the table rows: each model's best validation, test, time to best, time to reach our BERT4Rec, and for each
    peer how long our model of the same name took to reach the peer's best (and the ratio of the times)."""
    target = result["ours"]["BERT4Rec"]["best"]["valid_ndcg10"]
    result["target_valid_ndcg10"] = target
    rows = []
    for name, ours_row in result["ours"].items():
        rows.append(
            {
                "model": name,
                "side": "ours",
                "valid_ndcg10": ours_row["best"]["valid_ndcg10"],
                "test_ndcg10": ours_row["test_ndcg10"],
                "seconds_to_best": ours_row["best"]["seconds"],
                "seconds_to_reach_target": time_to_reach(ours_row["curve"], target),
                "setting": f"params.yaml; test before refit {ours_row['test_ndcg10_before_refit']:.4f}",
            }
        )
    for name, peer in result["peers"].items():
        best = peer["best"]
        curve = sorted((p for run in peer["runs"] for p in run["curve"]), key=lambda p: p["search_seconds"])
        ours_reach = (
            time_to_reach(result["ours"][name]["curve"], best["valid_ndcg10"]) if name in result["ours"] else None
        )
        rows.append(
            {
                "model": name,
                "side": "peer",
                "valid_ndcg10": best["valid_ndcg10"],
                "test_ndcg10": peer["test_ndcg10"],
                "seconds_to_best": best["search_seconds"],
                "seconds_to_best_own_run": best["seconds"],
                "seconds_to_reach_target": time_to_reach(curve, target, "search_seconds"),
                "ours_seconds_to_reach_peer_best": ours_reach,
                "ours_time_ratio": None if ours_reach is None else ours_reach / best["search_seconds"],
                "setting": f"dropout {best['dropout']}, lr {best['lr']}, {best['epochs']:.2f} epochs",
            }
        )
    result["rows"] = rows


def print_table(result: dict[str, Any]) -> None:
    """One line per model (best validation, test, time to best, time to reach our BERT4Rec), then per peer the time
    our model of the same name took to reach the peer's best."""
    target = result["target_valid_ndcg10"]
    header = (
        f"{'model':<9} {'side':<5} {'valid NDCG@10':>13} {'test NDCG@10':>12} {'time to best s':>14} "
        f"{'to reach ' + format(target, '.4f') + ' s':>18}  setting"
    )
    print_header(header)
    for row in result["rows"]:
        reach = row["seconds_to_reach_target"]
        print(
            f"{row['model']:<9} {row['side']:<5} {row['valid_ndcg10']:>13.4f} {row['test_ndcg10']:>12.4f} "
            f"{row['seconds_to_best']:>14.0f} {('not reached' if reach is None else f'{reach:.0f}'):>18}  "
            f"{row['setting']}"
        )
    print()
    for row in result["rows"]:
        if row["side"] == "peer" and row["ours_seconds_to_reach_peer_best"] is not None:
            print(
                f"our {row['model']} reached the peer's best {row['valid_ndcg10']:.4f} in "
                f"{row['ours_seconds_to_reach_peer_best']:.0f} s: {row['ours_time_ratio']:.2f}x the peer's "
                f"{row['seconds_to_best']:.0f} s ({row['seconds_to_best_own_run']:.0f} s in its best run alone)"
            )


def main(argv: Sequence[str] | None = None) -> None:
    """Build the peer environment, export the split, train ours and the peers, print and write the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "ml-latest-small"])
    parser.add_argument("--budget-s", type=float, default=900.0, help="wall-clock training budget per peer model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every model, ours and the peer's")
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.2, 0.5], help="peer dropout grid")
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3], help="peer learning-rate grid")
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--table", type=Path, default=None, help="print the tables of a written JSON and stop")
    args = parser.parse_args(argv)
    if args.table is not None:
        written = json.loads(args.table.read_text(encoding="utf-8"))
        summarise(written)
        print_table(written)
        return
    output = args.output or RESULTS / f"peers-{args.dataset}.json"
    python = peer_python()

    data, valid, test = load_data(args.dataset, None)
    folder = RESULTS / "peers" / args.dataset / "loo"
    export_split(data, valid, test, folder)
    section = load_params(ROOT / "params.yaml").section("models")
    result: dict[str, Any] = {
        "dataset": args.dataset,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "threads": args.threads,
        "load_average_start": list(os.getloadavg()),
        "ours": {},
        "peers": {},
    }
    ours: dict[str, SequenceRecommender] = {
        "BERT4Rec": Bert4Rec.from_params(section.get("bert4rec"), args.dataset),
        "SASRec": SasRec.from_params(section.get("sasrec"), args.dataset),
    }
    for name, model in ours.items():
        print(f"== ours: {name}", flush=True)
        result["ours"][name] = train_ours(model, data, valid, test, args.threads)
    for name in args.peers:
        print(f"== peer: RecBole {name}, budget {args.budget_s:.0f} s", flush=True)
        result["peers"][name] = run_peer(python, name, folder, args.budget_s, args.threads, args.dropouts, args.lrs)
    result["load_average_end"] = list(os.getloadavg())

    summarise(result)
    print_table(result)
    print(f"load average (1/5/15 min) at start {result['load_average_start']}, end {result['load_average_end']}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main(sys.argv[1:])
