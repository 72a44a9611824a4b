"""Train one RecBole sequential model on exported leave-one-out files within a wall-clock budget (peer benchmark).

Runs inside the peer's own virtual environment (recbole_peer.py creates it and starts this file with its Python);
it imports RecBole, never movie_genie. The data folder holds RecBole atomic files of the project's split, pre-split
with `benchmark_filename` (train rows are every prefix of each user's training items -> the next item, as RecBole's
own sequential augmentation builds them; valid/test rows are one per user) and histories.json, each evaluated
user's full history, so the target can be ranked as the project does (history items removed).

The search: every (dropout, learning rate) pair trains for an equal share of half the budget, then the best by
validation NDCG@10 goes on training for the other half (successive halving). Validation runs every `eval_every_s`
seconds of a run and at the end of each slice; the clock counts training and validation. The best weights seen are
evaluated once on test, with the project's protocol and with RecBole's own evaluator.

Run: <peer venv>/bin/python recbole_runner.py --data DIR --model SASRec --budget-s 900 --output result.json
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_seed

DATASET = "loo"  # the atomic files' base name: loo.train.inter, loo.valid.inter, loo.test.inter, loo.item
CUTOFF = 10


def recbole_config(model: str, data: Path, work: Path, batch_size: int, seed: int) -> Config:
    """RecBole's defaults for `model`, on the exported split, on the CPU, with a cross-entropy over all items."""
    return Config(
        model=model,
        dataset=DATASET,
        config_dict={
            "data_path": str(data),
            "checkpoint_dir": str(work / "saved"),
            "benchmark_filename": ["train", "valid", "test"],
            # The history lists use the item id space.
            "alias_of_item_id": ["item_id_list"],
            "load_col": {"inter": ["user_id", "item_id_list", "item_id"], "item": ["item_id"]},
            "MAX_ITEM_LIST_LENGTH": 50,
            "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "TO", "group_by": "user", "mode": "full"},
            "train_neg_sample_args": None,  # loss_type CE: a softmax over the whole catalogue
            "loss_type": "CE",
            "metrics": ["NDCG", "Hit"],
            "topk": [CUTOFF],
            "valid_metric": "NDCG@10",
            "train_batch_size": batch_size,
            "use_gpu": False,
            "seed": seed,
            "show_progress": False,
            "state": "WARNING",
        },
    )


class Ranker:
    """Ranks each row's target against all items the project's way: history items removed, ties never hurt."""

    def __init__(self, dataset: Any, histories: dict[str, list[str]]) -> None:
        self.feat = dataset.inter_feat
        users = dataset.id2token("user_id", self.feat["user_id"].numpy())
        # (row, item) pairs of every row's full history, in RecBole's internal item ids.
        rows, cols = [], []
        for row, user in enumerate(users):
            items = dataset.token2id("item_id", histories[str(user)])
            rows.extend([row] * len(items))
            cols.extend(int(i) for i in items)
        self.seen_rows = torch.tensor(rows, dtype=torch.long)
        self.seen_cols = torch.tensor(cols, dtype=torch.long)

    def ndcg10(self, model: torch.nn.Module, exclude_history: bool = True, batch: int = 512) -> float:
        """Mean NDCG@10 over the rows; `exclude_history=False` ranks against every item (RecBole's way)."""
        model.eval()
        gains = []
        with torch.no_grad():
            for start in range(0, len(self.feat), batch):
                inter = self.feat[start : start + batch]
                scores = model.full_sort_predict(inter).view(len(inter), -1)  # (B, n_items + 1); id 0 = padding
                scores[:, 0] = -math.inf
                rows = torch.arange(len(inter))
                targets = inter["item_id"]
                target_scores = scores[rows, targets].clone()
                if exclude_history:
                    pick = (self.seen_rows >= start) & (self.seen_rows < start + len(inter))
                    scores[self.seen_rows[pick] - start, self.seen_cols[pick]] = -math.inf
                    scores[rows, targets] = target_scores  # a re-watched target stays rankable
                ranks = (scores > target_scores[:, None]).sum(dim=1)
                gains.append(torch.where(ranks < CUTOFF, 1.0 / torch.log2(ranks + 2.0), torch.zeros(())))
        model.train()
        return float(torch.cat(gains).mean())


