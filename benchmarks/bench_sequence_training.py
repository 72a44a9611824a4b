"""Sequence-model training benchmark: SASRec and BERT4Rec, today's budget against the faster one, in the same run.

For each model, two trainings on the pipeline's split (data/split, data/processed, artifacts/embeddings: run
`dvc repro split embed` first) with the same seed, one after the other:
- **before**: the training budget and loss path the project had before the faster-training change (`BEFORE`
  below: its epochs, refit epochs and threads, and the loss through autograd over the whole (M, n_items) logits);
- **after**: params.yaml as it is now, with the chunked loss of `sequences.full_softmax_loss`.

Each training is what the train stage does (training/loop.py): fit with early stopping on validation, the full
validation figures of the fitted model, then the refit on train + validation and the test figures of the refit
model. Time is fit + refit, as wall seconds and as the process's CPU seconds (on a shared machine the wall time
depends on the load, recorded beside each run; CPU seconds of a one-thread run depend on it far less). Quality is
compared on the same users: the paired bootstrap 95% interval of after − before, per user, for validation
NDCG@10 / HR@10 and test NDCG@10 / HR@10 (evaluation.seed resamples; the models' own seeds are in params.yaml).

Run: .venv/bin/python benchmarks/bench_sequence_training.py [--models sasrec bert4rec] [--params params.yaml]
     [--threads N] [--budgets before after]
Prints a table and writes benchmarks/results/sequence_training.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)

from benchmarks.output import print_header, write_json
from movie_genie.config import Layout, load_params
from movie_genie.data.split import dataset_name
from movie_genie.evaluation.metrics import (
    EvaluationParams,
    MetricReport,
    make_validator,
    paired_difference_ci,
    training_test_set,
    training_validation_set,
)
from movie_genie.models.base import TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.sasrec import SasRec
from movie_genie.models.seeding import seed_everything
from movie_genie.models.transformer import SequenceRecommender
from movie_genie.training.loop import load_training_data

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sequence_training.json"

# The ml-latest-small values params.yaml had before the faster-training change, applied over today's params.
BEFORE: dict[str, dict[str, Any]] = {
    "sasrec": {"max_windows": None, "max_epochs": 10, "eval_every": 2, "patience": 3, "refit_epochs": 2},
    "bert4rec": {"max_windows": None, "max_epochs": 45, "eval_every": 3, "patience": 5, "refit_epochs": 3},
}


class AutogradLoss(SequenceRecommender):
    """The loss as it was computed before: autograd over the whole (M, n_items) logits matrix (full softmax only)."""

    def _catalogue_loss(
        self,
        inputs: torch.Tensor,
        positions: torch.Tensor,
        items: torch.Tensor,
        generator: torch.Generator,
        avoid: torch.Tensor | None = None,
        avoid_weight: float = 0.0,
    ) -> torch.Tensor:
        net, _ = self._require()
        table = net.item_table()
        logits = net.logits(net.encode(inputs, table)[positions], table)  # (M, n_items)
        loss = F.cross_entropy(logits, items)
        if avoid is not None and avoid_weight > 0 and bool(avoid.ge(0).any()):
            rows = avoid.ge(0)
            log_p = F.log_softmax(logits[rows], dim=-1).gather(1, avoid[rows][:, None]).squeeze(1)
            loss = loss + avoid_weight * -torch.log((-torch.expm1(log_p)).clamp(min=1e-6)).mean()
        return loss


class SasRecBefore(AutogradLoss, SasRec):
    """SASRec with the loss path of before."""


class Bert4RecBefore(AutogradLoss, Bert4Rec):
    """BERT4Rec with the loss path of before."""


MODELS: dict[str, tuple[type[SequenceRecommender], type[SequenceRecommender]]] = {
    "sasrec": (SasRecBefore, SasRec),
    "bert4rec": (Bert4RecBefore, Bert4Rec),
}


def train_once(model: SequenceRecommender, data: TrainingData, test: Any, settings: EvaluationParams) -> dict[str, Any]:
    """Fit (early-stopped on validation), evaluate validation, refit on train + validation, evaluate test."""
    n_items = data.id_map.n_items
    validate = make_validator(data, settings.validation_users, settings.seed, settings.batch_size)
    load_start = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    seed_everything(settings.seed)
    log = model.fit(data, validate)
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    valid = settings.evaluate(model, training_validation_set(data), n_items)
    wall, cpu = time.perf_counter(), time.process_time()
    seed_everything(settings.seed)
    model.refit(with_validation_in_train(data))
    refit_wall, refit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    test_report = settings.evaluate(model, training_test_set(data, test), n_items)
    return {
        "config": {k: v for k, v in model.config.to_dict().items() if k != "progress"},
        "seconds": fit_wall + refit_wall,
        "cpu_seconds": fit_cpu + refit_cpu,
        "fit_seconds": fit_wall,
        "refit_seconds": refit_wall,
        "load_average": [list(load_start), list(os.getloadavg())],
        "epochs": log.epochs,
        "best_valid_liked_ndcg10": log.best_valid_ndcg10,
        "valid": valid,
        "test": test_report,
    }


def paired(after: MetricReport, before: MetricReport, metric: str, settings: EvaluationParams) -> dict[str, float]:
    """Mean of after − before per user on `metric` and its paired bootstrap 95% interval."""
    mean, low, high = paired_difference_ci(
        after.per_user[metric], before.per_user[metric], settings.bootstrap_resamples, settings.seed
    )
    return {"mean": mean, "low": low, "high": high}


def main(argv: list[str] | None = None) -> None:
    """Train each model with the budget of before and of now, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for both budgets instead of params.yaml's (1 on a busy machine: two threads that share "
        "a core with other work wait on each other)",
    )
    parser.add_argument(
        "--budgets", nargs="+", default=["before", "after"], choices=["before", "after"], help="trainings to run"
    )
    args = parser.parse_args(argv)

    params = load_params(args.params)
    layout = Layout.from_params(params)
    settings = EvaluationParams.from_params(params)
    dataset = dataset_name(params, layout)
    data, test = load_training_data(layout)
    section = params.section("models")
    results: dict[str, Any] = {
        "dataset": dataset,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "torch": torch.__version__,
        "evaluation_seed": settings.seed,
        "models": {},
    }
    header = (
        f"{'model':<9} {'budget':<7} {'wall s':>7} {'cpu s':>7} {'load':>10} {'epochs':>6} "
        f"{'valid NDCG@10':>13} {'valid HR@10':>11} {'test NDCG@10':>12} {'test HR@10':>10}"
    )
    rows: list[str] = []
    for name in args.models:
        before_class, after_class = MODELS[name]
        after_config = after_class.config_class.from_params(section.get(name) or {}, dataset)
        if args.threads is not None:
            after_config = after_config.changed(torch_threads=args.threads)
        configs = {"before": after_config.changed(**BEFORE[name]), "after": after_config}
        runs = {}
        for budget, cls in (("before", before_class), ("after", after_class)):
            if budget not in args.budgets:
                continue
            print(f"{name} ({budget}) ...", flush=True)
            runs[budget] = train_once(cls(configs[budget]), data, test, settings)
            run = runs[budget]
            load = "/".join(f"{value:.1f}" for value in (run["load_average"][0][0], run["load_average"][1][0]))
            rows.append(
                f"{name:<9} {budget:<7} {run['seconds']:>7.1f} {run['cpu_seconds']:>7.1f} {load:>10} "
                f"{len(run['epochs']):>6} {run['valid'].ndcg10:>13.4f} {run['valid'].hr10:>11.4f} "
                f"{run['test'].ndcg10:>12.4f} {run['test'].hr10:>10.4f}"
            )
            print(rows[-1], flush=True)  # a long run shows each result as it comes
        entry: dict[str, Any] = {"seed": after_config.seed}
        if len(runs) == 2:
            entry["speedup_wall"] = runs["before"]["seconds"] / runs["after"]["seconds"]
            entry["speedup_cpu"] = runs["before"]["cpu_seconds"] / runs["after"]["cpu_seconds"]
            entry["after_minus_before"] = {
                f"{split}_{metric}": paired(runs["after"][split], runs["before"][split], metric, settings)
                for split in ("valid", "test")
                for metric in ("ndcg10", "hr10")
            }
        for budget, run in runs.items():
            entry[budget] = {**run, "valid": run["valid"].to_dict(), "test": run["test"].to_dict()}
        results["models"][name] = entry
    print()
    print_header(header)
    print("\n".join(rows))
    print()
    for name, result in results["models"].items():
        if "after_minus_before" not in result:
            continue
        diffs = ", ".join(
            f"{key} {d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
            for key, d in result["after_minus_before"].items()
        )
        print(
            f"{name}: {result['speedup_wall']:.2f}x faster (wall), {result['speedup_cpu']:.2f}x (CPU); "
            f"after - before per user (paired 95% interval): {diffs}"
        )
    write_json(args.output, results)


if __name__ == "__main__":
    main()
