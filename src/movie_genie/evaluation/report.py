"""The `evaluate` stage: every trained model on validation and test, written as JSON, Markdown and PNG plots.

Validation metrics come from the training records, training/<name>.json (the phase-1 model, trained on training
rows only, so they are not inflated by a refit that saw the validation targets); test metrics are computed here from
the final checkpoints.
Every model is compared with EASE and with the best model by a paired bootstrap over the same test users; "beats"
is said only when the difference's whole 95% interval is above zero. The report's shape is `schema.EvaluationReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from movie_genie.config import Layout, Params
from movie_genie.data.split import dataset_name, load_split
from movie_genie.evaluation.metrics import (
    CUTOFF,
    PROTOCOL,
    EvaluationParams,
    MetricReport,
    paired_difference_ci,
    test_set,
    validation_set,
)
from movie_genie.evaluation.schema import (
    REPORT_FILE,
    EvaluationReport,
    ModelEntry,
    PairedDifference,
    SplitMetrics,
    TrainingRecords,
)
from movie_genie.evaluation.tracking import Tracker
from movie_genie.models.catalogue import CATALOGUE, POPULARITY
from movie_genie.models.registry import load_models

BASELINE = CATALOGUE.baseline()
METRICS = (("hr10", "HR@10"), ("ndcg10", "NDCG@10"), ("mrr", "MRR"))


@dataclass
class ReportFiles:
    """Where the report was written."""

    json: Path
    markdown: Path
    plots: list[Path]

    def all(self) -> list[Path]:
        """Every file, JSON first."""
        return [self.json, self.markdown, *self.plots]


def build_report(params: Params, layout: Layout, echo: Callable[[str], None] = print) -> EvaluationReport:
    """Evaluate every checkpoint in the models folder on the test split and compare each with EASE and the best."""
    settings = EvaluationParams.from_params(params)
    id_map, frames = load_split(layout)
    models = load_models(layout.models_dir)
    training = TrainingRecords.read(layout.models_dir).models
    valid_set = validation_set(frames["train"], frames["valid"])
    final_test_set = test_set(frames["train"], frames["valid"], frames["test"])
    dataset = dataset_name(params, layout)
    tests: dict[str, MetricReport] = {}
    entries: dict[str, ModelEntry] = {}
    for name, model in models.items():
        echo(f"evaluate: {name} on {len(final_test_set):,} test users ...")
        tests[name] = settings.evaluate(model, final_test_set, id_map.n_items)
        record = training.get(name)
        valid = record.valid if record is not None else None
        valid_source = "training (model fit on training rows only)"
        if valid is None:
            # No training record: score the checkpoint itself. Honest unless it was refit on validation rows.
            valid = _split(settings.evaluate(model, valid_set, id_map.n_items))
            valid_source = "checkpoint (no training record; may include validation rows if refit)"
        entries[name] = ModelEntry(
            valid=valid,
            valid_source=valid_source,
            test=_split(tests[name]),
            training_seconds=None if record is None else record.total_seconds,
            refit_on_train_and_valid=None if record is None else record.refit,
            epochs=[] if record is None else record.epochs,
            config={} if record is None else record.config,
            learned={} if record is None else record.learned,
        )
    best = max(tests, key=lambda n: tests[n].ndcg10) if tests else None
    best_liked = max(tests, key=lambda n: tests[n].liked_ndcg10 or 0.0) if tests else None
    for name, entry in entries.items():
        if BASELINE in tests:
            baseline = tests[BASELINE].ndcg10
            entry.ndcg10_vs_ease = tests[name].ndcg10 / baseline if baseline else None
            if name != BASELINE:
                entry.vs_ease = _paired(tests, name, BASELINE, settings)
                entry.liked_vs_ease = _paired(tests, name, BASELINE, settings, "liked_ndcg10")
        if best is not None and name != best:
            entry.vs_best = _paired(tests, name, best, settings)
        if best_liked is not None and name != best_liked:
            entry.liked_vs_best = _paired(tests, name, best_liked, settings, "liked_ndcg10")
    return EvaluationReport(
        dataset=dataset,
        protocol=PROTOCOL,
        n_items=id_map.n_items,
        n_users={"valid": len(valid_set), "test": len(final_test_set)},
        cutoff=CUTOFF,
        bootstrap_resamples=settings.bootstrap_resamples,
        seed=settings.seed,
        baseline=BASELINE,
        best_model=best,
        best_liked_model=best_liked,
        models=entries,
    )


def _split(metrics: MetricReport) -> SplitMetrics:
    return SplitMetrics.model_validate(metrics.to_dict())


def _paired(
    tests: dict[str, MetricReport], name: str, other: str, settings: EvaluationParams, metric: str = "ndcg10"
) -> PairedDifference | None:
    """`name`'s test figure minus `other`'s over the same users, with its paired bootstrap interval (None when the
    figure has no users, e.g. no liked targets)."""
    values, baseline = tests[name].per_user[metric], tests[other].per_user[metric]
    if not values.size:
        return None
    difference, low, high = paired_difference_ci(values, baseline, settings.bootstrap_resamples, settings.seed)
    return PairedDifference(against=other, difference=difference, ci=[low, high], metric=metric)


def _fmt(value: float | None, ci: Sequence[float] | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.4f}"
    if ci:
        text += f" [{ci[0]:.4f}, {ci[1]:.4f}]"
    return text


def signed(difference: PairedDifference | None) -> str:
    """A paired difference with its interval, signed: "+0.0123 [+0.0040, +0.0210]" ("–" when there is none)."""
    if difference is None:
        return "–"
    low, high = difference.ci
    return f"{difference.difference:+.4f} [{low:+.4f}, {high:+.4f}]"


def verdict(difference: PairedDifference | None) -> str:
    """What a paired difference allows one to say: "beats X" only when its whole 95% interval is above zero."""
    if difference is None:
        return "–"
    if difference.beats:
        return f"beats {difference.against}"
    if difference.ci[1] < 0:
        return f"worse than {difference.against}"
    return f"not distinguishable from {difference.against}"


def results_markdown(report: EvaluationReport, heading: str = "##") -> str:
    """The results as Markdown: a table per split, the paired comparisons and what was chosen on validation.

    The one renderer of the results: report.md and the documentation's evaluation page both use it.
    """
    lines: list[str] = []
    for split in ("test", "valid"):
        title = "Test (final checkpoints)" if split == "test" else "Validation (models fit on training rows only)"
        lines += [
            f"{heading} {title}",
            "",
            "| model | HR@10 [95% CI] | NDCG@10 [95% CI] | MRR [95% CI] | coverage | NDCG@10 / EASE | train s |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, entry in report.models.items():
            metrics = entry.test if split == "test" else entry.valid
            ratio = entry.ndcg10_vs_ease if split == "test" else None
            if metrics is None:
                cells = ["–"] * 4
            else:
                cells = [_fmt(getattr(metrics, m), metrics.ci.get(m)) for m, _ in METRICS]
                cells.append(_fmt(metrics.coverage))
            cells.append("–" if ratio is None else f"{ratio:.2f}×")
            cells.append("–" if entry.training_seconds is None else f"{entry.training_seconds:.1f}")
            bold = "**" if name == report.best_model else ""
            lines.append(f"| {bold}{name}{bold} | " + " | ".join(cells) + " |")
        lines.append("")
        lines += _liking_table(report, split)
    lines += _paired_table(
        report,
        f"{heading} Paired comparisons (test NDCG@10)",
        "Each difference in NDCG@10 comes with a 95% interval from a paired bootstrap (the same resampled test users "
        'for both models). A model "beats" another only when the whole interval is above zero.',
        report.best_model,
        {name: (entry.vs_ease, entry.vs_best) for name, entry in report.models.items()},
    )
    if report.best_liked_model is not None:
        lines.append("")
        lines += _paired_table(
            report,
            f"{heading} Paired comparisons (test liked-next NDCG@10)",
            "The same comparison over the users who liked their held-out film (rated it 4★ or more).",
            report.best_liked_model,
            {name: (entry.liked_vs_ease, entry.liked_vs_best) for name, entry in report.models.items()},
        )
    tuned = _tuned_lines(report)
    if tuned:
        lines += ["", f"{heading} Chosen on validation", "", *tuned]
    lines += ["", f"Best model on test NDCG@10: **{report.best_model}** (in bold above)."]
    if report.best_liked_model is not None:
        lines.append(f"Best model on test liked-next NDCG@10: **{report.best_liked_model}**.")
    lines.append("")
    return "\n".join(lines)


def _paired_table(
    report: EvaluationReport,
    title: str,
    intro: str,
    best: str | None,
    pairs: dict[str, tuple[PairedDifference | None, PairedDifference | None]],
) -> list[str]:
    """A table of each model's paired difference to the baseline and to the best model, with verdicts."""
    lines = [
        title,
        "",
        intro,
        "",
        f"| model | minus {report.baseline} [95% CI] | verdict | minus {best} (best) [95% CI] | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, (vs_baseline, vs_best) in pairs.items():
        cells = [signed(vs_baseline), verdict(vs_baseline), signed(vs_best), verdict(vs_best)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _liking_table(report: EvaluationReport, split: str) -> list[str]:
    """Liked-next and disliked-next figures of one split: does a model put films people like in their top 10, and
    keep out the films they went on to dislike?"""
    entries = {n: e.test if split == "test" else e.valid for n, e in report.models.items()}
    shown = {n: m for n, m in entries.items() if m is not None and m.liked_ndcg10 is not None}
    if not shown:
        return []
    first = next(iter(shown.values()))
    lines = [
        f"Liking ({first.n_liked:,} users liked their held-out film, {first.n_disliked:,} disliked it; "
        "disliked-next: lower is better):",
        "",
        "| model | liked-next NDCG@10 [95% CI] | liked-next HR@10 [95% CI] | disliked-next HR@10 [95% CI] "
        "| disliked / liked HR@10 |",
        "|---|---|---|---|---|",
    ]
    for name, metrics in shown.items():
        ratio = "–"
        if metrics.liked_hr10 and metrics.disliked_hr10 is not None:
            ratio = f"{metrics.disliked_hr10 / metrics.liked_hr10:.2f}"
        cells = [_fmt(getattr(metrics, m), metrics.ci.get(m)) for m in ("liked_ndcg10", "liked_hr10", "disliked_hr10")]
        bold = "**" if name == report.best_liked_model else ""
        lines.append(f"| {bold}{name}{bold} | " + " | ".join([*cells, ratio]) + " |")
    return [*lines, ""]


def _tuned_lines(report: EvaluationReport) -> list[str]:
    """What the train stage picked on validation (EASE's lambda, the hybrid's blend weights)."""
    lines = []
    for name, entry in report.models.items():
        learned = entry.learned
        if learned.get("chosen_lambda") is not None:
            grid = ", ".join(f"{v:g}" for v in learned.get("lambdas", []))
            lines.append(f"- **{name}**: lambda = {learned['chosen_lambda']:g} (grid: {grid})")
        if learned.get("weights"):
            weights = ", ".join(f"{k} {v:.2f}" for k, v in learned["weights"].items())
            short = ", ".join(f"{k} {v:.2f}" for k, v in (learned.get("short_weights") or {}).items())
            lines.append(f"- **{name}**: blend weights {weights}; short histories: {short}")
    return lines


def render_markdown(report: EvaluationReport) -> str:
    """report.md: the protocol, then the results."""
    header = [
        f"# Evaluation report: {report.dataset}",
        "",
        "## Protocol",
        "",
        report.protocol,
        "",
        f"Catalogue: {report.n_items:,} items; {report.n_users['test']:,} test users, "
        f"{report.n_users['valid']:,} validation users; 95% intervals from {report.bootstrap_resamples} "
        f"bootstrap resamples (seed {report.seed}).",
        "",
    ]
    return "\n".join(header) + results_markdown(report)


def plot_metrics(report: EvaluationReport, path: Path) -> Path:
    """Grouped bars of test HR@10 / NDCG@10 / MRR per model with 95% interval error bars."""
    names = list(report.models)
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.6))
    for ax, (key, label) in zip(axes, METRICS, strict=True):
        values = [getattr(report.models[n].test, key) for n in names]
        cis = [report.models[n].test.ci.get(key, [v, v]) for n, v in zip(names, values, strict=True)]
        errors = [
            [v - lo for v, (lo, _) in zip(values, cis, strict=True)],
            [hi - v for v, (_, hi) in zip(values, cis, strict=True)],
        ]
        colours = ["tab:gray" if n in (POPULARITY.name, BASELINE) else "tab:blue" for n in names]
        ax.bar(names, values, yerr=errors, capsize=4, color=colours)
        if BASELINE in names:  # the bar every model is judged against
            ax.axhline(values[names.index(BASELINE)], linestyle="--", linewidth=1, color="tab:red", label="EASE")
            ax.legend(loc="upper left", fontsize=7)
        ax.set_title(f"test {label}")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"{report.dataset}: full ranking, 95% bootstrap intervals")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_training_curves(report: EvaluationReport, path: Path) -> Path:
    """Per-model validation NDCG@10 (and any loss) per epoch or tuning step, from the training records."""
    curves = {n: e.epochs for n, e in report.models.items() if len(e.epochs) > 1}
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


def write_report(report: EvaluationReport, report_dir: Path) -> ReportFiles:
    """Write report.json, report.md and the plots (each file replaced atomically)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_dir / REPORT_FILE, report_dir / "report.md"
    report.write(json_path)
    tmp = md_path.with_suffix(".md.tmp")
    tmp.write_text(render_markdown(report), encoding="utf-8")
    tmp.replace(md_path)
    plots = [
        plot_metrics(report, report_dir / "metrics.png"),
        plot_training_curves(report, report_dir / "training_curves.png"),
    ]
    return ReportFiles(json_path, md_path, plots)


def run_evaluate(params: Params, layout: Layout, echo: Callable[[str], None] = print) -> ReportFiles:
    """The `movie-genie evaluate` stage (the report is also logged to MLflow when MLFLOW_TRACKING_URI is set)."""
    tracker = Tracker.from_env(layout.data_dir, echo)
    report = build_report(params, layout, echo)
    files = write_report(report, layout.report_dir)
    if tracker is not None:
        training = TrainingRecords.read(layout.models_dir).models
        runs = {name: record.mlflow_run_id for name, record in training.items() if record.mlflow_run_id}
        tracker.log_report(report, files.all(), runs)
    return files
