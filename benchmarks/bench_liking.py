"""Liking benchmark: every model trained with several seeds, under today's rule and the one it replaced.

Two protocols on the same leave-one-out split and the same test users:
- `liking` (the pipeline's): a rating of 2★ or less is a dislike, never model input (data/liking.py); early
  stopping, EASE's lambda and the hybrid's blend are tuned on validation liked-next NDCG@10;
- `every-rating` (before): every rating is an interaction (the frames go in without their stars) and tuning is on
  next-item NDCG@10.
Every model is trained as the train stage trains it (`train_models`, params.yaml with the data set's overrides),
once per seed (the neural models' and the hybrid's `seed` + 0, 1, 2, ...), and evaluated on test: next-item
NDCG@10, liked-next NDCG@10 and HR@10, disliked-next HR@10.
The table shows mean ± sd over seeds; the paired comparisons average each user's values over the seeds first (the
model "on the mean"), then bootstrap the per-user difference.

Run: .venv/bin/python -m benchmarks.bench_liking [--datasets ml-latest-small ml-100k] [--seeds 3]
`--before DIR` evaluates a models folder instead of training the every-rating protocol: the committed result used
the pipeline's checkpoints from the commit before the liking rule (`git worktree add ../before <that commit>`,
`make pipeline` there, then `--before ../before/artifacts/models`); their training is deterministic, so they equal
the every-rating protocol's first seed.
Prints a table and writes benchmarks/results/liking.json (and docs/results/liking.json, rendered in the docs).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_models import _shared
from movie_genie.config import Layout, load_params
from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.split import dataset_name, leave_one_out
from movie_genie.evaluation.metrics import (
    EvaluationParams,
    MetricReport,
    paired_difference_ci,
    test_set,
)
from movie_genie.models.registry import load_models
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.training.loop import align_embeddings, train_models, training_data_from_frames

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "liking.json"
DOCS_RESULTS = ROOT / "docs" / "results" / "liking.json"
VARIANTS = ("liking", "every-rating")
FIGURES = ("ndcg10", "liked_ndcg10", "liked_hr10", "disliked_hr10")
PAIRED = ("ndcg10", "liked_ndcg10", "disliked_hr10")  # per-user figures compared on the same users


def _seeded(models_section: dict[str, Any], offset: int) -> dict[str, Any]:
    """The models section with every `seed` moved by `offset` (per-data-set overrides too)."""
    section = copy.deepcopy(models_section)
    for values in section.values():
        if isinstance(values, dict) and "seed" in values:
            values["seed"] = int(values["seed"]) + offset
    return section


def run_variant(
    dataset: str, variant: str, seeds: int, embed: bool, echo: Any, checkpoints: Path | None = None
) -> dict[str, Any]:
    """Train every model `seeds` times under `variant`; per model, per seed: the test figures and per-user values.
    `embed`: use the pipeline's text embeddings (artifacts/embeddings, built for this data set). `checkpoints`: a
    folder of models already trained under `variant` (one seed), evaluated instead of training."""
    params = load_params(ROOT / "params.yaml")
    settings = EvaluationParams.from_params(params)
    with Archive(_shared(dataset)) as archive:
        tables = read_movielens(archive)
    split = leave_one_out(tables.ratings, tables.movies["movie_id"], params.split.min_interactions)
    train, valid = split.train, split.valid
    if variant == "every-rating":  # no stars: no rating is a dislike, and tuning falls back to next-item
        train, valid = train.drop(columns="rating"), valid.drop(columns="rating")
    embeddings = Layout(ROOT / params.paths.data_dir, ROOT / params.paths.artifacts_dir).embeddings_dir
    text = align_embeddings(embeddings / EMBEDDINGS_FILE, split.id_map) if embed else None
    data = training_data_from_frames(split.id_map, train, valid, tables.movies, tables.users, text)
    # The test users and their held-out film's rating are the same in both variants; only the input differs.
    users = test_set(train, valid, split.test)
    runs: dict[str, list[dict[str, Any]]] = {}
    for offset in range(1 if checkpoints else seeds):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            if checkpoints is None:
                section = _seeded(params.section("models"), offset)
                train_models(data, section, Path(tmp), settings, echo=echo, dataset=dataset)
            models = load_models(checkpoints or Path(tmp))
            for name, model in models.items():
                report: MetricReport = settings.evaluate(model, users, split.id_map.n_items)
                runs.setdefault(name, []).append(
                    {
                        "seed_offset": offset,
                        **{f: getattr(report, f) for f in FIGURES},
                        "per_user": {f: report.per_user[f] for f in PAIRED},
                    }
                )
            echo(f"{dataset} {variant} seed +{offset}: {time.perf_counter() - start:.0f} s")
    return runs


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Mean and sample sd over seeds of each figure, per model."""
    out: dict[str, Any] = {}
    for name, seeds in runs.items():
        out[name] = {"seeds": len(seeds)}
        for figure in FIGURES:
            values = np.array([s[figure] for s in seeds], dtype=np.float64)
            out[name][figure] = {
                "mean": float(values.mean()),
                "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "per_seed": values.tolist(),
            }
    return out