class Run:
    """One (dropout, lr) configuration: its model, optimizer, batch stream, clock and validation curve."""

    def __init__(self, config: Config, train_data: Any, dropout: float, lr: float, seed: int) -> None:
        config["hidden_dropout_prob"] = dropout
        config["attn_dropout_prob"] = dropout
        config["learning_rate"] = lr
        init_seed(seed, True)
        self.dropout, self.lr = dropout, lr
        self.model = get_model(config["model"])(config, train_data._dataset)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)  # RecBole's default learner, no decay
        self.batches = self._stream(train_data)
        self.seconds = 0.0  # training + validation time of this configuration
        self.steps = 0
        self.rows = 0
        self.rows_per_epoch = len(train_data._dataset)
        self.curve: list[dict[str, float]] = []
        self.best = -1.0
        self.best_state: dict[str, torch.Tensor] | None = None

    @staticmethod
    def _stream(loader: Any) -> Iterator[Any]:
        """Batches forever, reshuffled each epoch."""
        for _ in itertools.count():
            yield from loader

    def train_for(self, seconds: float, ranker: Ranker, eval_every_s: float, search_clock: list[float]) -> None:
        """Train for about `seconds` (whole steps), validating every `eval_every_s` and at the end."""
        self.model.train()
        stop = time.perf_counter() + seconds
        next_eval = time.perf_counter() + eval_every_s
        while True:
            start = time.perf_counter()
            batch = next(self.batches)
            loss = self.model.calculate_loss(batch)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            self.rows += len(batch)
            now = time.perf_counter()
            self._tick(now - start, search_clock)
            if now >= next_eval or now >= stop:
                self._validate(ranker, search_clock)
                next_eval = time.perf_counter() + eval_every_s
            if now >= stop:
                return

    def _tick(self, seconds: float, search_clock: list[float]) -> None:
        self.seconds += seconds
        search_clock[0] += seconds

    def _validate(self, ranker: Ranker, search_clock: list[float]) -> None:
        start = time.perf_counter()
        score = ranker.ndcg10(self.model)
        self._tick(time.perf_counter() - start, search_clock)
        self.curve.append(
            {
                "seconds": round(self.seconds, 2),
                "search_seconds": round(search_clock[0], 2),
                "epochs": round(self.rows / self.rows_per_epoch, 3),
                "valid_ndcg10": score,
            }
        )
        print(
            f"  dropout {self.dropout} lr {self.lr}: {self.seconds:7.1f} s, "
            f"{self.rows / self.rows_per_epoch:.2f} epochs, valid NDCG@10 {score:.4f}",
            flush=True,
        )
        if score > self.best:
            self.best = score
            self.best_state = copy.deepcopy(self.model.state_dict())


def main() -> None:
    """Search, train, evaluate; write the result JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder holding the loo/ atomic files")
    parser.add_argument("--model", required=True, choices=["SASRec", "BERT4Rec"])
    parser.add_argument("--budget-s", type=float, required=True)
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.2, 0.5])
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--eval-every-s", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # RecBole's Config also reads the command line
    warnings.filterwarnings("ignore")  # RecBole 1.2.1 trips pandas' chained-assignment warnings
    logging.disable(logging.INFO)
    torch.set_num_threads(args.threads)

    work = args.output.parent
    load_start = time.perf_counter()
    config = recbole_config(args.model, args.data, work, args.batch_size, args.seed)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    histories = json.loads((args.data / DATASET / "histories.json").read_text(encoding="utf-8"))
    valid_ranker = Ranker(valid_data._dataset, histories["valid"])
    test_ranker = Ranker(test_data._dataset, histories["test"])
    load_seconds = time.perf_counter() - load_start
    print(
        f"{args.model}: {len(train_data._dataset)} training rows, {dataset.item_num - 1} items, "
        f"{len(valid_data._dataset)} validation users (loaded in {load_seconds:.0f} s)",
        flush=True,
    )

    grid = [(d, lr) for d in args.dropouts for lr in args.lrs]
    runs = [Run(config, train_data, d, lr, args.seed) for d, lr in grid]
    search_clock = [0.0]
    slice_s = args.budget_s / 2 / len(runs)
    for run in runs:
        run.train_for(slice_s, valid_ranker, args.eval_every_s, search_clock)
    winner = max(runs, key=lambda r: r.best)
    if args.budget_s > search_clock[0]:
        winner.train_for(args.budget_s - search_clock[0], valid_ranker, args.eval_every_s, search_clock)

    assert winner.best_state is not None
    winner.model.load_state_dict(winner.best_state)
    best_point = max(winner.curve, key=lambda p: p["valid_ndcg10"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, winner.model)
    recbole_test = trainer.evaluate(test_data, load_best_model=False)
    result = {
        "model": args.model,
        "recbole": "1.2.1",
        "torch": torch.__version__,
        "threads": args.threads,
        "batch_size": args.batch_size,
        "budget_s": args.budget_s,
        "load_seconds": load_seconds,
        "training_rows_per_epoch": len(train_data._dataset),
        "best": {"dropout": winner.dropout, "lr": winner.lr, **best_point},
        "search_seconds": search_clock[0],
        "test_ndcg10": test_ranker.ndcg10(winner.model),
        "test_ndcg10_history_not_excluded": test_ranker.ndcg10(winner.model, exclude_history=False),
        "test_ndcg10_recbole_evaluator": float(recbole_test["ndcg@10"]),
        "runs": [
            {"dropout": r.dropout, "lr": r.lr, "seconds": r.seconds, "steps": r.steps, "curve": r.curve} for r in runs
        ],
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
