"""Ablations: one small controlled experiment per model, each reproducible by one command shown beside its result.

An ablation changes ONE thing and measures both variants on the same test users with the project's protocol
(full-ranking leave-one-out test NDCG@10 and HR@10 with bootstrap intervals, movie_genie.evaluation.metrics), then
the paired bootstrap interval of the difference (second variant minus first): the second "beats" the first only when
that whole interval is above zero. Both variants read the split `make pipeline` wrote (data/split) and use the
`evaluation` settings of params.yaml.

Three kinds:
- config: both variants are trained here from params.yaml's settings for the model, as `movie-genie train` does
  (fit on the training rows with early stopping on validation, then refit on training + validation); only the named
  config field differs, and where an ablation says so both train for fewer epochs, so it runs in minutes on 2 cores.
- refit: one model is fitted as above and scored before and after its refit on training + validation rows.
- blend: a hybrid trained here by the train stage's own code (train_models) is scored with the weights it tuned on
  validation and with equal weights (what it uses when it has no validation set).

Run: .venv/bin/python -m benchmarks.bench_ablations --ablation two_tower_logq   (no --ablation: every one)
Prints a table and writes docs/results/ablations/<name>.json, which docs/gen_pages.py renders on the model's page.
Unlike the other benchmarks' output (benchmarks/results/, not committed), these files are committed: the docs show
them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmarks.output import write_json
from movie_genie.config import Layout, load_params
from movie_genie.data.tables import read_info
from movie_genie.evaluation.metrics import (
    EvalSet,
    EvaluationParams,
    MetricReport,
    make_validator,
    paired_difference_ci,
    training_test_set,
)
from movie_genie.models.base import Recommender, Refittable
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.hybrid import Hybrid
from movie_genie.models.registry import checkpoint_path
from movie_genie.models.seeding import seed_everything
from movie_genie.training.loop import build_model, load_training_data, train_models

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "ablations"


@dataclass(frozen=True)
class Ablation:
    """One experiment: which model, what question, the two variants (the project's choice second)."""

    model: str
    question: str
    labels: tuple[str, str]
    kind: Literal["config", "refit", "blend"]
    changes: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # config fields of each variant (kind "config")
    shared: dict[str, Any] = field(default_factory=dict)  # config fields changed for both, to keep the run short


ABLATIONS = {
    "popularity_refit": Ablation(
        "popularity",
        "Does counting the validation rows too (the refit before the test) help popularity?",
        ("training rows only", "refit on training + validation (params.yaml)"),
        "refit",
    ),
    "ease_refit": Ablation(
        "ease",
        "Does refitting EASE on training + validation rows with the λ tuned on validation help?",
        ("training rows only", "refit on training + validation (params.yaml)"),
        "refit",
    ),
    "bpr_l2": Ablation(
        "bpr",
        "Does the L2 penalty on the vectors of each batch help BPR-MF?",
        ("no penalty", "l2 penalty (params.yaml)"),
        "config",
        ({"l2": 0.0}, {}),
    ),
    "bert4rec_content": Ablation(
        "bert4rec",
        "Do the films' genres, year and text embedding, added to the item embeddings, help BERT4Rec?",
        ("item ids only", "ids + content (params.yaml)"),
        "config",
        ({"use_content": False}, {"use_content": True}),
        {"max_epochs": 5},
    ),
    "sasrec_content": Ablation(
        "sasrec",
        "Do the films' genres, year and text embedding, added to the item embeddings, help SASRec?",
        ("item ids only", "ids + content (params.yaml)"),
        "config",
        ({"use_content": False}, {"use_content": True}),
        {"max_epochs": 4},
    ),
    "two_tower_logq": Ablation(
        "two_tower",
        "Does the log-Q correction of the in-batch softmax help the Two-Tower model?",
        ("log-Q off", "log-Q on (params.yaml)"),
        "config",
        ({"logq_correction": False}, {"logq_correction": True}),
    ),
    "hybrid_blend": Ablation(
        "hybrid",
        "Do blend weights tuned on validation beat weighting every component equally?",
        ("equal weights", "weights tuned on validation (params.yaml)"),
        "blend",
        # Without the two transformers, which take most of an hour to train on a shared 2-core machine.
        shared={"components": ["two_tower", "ease", "popularity"]},
    ),
}


def command(name: str) -> str:
    """The command that reproduces an ablation (shown on its docs page)."""
    return f".venv/bin/python -m benchmarks.bench_ablations --ablation {name}"


@dataclass
class Variant:
    """One variant's test metrics, what it was trained with and how long that took."""

    label: str
    test: MetricReport
    changes: dict[str, Any]
    valid_ndcg10: float | None = None
    seconds: float | None = None


def _configured(name: str, params: Any, dataset: str, changes: dict[str, Any]) -> Recommender:
    """A fresh model from params.yaml's section (with the data set's overrides), then `changes`, without progress."""
    model = build_model(name, params.section("models"), dataset)
    fields = set(type(model.config).model_fields)
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise SystemExit(f"{name} has no config field(s) {unknown}")
    quiet = {"progress": False} if "progress" in fields else {}
    return type(model)(model.config.changed(**changes, **quiet))


def _fit(model: Recommender, data: Any, validate: Any, seed: int) -> float | None:
    """Fit as the train stage does (seeded, validated); the best validation NDCG@10 when the model reports one."""
    seed_everything(seed)
    return model.fit(data, validate).best_valid_ndcg10


def run(name: str) -> dict[str, Any]:
    """Run one ablation on this checkout's split; return its JSON-ready result."""
    spec = ABLATIONS[name]
    params = load_params(ROOT / "params.yaml")
    layout = Layout.from_params(params)
    layout = Layout(ROOT / layout.data_dir, ROOT / layout.artifacts_dir)  # relative to the repository, not the cwd
    settings = EvaluationParams.from_params(params)
    data, test = load_training_data(layout)
    dataset = str(read_info(layout.processed_dir).get("name") or params.dataset.name)
    users: EvalSet = training_test_set(data, test)
    validate = make_validator(data, settings.validation_users, settings.seed, settings.batch_size)
    final_data = with_validation_in_train(data)

    def score(model: Recommender) -> MetricReport:
        return settings.evaluate(model, users, data.id_map.n_items)

    variants: list[Variant] = []
    if spec.kind == "config":
        for label, changes in zip(spec.labels, spec.changes, strict=True):
            print(f"{name}: training {label} ...", flush=True)
            start = time.perf_counter()
            model = _configured(spec.model, params, dataset, {**spec.shared, **changes})
            best = _fit(model, data, validate, settings.seed)
            if isinstance(model, Refittable) and model.refits:
                seed_everything(settings.seed)
                model.refit(final_data)
            variants.append(Variant(label, score(model), changes, best, time.perf_counter() - start))
        setup = (
            f"Both variants trained here with params.yaml's `models.{spec.model}` settings"
            + (f" except {_listed(spec.shared)} (to keep the run short)" if spec.shared else "")
            + ": fit on the training rows with early stopping on validation NDCG@10, then refit on training + "
            "validation, as `movie-genie train` does; only "
            + _listed({k: v for k, v in spec.changes[1].items() if spec.changes[0].get(k) != v})
            + " differs."
        )
    elif spec.kind == "refit":
        print(f"{name}: fitting {spec.model} ...", flush=True)
        start = time.perf_counter()
        model = _configured(spec.model, params, dataset, spec.shared)
        best = _fit(model, data, validate, settings.seed)
        fit_seconds = time.perf_counter() - start
        variants.append(Variant(spec.labels[0], score(model), {}, best, fit_seconds))
        if not isinstance(model, Refittable):
            raise SystemExit(f"{spec.model} has no refit")
        start = time.perf_counter()
        seed_everything(settings.seed)
        model.refit(final_data)
        refit_seconds = time.perf_counter() - start
        variants.append(Variant(spec.labels[1], score(model), {}, best, fit_seconds + refit_seconds))
        setup = (
            f"One model fitted here on the training rows with params.yaml's `models.{spec.model}` settings (what it "
            "tunes, tuned on validation), scored on the test users before and after `refit` on training + validation "
            "rows, the step `movie-genie train` takes next."
        )
    else:
        # The train stage's own code: components fit, tuned copies kept, refit; the hybrid tuned on the tuned copies.
        models = params.section("models")
        models = {**models, spec.model: {**(models.get(spec.model) or {}), **spec.shared}}
        components = list(spec.shared["components"])
        with tempfile.TemporaryDirectory() as tmp:
            runs = train_models(data, models, Path(tmp), settings, [*components, spec.model], dataset=dataset)
            hybrid = Hybrid.load(checkpoint_path(Path(tmp), spec.model))
        tuned = (hybrid.weights, hybrid.short_weights)
        equal = {c: 1.0 / len(components) for c in components}
        print(f"{name}: scoring the hybrid with equal weights ...", flush=True)
        hybrid.weights, hybrid.short_weights = equal, equal
        variants.append(Variant(spec.labels[0], score(hybrid), {"weights": equal}))
        print(f"{name}: scoring the hybrid with its tuned weights ...", flush=True)
        hybrid.weights, hybrid.short_weights = tuned
        log = runs[spec.model].log
        variants.append(
            Variant(
                spec.labels[1],
                score(hybrid),
                {"weights": tuned[0], "short_weights": tuned[1]},
                log.best_valid_ndcg10,
                log.seconds,
            )
        )
        setup = (
            f"A hybrid of {', '.join(f'`{c}`' for c in components)} (not the transformers: they take most of an hour "
            "to train on a shared 2-core machine), trained here by the train stage's own code with params.yaml's "
            "settings: each component fit on the training rows and refit on training + validation, the blend weights "
            "tuned on validation with the training-only components. Its test users are scored once with the tuned "
            "weights and once with every component weighted equally (what the hybrid uses without a validation "
            "set). Training seconds: the weight search."
        )
    return result_json(name, spec, setup, dataset, settings, variants)


def _listed(values: dict[str, Any]) -> str:
    return ", ".join(f"`{k}: {json.dumps(v)}`" for k, v in values.items())


def result_json(
    name: str, spec: Ablation, setup: str, dataset: str, settings: EvaluationParams, variants: list[Variant]
) -> dict[str, Any]:
    """The file docs/gen_pages.py renders: both variants, the paired difference, the command and the machine."""
    first, second = variants
    difference, low, high = paired_difference_ci(
        second.test.per_user["ndcg10"], first.test.per_user["ndcg10"], settings.bootstrap_resamples, settings.seed
    )
    return {
        "name": name,
        "model": spec.model,
        "question": spec.question,
        "setup": setup,
        "command": command(name),
        "dataset": dataset,
        "n_test_users": first.test.n_users,
        "bootstrap_resamples": settings.bootstrap_resamples,
        "seed": settings.seed,
        "date": datetime.date.today().isoformat(),
        "variants": [
            {
                "label": v.label,
                "changes": v.changes,
                "test": v.test.to_dict(),
                "valid_ndcg10": v.valid_ndcg10,
                "seconds": v.seconds,
            }
            for v in variants
        ],
        "difference": {"against": first.label, "difference": difference, "ci": [low, high]},
        # Training times depend on how busy the (shared) machine was.
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},
    }


def table(result: dict[str, Any]) -> str:
    """The variants side by side and the paired difference, as plain text."""
    lines = [f"{result['name']}: {result['question']}", f"{'variant':<48} {'NDCG@10':>8} {'95% CI':>17} {'HR@10':>7}"]
    for v in result["variants"]:
        low, high = v["test"]["ci"]["ndcg10"]
        lines.append(f"{v['label']:<48} {v['test']['ndcg10']:>8.4f} [{low:.4f}, {high:.4f}] {v['test']['hr10']:>7.4f}")
    d = result["difference"]
    lines.append(
        f"{result['variants'][1]['label']} minus {d['against']}: {d['difference']:+.4f} "
        f"[{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}] (paired bootstrap)"
    )
    return "\n".join(lines)


def main() -> None:
    """Run the chosen ablations; print each table and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ablation", choices=sorted(ABLATIONS), action="append", help="run this one (repeatable; default: all)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.ablation or sorted(ABLATIONS):
        result = run(name)
        print(table(result), flush=True)
        write_json(RESULTS / f"{name}.json", result)


if __name__ == "__main__":
    main()
