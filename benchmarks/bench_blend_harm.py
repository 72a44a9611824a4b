"""Dislike-aware hybrid blend: does tuning the hybrid's weights against harm cut it, without retraining a component?

Today the train stage tunes the hybrid's blend weights on validation liked-next NDCG@10 (training/loop.py). Here,
for each harm weight w, the hybrid (its params file's config) is tuned the same way — on the components trained on
training rows only (`<models>/tuning/`, or the saved model where none was refit) — but on the objective
liked-next NDCG@10 - w x disliked-next HR@10 over the validation users, then blends the final components (`<models>`)
and is evaluated on test: next-item NDCG@10, liked-next NDCG@10 and HR@10, disliked-next HR@10 and the
disliked / liked ratio. The blend search itself is deterministic; what varies between seeds is the components.

Seeds: one params file per training seed (`--params a.yaml b.yaml c.yaml`), each naming the artifacts folder its
components were trained into with `movie-genie --params <file> train`; the output records each file's model seeds.
A seed's file is params.yaml with every model's `seed` + offset (as benchmarks/bench_liking.py moves them) and its
own `paths.artifacts_dir` (EASE and popularity have no seed: their checkpoints can be linked from the first).
The table shows mean ± sd over seeds; the paired comparisons against the first harm weight (today's objective)
average each user's values over the seeds first (the hybrid "on the mean"), then bootstrap the per-user difference.
A weight meets the issue's goals when, on the seed means: liked-next NDCG@10 is not lower than at the first weight
(and its paired interval not wholly below 0), disliked / liked HR@10 is at most 0.4, and next-item NDCG@10 falls by
at most 5% relative.

Needs the data/ and trained models of each params file (`make pipeline`, or `movie-genie --params <file> train`).
Run: .venv/bin/python -m benchmarks.bench_blend_harm [--params params.yaml ...] [--harm-weights 0 0.25 0.5 1 2]
Prints a table and writes benchmarks/results/blend_harm.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.output import write_json
from movie_genie.config import Layout, Params, load_params
from movie_genie.data.split import dataset_name
from movie_genie.evaluation.metrics import (
    CUTOFF,
    EvalSet,
    EvaluationParams,
    paired_difference_ci,
    per_user_metrics,
    rank_targets,
    training_test_set,
    training_validation_set,
)
from movie_genie.models.base import Recommender
from movie_genie.models.catalogue import HYBRID
from movie_genie.models.hybrid import Hybrid
from movie_genie.models.registry import checkpoint_path, model_class
from movie_genie.training.loop import TUNING_DIR, build_model, load_training_data

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "blend_harm.json"
FIGURES = ("ndcg10", "liked_ndcg10", "liked_hr10", "disliked_hr10")
PAIRED = ("ndcg10", "liked_ndcg10", "disliked_hr10")


def harm_aware_validator(liked: EvalSet, disliked: EvalSet, n_items: int, harm_weight: float, batch: int) -> Any:
    """Validation liked-next NDCG@10 minus `harm_weight` x disliked-next HR@10 (the trained models' own rule for
    ranks and ties: evaluation/metrics.py)."""

    def mean(model: Recommender, users: EvalSet, figure: str) -> float:
        ranks, _ = rank_targets(model, users, n_items, CUTOFF, batch)
        return float(per_user_metrics(ranks)[figure].mean())

    def validate(model: Recommender) -> float:
        score = mean(model, liked, "ndcg10")
        return score - harm_weight * mean(model, disliked, "hr10") if harm_weight else score

    return validate


def components(hybrid: Hybrid, models_dir: Path) -> tuple[dict[str, Recommender], dict[str, Recommender]]:
    """The hybrid's components as the blend is tuned on them (training rows only) and as finally served."""
    tuning: dict[str, Recommender] = {}
    final: dict[str, Recommender] = {}
    for name in hybrid.component_names():
        cls = model_class(name)
        final[name] = cls.load(checkpoint_path(models_dir, name))
        phase1 = checkpoint_path(models_dir / TUNING_DIR, name)
        tuning[name] = cls.load(phase1) if phase1.is_file() else final[name]
    return tuning, final


def model_seeds(params: Params) -> dict[str, int]:
    """The `seed` of every model section that has one (what differs between the params files of a seed check)."""
    models = params.section("models")
    return {
        name: int(values["seed"]) for name, values in models.items() if isinstance(values, dict) and "seed" in values
    }


