"""Dislike-aware hybrid blend: does tuning the hybrid's weights against harm cut it, without retraining a component?

Today the train stage tunes the hybrid's blend weights on validation liked-next NDCG@10 (training/loop.py). Here,
for each harm weight w, the hybrid (params.yaml's config) is tuned the same way — on the components trained on
training rows only (`<models>/tuning/`, or the saved model where none was refit) — but on the objective
liked-next NDCG@10 - w x disliked-next HR@10 over the validation users, then blends the final components (`<models>`)
and is evaluated on test: next-item NDCG@10, liked-next NDCG@10 and HR@10, disliked-next HR@10 and the
disliked / liked ratio (the goal: at most 0.4), with paired 95% intervals against w = 0 (today's objective). The
components are one training (the pipeline's seed); the blend search itself is deterministic.

Needs the pipeline's data/ and artifacts/ (`make pipeline`). Run:
.venv/bin/python -m benchmarks.bench_blend_harm [--models artifacts/models] [--harm-weights 0 0.25 0.5 1 2]
Prints a table and writes benchmarks/results/blend_harm.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from movie_genie.config import Layout, load_params
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


def run(params_file: Path, models_dir: Path, harm_weights: Sequence[float]) -> dict[str, Any]:
    """Tune and evaluate the hybrid once per harm weight; test figures, weights and paired differences vs w = 0."""
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
    tuning, final = components(template, models_dir)
    out: dict[str, Any] = {"dataset": dataset, "validation_users": {"liked": len(liked), "disliked": len(disliked)}}
    per_user: dict[float, dict[str, np.ndarray]] = {}
    for weight in harm_weights:
        hybrid = build_model(HYBRID.name, params.section("models"), dataset)
        assert isinstance(hybrid, Hybrid)
        hybrid.replace_components(tuning)
        hybrid.fit(data, harm_aware_validator(liked, disliked, n_items, weight, settings.batch_size))
        hybrid.replace_components(final)
        report = settings.evaluate(hybrid, users, n_items)
        figures = {f: float(getattr(report, f)) for f in FIGURES}
        figures["ratio"] = figures["disliked_hr10"] / max(figures["liked_hr10"], 1e-12)
        out.setdefault("runs", {})[str(weight)] = {**figures, **hybrid.learned()}
        per_user[weight] = {f: report.per_user[f] for f in PAIRED}
        print(f"harm weight {weight}: {figures} weights {hybrid.weights}", flush=True)
    base = harm_weights[0]
    for weight in harm_weights[1:]:
        out.setdefault("paired_vs_first", {})[str(weight)] = {
            f: dict(
                zip(
                    ("difference", "low", "high"),
                    paired_difference_ci(per_user[weight][f], per_user[base][f], settings.bootstrap_resamples, 0),
                    strict=True,
                )
            )
            for f in PAIRED
        }
    return out


def table(result: dict[str, Any]) -> str:
    """Markdown: the test figures per harm weight, then the paired differences against the first."""
    lines = [
        "| harm weight | next NDCG@10 | liked-next NDCG@10 | liked-next HR@10 | disliked-next HR@10 "
        "| disliked / liked |",
        "|---|---|---|---|---|---|",
    ]
    for weight, r in result["runs"].items():
        lines.append(
            f"| {weight} | {r['ndcg10']:.4f} | {r['liked_ndcg10']:.4f} | {r['liked_hr10']:.3f} | "
            f"{r['disliked_hr10']:.3f} | {r['ratio']:.2f} |"
        )
    lines += [
        "",
        "| harm weight | minus first: next NDCG@10 | liked-next NDCG@10 | disliked-next HR@10 |",
        "|---|---|---|---|",
    ]
    for weight, figures in result.get("paired_vs_first", {}).items():
        cells = [f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]" for d in (figures[f] for f in PAIRED)]
        lines.append(f"| {weight} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml", help="its paths say where data/ is")
    parser.add_argument("--models", type=Path, default=ROOT / "artifacts" / "models")
    parser.add_argument("--harm-weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.params, args.models, args.harm_weights)
    result["command"] = "python -m benchmarks.bench_blend_harm " + " ".join(sys.argv[1:] if argv is None else argv)
    print(table(result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