def paired(
    after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]], resamples: int, seed: int
) -> dict[str, Any]:
    """Per model: liking minus every-rating on the seed-averaged per-user values, with paired 95% intervals."""
    out: dict[str, Any] = {}
    for name in after:
        if name not in before:
            continue
        out[name] = {}
        for figure in PAIRED:
            mean_after = np.mean([s["per_user"][figure] for s in after[name]], axis=0)
            mean_before = np.mean([s["per_user"][figure] for s in before[name]], axis=0)
            difference, low, high = paired_difference_ci(mean_after, mean_before, resamples, seed)
            out[name][figure] = {"difference": difference, "ci": [low, high]}
    return out


def table(results: dict[str, Any]) -> str:
    """Markdown: one row per data set, variant and model (mean ± sd over seeds), then the paired differences."""
    lines = [
        "| data set | protocol | model | seeds | next NDCG@10 | liked-next NDCG@10 | liked-next HR@10 "
        "| disliked-next HR@10 | disliked / liked |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, per_variant in results["datasets"].items():
        for variant in VARIANTS:
            for name, figures in per_variant.get(variant, {}).get("summary", {}).items():
                cells = [f"{figures[f]['mean']:.4f} ± {figures[f]['sd']:.4f}" for f in FIGURES]
                ratio = figures["disliked_hr10"]["mean"] / max(figures["liked_hr10"]["mean"], 1e-12)
                cells.append(f"{ratio:.2f}")
                lines.append(f"| {dataset} | {variant} | {name} | {figures['seeds']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| data set | model | liking minus every-rating: next NDCG@10 | liked-next NDCG@10 | disliked-next HR@10 |",
        "|---|---|---|---|---|",
    ]
    for dataset, per_variant in results["datasets"].items():
        for name, figures in per_variant.get("paired", {}).items():
            cells = [
                f"{figures[f]['difference']:+.4f} [{figures[f]['ci'][0]:+.4f}, {figures[f]['ci'][1]:+.4f}]"
                for f in PAIRED
            ]
            lines.append(f"| {dataset} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["ml-latest-small"], choices=["ml-latest-small", "ml-100k"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        "--before",
        type=Path,
        help="instead of training the every-rating variant, evaluate these checkpoints (a models folder trained with "
        "every rating as an interaction, e.g. the pipeline's before this rule)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="keep the other data sets' results already written")
    args = parser.parse_args(argv)
    params = load_params(ROOT / "params.yaml")
    settings = EvaluationParams.from_params(params)
    layout = Layout(ROOT / params.paths.data_dir, ROOT / params.paths.artifacts_dir)
    embedded = dataset_name(params, layout)
    results: dict[str, Any] = {
        "command": "python -m benchmarks.bench_liking " + " ".join(sys.argv[1:] if argv is None else argv),
        "datasets": {},
    }
    for dataset in args.datasets:
        # Text embeddings as the pipeline trains with them, where it built them for this data set.
        embed = dataset == embedded and (layout.embeddings_dir / EMBEDDINGS_FILE).is_file()
        runs = {
            variant: run_variant(
                dataset, variant, args.seeds, embed, print, args.before if variant == "every-rating" else None
            )
            for variant in args.variants
        }
        results.setdefault("text_embeddings", {})[dataset] = embed
        if args.before is not None:
            results.setdefault("every_rating_from", {})[dataset] = "checkpoints (one seed): " + args.before.name
        per_variant: dict[str, Any] = {v: {"summary": summarise(r)} for v, r in runs.items()}
        if set(VARIANTS) <= set(runs):
            per_variant["paired"] = paired(runs["liking"], runs["every-rating"], settings.bootstrap_resamples, 0)
        results["datasets"][dataset] = per_variant
    print(table(results))
    for path in (args.output, DOCS_RESULTS):
        payload = results
        if args.merge and path.is_file():  # another data set's run: keep it, and say how to reproduce both
            earlier = json.loads(path.read_text(encoding="utf-8"))
            payload = {
                **earlier,
                **{k: {**earlier.get(k, {}), **v} for k, v in results.items() if isinstance(v, dict)},
                "command": f"{earlier['command']}\n{results['command']}",
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output} and {DOCS_RESULTS}")


if __name__ == "__main__":
    main()