def run_seed(params_file: Path, harm_weights: Sequence[float]) -> dict[str, Any]:
    """Tune and evaluate the hybrid once per harm weight on one params file's trained components: test figures,
    learned weights and per-user values."""
    params = load_params(params_file)
    settings = EvaluationParams.from_params(params)
    layout = Layout(ROOT / params.paths.data_dir, ROOT / params.paths.artifacts_dir)
    dataset = dataset_name(params, layout)
    data, test = load_training_data(layout)
    n_items = data.id_map.n_items
    valid = training_validation_set(data)
    # The liked users exactly as the train stage's validator samples them (make_validator); every disliked one.
    liked = valid.liked().sample(settings.validation_users, settings.seed)
    disliked = valid.subset(np.flatnonzero(valid.groups()["disliked"]))
    users = training_test_set(data, test)
    template = build_model(HYBRID.name, params.section("models"), dataset)
    assert isinstance(template, Hybrid)
    tuning, final = components(template, layout.models_dir)
    out: dict[str, Any] = {
        "params": params_file.name,
        "dataset": dataset,
        "seeds": model_seeds(params),
        "validation_users": {"liked": len(liked), "disliked": len(disliked)},
        "runs": {},
        "per_user": {},
    }
    for weight in harm_weights:
        hybrid = build_model(HYBRID.name, params.section("models"), dataset)
        assert isinstance(hybrid, Hybrid)
        hybrid.replace_components(tuning)
        hybrid.fit(data, harm_aware_validator(liked, disliked, n_items, weight, settings.batch_size))
        hybrid.replace_components(final)
        report = settings.evaluate(hybrid, users, n_items)
        figures = {f: float(getattr(report, f)) for f in FIGURES}
        figures["ratio"] = figures["disliked_hr10"] / max(figures["liked_hr10"], 1e-12)
        out["runs"][str(weight)] = {**figures, **hybrid.learned()}
        out["per_user"][str(weight)] = {f: report.per_user[f] for f in PAIRED}
        print(f"{params_file.name} harm weight {weight}: {figures} weights {hybrid.weights}", flush=True)
    return out


def summarise(seeds: list[dict[str, Any]], harm_weights: Sequence[float], resamples: int) -> dict[str, Any]:
    """Per harm weight: mean ± sd over seeds, the paired differences against the first weight on the seed-averaged
    per-user values, and whether the issue's three goals hold."""
    weights = [str(w) for w in harm_weights]
    summary: dict[str, Any] = {}
    for weight in weights:
        row: dict[str, Any] = {}
        for figure in (*FIGURES, "ratio"):
            values = np.array([s["runs"][weight][figure] for s in seeds], dtype=np.float64)
            sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            row[figure] = {"mean": float(values.mean()), "sd": sd, "per_seed": values.tolist()}
        # The goal's ratio is of the figures on the mean, not the mean of the ratios.
        row["ratio_of_means"] = row["disliked_hr10"]["mean"] / max(row["liked_hr10"]["mean"], 1e-12)
        summary[weight] = row
    base = weights[0]
    for weight in weights[1:]:
        paired: dict[str, Any] = {}
        for figure in PAIRED:
            mean = np.mean([s["per_user"][weight][figure] for s in seeds], axis=0)
            first = np.mean([s["per_user"][base][figure] for s in seeds], axis=0)
            difference, low, high = paired_difference_ci(mean, first, resamples, 0)
            paired[figure] = {"difference": difference, "low": low, "high": high}
        summary[weight]["paired_vs_first"] = paired
    for weight in weights:
        row, first = summary[weight], summary[base]
        liked = row.get("paired_vs_first", {}).get("liked_ndcg10", {"difference": 0.0, "high": 0.0})
        summary[weight]["goals"] = {
            "liked_next_not_lower": liked["difference"] >= 0 and liked["high"] >= 0,
            "harm_ratio_at_most_0.4": row["ratio_of_means"] <= 0.4,
            "next_item_within_5pct": row["ndcg10"]["mean"] >= 0.95 * first["ndcg10"]["mean"],
        }
    return summary


def table(result: dict[str, Any]) -> str:
    """Markdown: the test figures per harm weight (mean ± sd over seeds), then the paired differences against the
    first weight and the goals."""
    lines = [
        f"seeds: {len(result['seeds'])} ({'; '.join(str(s) for s in result['seeds'])})",
        "",
        "| harm weight | next NDCG@10 | liked-next NDCG@10 | liked-next HR@10 | disliked-next HR@10 "
        "| disliked / liked (of the means) |",
        "|---|---|---|---|---|---|",
    ]
    for weight, r in result["summary"].items():
        cells = [f"{r[f]['mean']:.4f} ± {r[f]['sd']:.4f}" for f in FIGURES]
        lines.append(f"| {weight} | " + " | ".join(cells) + f" | {r['ratio_of_means']:.2f} |")
    lines += [
        "",
        "| harm weight | minus first: next NDCG@10 | liked-next NDCG@10 | disliked-next HR@10 | goals met |",
        "|---|---|---|---|---|",
    ]
    for weight, r in result["summary"].items():
        if "paired_vs_first" not in r:
            continue
        pairs = r["paired_vs_first"]
        cells = [f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]" for d in (pairs[f] for f in PAIRED)]
        met = ", ".join(goal for goal, ok in r["goals"].items() if ok) or "none"
        lines.append(f"| {weight} | " + " | ".join(cells) + f" | {met} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark over every params file (one per seed), print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--params", type=Path, nargs="+", default=[ROOT / "params.yaml"], help="one per seed: its models and data"
    )
    parser.add_argument("--harm-weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seeds = [run_seed(path, args.harm_weights) for path in args.params]
    resamples = EvaluationParams.from_params(load_params(args.params[0])).bootstrap_resamples
    result: dict[str, Any] = {
        "command": "python -m benchmarks.bench_blend_harm " + " ".join(sys.argv[1:] if argv is None else argv),
        "dataset": seeds[0]["dataset"],
        "validation_users": seeds[0]["validation_users"],
        "seeds": [s["seeds"] for s in seeds],
        "summary": summarise(seeds, args.harm_weights, resamples),
        "per_seed": [{k: v for k, v in s.items() if k != "per_user"} for s in seeds],
    }
    print(table(result))
    write_json(args.output, result)


if __name__ == "__main__":
    main()
