"""The `evaluate` stage: every trained model on validation and test, written as JSON, Markdown and PNG plots.

Validation metrics come from training.json (the phase-1 model, trained on training rows only, so they are not
inflated by a refit that saw the validation targets); test metrics are computed here from the final checkpoints.
Every model is compared with EASE; one that does not beat it is reported as such.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from movie_genie.config import Layout, Params
from movie_genie.data.tables import read_info
from movie_genie.errors import ArtifactMissingError
from movie_genie.evaluation.metrics import (
    PROTOCOL,
    evaluate,
    test_set,
    validation_set,
)
from movie_genie.evaluation.tracking import Tracker
from movie_genie.evaluation.training import TRAINING_LOG_FILE, EvaluationParams, load_split
from movie_genie.models.registry import load_models

BASELINE = "ease"
METRICS = (("hr10", "HR@10"), ("ndcg10", "NDCG@10"), ("mrr", "MRR"))


@dataclass
class ReportFiles:
    """Where the report was written."""

    json: Path
    markdown: Path
    plots: list[Path]


def _read_training_log(models_dir: Path) -> dict[str, Any]:
    path = models_dir / TRAINING_LOG_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("models", {}))
    except (json.JSONDecodeError, AttributeError):
        return {}


def build_report(params: Params, layout: Layout, echo: Any = print) -> dict[str, Any]:
    """Evaluate every checkpoint in the models folder and assemble the report dict."""
    settings = EvaluationParams.from_params(params)
    id_map, frames = load_split(layout)
    models = load_models(layout.models_dir)
    training = _read_training_log(layout.models_dir)
    valid_set = validation_set(frames["train"], frames["valid"])
    final_test_set = test_set(frames["train"], frames["valid"], frames["test"])
    try:
        dataset = str(read_info(layout.processed_dir).get("name", params.dataset.name))
    except (ArtifactMissingError, OSError, ValueError):
        dataset = params.dataset.name
    entries: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        echo(f"evaluate: {name} on {len(final_test_set):,} test users ...")
        test = evaluate(
            model,
            final_test_set,
            id_map.n_items,
            n_bootstrap=settings.bootstrap_resamples,
            seed=settings.seed,
            batch_size=settings.batch_size,
        )
        log = training.get(name, {})
        valid = log.get("valid")
        valid_source = "training (model fit on training rows only)"
        if valid is None:
            # No training record: score the checkpoint itself. Honest unless it was refit on validation rows.
            valid = evaluate(
                model, valid_set, id_map.n_items, n_bootstrap=settings.bootstrap_resamples, seed=settings.seed
            ).to_dict()
            valid_source = "checkpoint (no training record; may include validation rows if refit)"
        entries[name] = {
            "valid": valid,
            "valid_source": valid_source,
            "test": test.to_dict(),
            "training_seconds": log.get("total_seconds"),
            "refit_on_train_and_valid": log.get("refit"),
            "epochs": log.get("epochs", []),
            "config": log.get("config", {}),
        }
    baseline = entries.get(BASELINE, {}).get("test", {}).get("ndcg10")
    for name, entry in entries.items():
        ndcg = entry["test"]["ndcg10"]
        entry["ndcg10_vs_ease"] = ndcg / baseline if baseline else None
        entry["beats_ease"] = None if baseline is None or name == BASELINE else bool(ndcg > baseline)
    best = max(entries, key=lambda n: entries[n]["test"]["ndcg10"]) if entries else None
    return {
        "dataset": dataset,
        "protocol": PROTOCOL,
        "n_items": id_map.n_items,
        "n_users": {"valid": len(valid_set), "test": len(final_test_set)},
        "cutoff": 10,
        "bootstrap_resamples": settings.bootstrap_resamples,
        "seed": settings.seed,
        "baseline": BASELINE,
        "best_model": best,
        "models": entries,
    }


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.4f}"
    if ci:
        text += f" [{ci[0]:.4f}, {ci[1]:.4f}]"
    return text


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown document: protocol, test table, validation table, verdicts vs EASE."""
    lines = [
        f"# Evaluation report: {report['dataset']}",
        "",
        "## Protocol",
        "",
        report["protocol"],
        "",
        f"Catalogue: {report['n_items']:,} items; {report['n_users']['test']:,} test users, "
        f"{report['n_users']['valid']:,} validation users; 95% intervals from {report['bootstrap_resamples']} "
        f"bootstrap resamples (seed {report['seed']}).",
        "",
    ]
    for split in ("test", "valid"):
        title = "Test (final checkpoints)" if split == "test" else "Validation (models fit on training rows only)"
        lines += [
            f"## {title}",
            "",
            "| model | HR@10 [95% CI] | NDCG@10 [95% CI] | MRR [95% CI] | coverage | NDCG@10 / EASE | train s |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, entry in report["models"].items():
            metrics = entry.get(split) or {}
            ci = metrics.get("ci", {})
            ratio = entry.get("ndcg10_vs_ease") if split == "test" else None
            seconds = entry.get("training_seconds")
            cells = [_fmt(metrics.get(m), ci.get(m)) for m in ("hr10", "ndcg10", "mrr")]
            cells.append(_fmt(metrics.get("coverage")))
            cells.append("–" if ratio is None else f"{ratio:.2f}×")
            cells.append("–" if seconds is None else f"{seconds:.1f}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Against EASE (test NDCG@10)", ""]
    for name, entry in report["models"].items():
        if entry["beats_ease"] is None:
            continue
        verdict = "beats EASE" if entry["beats_ease"] else "does NOT beat EASE"
        lines.append(f"- **{name}** {verdict} ({entry['ndcg10_vs_ease']:.2f}× EASE's NDCG@10)")
    tuned = _tuned_lines(report)
    if tuned:
        lines += ["", "## Chosen on validation", "", *tuned]
    lines += ["", f"Best model on test NDCG@10: **{report['best_model']}**.", ""]
    return "\n".join(lines)


def _tuned_lines(report: dict[str, Any]) -> list[str]:
    """Hyperparameters the train stage picked on validation (EASE's lambda, the hybrid's blend weights)."""
    lines = []
    for name, entry in report["models"].items():
        config = entry.get("config") or {}
        if config.get("chosen_lambda") is not None:
            grid = ", ".join(f"{v:g}" for v in config.get("lambdas", []))
            lines.append(f"- **{name}**: lambda = {config['chosen_lambda']:g} (grid: {grid})")
        if config.get("weights"):
            weights = ", ".join(f"{k} {v:.2f}" for k, v in config["weights"].items())
            short = ", ".join(f"{k} {v:.2f}" for k, v in (config.get("short_weights") or {}).items())
            lines.append(f"- **{name}**: blend weights {weights}; short histories: {short}")
    return lines


def plot_metrics(report: dict[str, Any], path: Path) -> Path:
    """Grouped bars of test HR@10 / NDCG@10 / MRR per model with 95% interval error bars."""
    names = list(report["models"])
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.6))
    for ax, (key, label) in zip(axes, METRICS, strict=True):
        values = [report["models"][n]["test"][key] for n in names]
        cis = [report["models"][n]["test"].get("ci", {}).get(key, [v, v]) for n, v in zip(names, values, strict=True)]
        errors = [
            [v - lo for v, (lo, _) in zip(values, cis, strict=True)],
            [hi - v for v, (_, hi) in zip(values, cis, strict=True)],
        ]
        colours = ["tab:gray" if n in ("popularity", BASELINE) else "tab:blue" for n in names]
        ax.bar(names, values, yerr=errors, capsize=4, color=colours)
        if BASELINE in names:  # the bar every model is judged against
            ax.axhline(values[names.index(BASELINE)], linestyle="--", linewidth=1, color="tab:red", label="EASE")
            ax.legend(loc="upper left", fontsize=7)
        ax.set_title(f"test {label}")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"{report['dataset']}: full ranking, 95% bootstrap intervals")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_training_curves(report: dict[str, Any], path: Path) -> Path:
    """Per-model validation NDCG@10 (and any loss) per epoch or tuning step, from training.json."""
    curves = {n: e["epochs"] for n, e in report["models"].items() if len(e.get("epochs") or []) > 1}
    fig, axes = plt.subplots(1, max(len(curves), 1), figsize=(4 * max(len(curves), 1), 3.4), squeeze=False)
    if not curves:
        axes[0, 0].text(0.5, 0.5, "no multi-step training curves", ha="center", va="center")
        axes[0, 0].set_axis_off()
    for ax, (name, epochs) in zip(axes[0], curves.items(), strict=False):
        x_key = next((k for k in ("epoch", "lambda") if all(k in e for e in epochs)), None)
        xs = [e[x_key] for e in epochs] if x_key else list(range(len(epochs)))
        # Neural models validate every few epochs only: plot the epochs that have a validation score.
        points = [(x, e["valid_ndcg10"]) for x, e in zip(xs, epochs, strict=True) if e.get("valid_ndcg10") is not None]
        if points:
            ax.plot([x for x, _ in points], [v for _, v in points], marker="o", color="tab:blue", label="valid NDCG@10")
        ax.set_xlabel(x_key or "step")
        if x_key == "lambda":
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor log labels overlap on a short range
        loss_keys = sorted({k for e in epochs for k in e if "loss" in k})
        if loss_keys:
            twin = ax.twinx()
            for key in loss_keys:
                pairs = [(x, e[key]) for x, e in zip(xs, epochs, strict=True) if e.get(key) is not None]
                twin.plot([x for x, _ in pairs], [v for _, v in pairs], linestyle="--", color="tab:orange", label=key)
            twin.set_ylabel("loss")
            twin.legend(loc="upper right", fontsize=7)
        ax.set_title(name)
        ax.set_ylabel("valid NDCG@10")
        ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: dict[str, Any], report_dir: Path) -> ReportFiles:
    """Write report.json, report.md and the plots (each file replaced atomically)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / "report.json"
    md_path = report_dir / "report.md"
    for path, text in ((json_path, json.dumps(report, indent=2) + "\n"), (md_path, render_markdown(report))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    plots = [
        plot_metrics(report, report_dir / "metrics.png"),
        plot_training_curves(report, report_dir / "training_curves.png"),
    ]
    return ReportFiles(json_path, md_path, plots)


def run_evaluate(params: Params, layout: Layout, echo: Any = print) -> ReportFiles:
    """The `movie-genie evaluate` stage (the report is also logged to MLflow when MLFLOW_TRACKING_URI is set)."""
    tracker = Tracker.from_env(layout.data_dir, echo)
    report = build_report(params, layout, echo)
    files = write_report(report, layout.report_dir)
    if tracker is not None:
        training = _read_training_log(layout.models_dir)
        runs = {name: str(entry["mlflow_run_id"]) for name, entry in training.items() if entry.get("mlflow_run_id")}
        tracker.log_report(report, files, runs)
    return files
