"""The evaluation report as documentation: <!-- gen:report -->, <!-- gen:model-report NAME -->,
<!-- gen:training-times --> and <!-- gen:figure SOURCE:PATH -->."""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from docs.gen.common import DOCS, ROOT, GenerationError, format_value, interval
from movie_genie.errors import MovieGenieError
from movie_genie.evaluation.report import results_markdown, signed, verdict
from movie_genie.evaluation.schema import EvaluationReport

REPORT_ASSETS = "assets/report"

# The default data set's report, committed: `python -m benchmarks.reference_report` writes it from a pipeline run.
REFERENCE_REPORT = DOCS / "results" / "report.json"


def report_dir() -> Path:
    """Where the evaluation report the pages show is: $MOVIE_GENIE_DOCS_REPORT (a folder), else the committed
    reference (docs/results/report.json, so a fresh clone's site has every table), else this checkout's own report
    (paths.artifacts_dir in params.yaml)."""
    override = os.environ.get("MOVIE_GENIE_DOCS_REPORT")
    if override:
        return Path(override)
    if REFERENCE_REPORT.is_file():
        return REFERENCE_REPORT.parent
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {}
    artifacts = Path((params.get("paths") or {}).get("artifacts_dir", "artifacts"))
    return (artifacts if artifacts.is_absolute() else ROOT / artifacts) / "report"


def report_markdown(report: EvaluationReport, images: Iterable[str]) -> str:
    """The results section from report.json: a summary line, the report's own results renderer, the plots."""
    n_users = report.n_users
    parts = [
        f"*Generated at build time from `{report_file_name()}`; never edited by hand.*",
        "",
        f"**Data set** {report.dataset} · **catalogue** {report.n_items:,} items · "
        f"**test users** {n_users['test']:,} · **validation users** {n_users['valid']:,} · "
        f"**95% intervals** from {report.bootstrap_resamples:,} bootstrap resamples (seed {report.seed})",
        "",
        results_markdown(report, heading="###"),
        '??? note "The protocol as the report states it"',
        "",
        "    " + report.protocol,
        "",
    ]
    image_list = list(images)
    if image_list:
        parts += ["### Plots", ""]
        parts += [f"![{Path(i).stem.replace('_', ' ')}]({i})\n" for i in image_list]
    return "\n".join(parts)


def report_section(report_dir: Path, page: str) -> tuple[str, dict[str, Path]]:
    """(markdown, {site path: PNG to copy}) for the evaluation page; instructions when there is no report yet."""
    report_file = report_dir / "report.json"
    if not report_file.is_file():
        return (
            '!!! info "No evaluation report in this checkout yet"\n\n'
            "    The results table and plots are generated from `artifacts/report/report.json` when the site is "
            "built. Produce the report, then rebuild the docs:\n\n"
            "    ```bash\n    .venv/bin/dvc repro evaluate   # trains what is missing, then evaluates\n"
            "    make docs\n    ```\n",
            {},
        )
    try:
        report = EvaluationReport.read(report_file)
    except MovieGenieError as exc:
        raise GenerationError(str(exc)) from exc
    images = {f"{REPORT_ASSETS}/{png.name}": png for png in sorted(report_dir.glob("*.png"))} or report_plots(report)
    base = posixpath.dirname(page) or "."
    return report_markdown(report, [posixpath.relpath(p, base) for p in images]), images


def _learned_value(value: Any) -> str:
    """A learned value as it reads best: blend weights as `name weight` pairs, numbers with %g, the rest as JSON."""
    if isinstance(value, Mapping) and value and all(isinstance(v, int | float) for v in value.values()):
        return " · ".join(f"`{k}` {v:.2f}" for k, v in value.items())
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return "`[" + ", ".join(f"{v:g}" for v in value) + "]`"
    return format_value(value)


def model_report_markdown(report: EvaluationReport, name: str, page: str) -> str:
    """One model's results (the <!-- gen:model-report NAME --> marker): test and validation NDCG@10/HR@10 with
    their intervals, the paired difference to the baseline and what fit chose on validation."""
    evaluation = posixpath.relpath("evaluation.md", posixpath.dirname(page) or ".")
    head = (
        f"*Generated at build time from `{report_file_name()}` ({report.dataset}, "
        f"{report.n_users['test']:,} test users, 95% intervals from {report.bootstrap_resamples:,} bootstrap "
        f"resamples); never typed by hand. Every model side by side: [evaluation]({evaluation}#results).*\n\n"
    )
    entry = report.models.get(name)
    if entry is None:
        return head + (
            f'!!! info "No `{name}` in this report"\n\n'
            f"    The report was made without `{name}` (it holds {', '.join(f'`{m}`' for m in report.models)}). "
            "Add it to `models` in params.yaml and run `.venv/bin/dvc repro evaluate`, then `make docs`.\n"
        )
    rows = ["| split | NDCG@10 [95% CI] | HR@10 [95% CI] | users |", "| --- | --- | --- | --- |"]
    for label, metrics in (("test (final model)", entry.test), ("validation (fit on training rows)", entry.valid)):
        if metrics is not None:
            rows.append(
                f"| {label} | {interval(metrics.ndcg10, metrics.ci.get('ndcg10'))} | "
                f"{interval(metrics.hr10, metrics.ci.get('hr10'))} | {metrics.n_users:,} |"
            )
    parts = [head + "\n".join(rows), ""]
    vs = entry.vs_ease
    if vs is None:
        if name == report.baseline:
            parts.append(f"**Against {report.baseline}:** this is the baseline every other model is compared with.")
        else:
            parts.append(f"**Against {report.baseline}:** the report has no paired comparison for this model.")
    else:
        parts.append(
            f"**Against {vs.against}** (test NDCG@10 of this model minus {vs.against}'s, paired bootstrap over the "
            f"same users): {signed(vs)}, so it {'' if vs.beats else 'is '}**{verdict(vs)}**."
        )
    parts.append("")
    if entry.learned:
        parts += ["**Chosen on validation** (what `fit` picked, `learned()` in the checkpoint):", ""]
        parts += [f"- `{key}`: {_learned_value(value)}" for key, value in entry.learned.items()]
    else:
        parts.append("**Chosen on validation:** nothing; this model has no value that `fit` tunes.")
    return "\n".join(parts) + "\n"


def model_report_section(report_dir: Path, name: str, page: str) -> str:
    """The <!-- gen:model-report NAME --> section; instructions when this checkout has no report yet."""
    report_file = report_dir / "report.json"
    if not report_file.is_file():
        return (
            '!!! info "No evaluation report in this checkout yet"\n\n'
            "    This model's test NDCG@10 and HR@10 (with 95% intervals), its paired difference to EASE and what "
            "was chosen on validation are generated from `artifacts/report/report.json` when the site is built. "
            "Produce the report, then rebuild the docs:\n\n"
            "    ```bash\n    .venv/bin/dvc repro evaluate   # trains what is missing, then evaluates\n"
            "    make docs\n    ```\n"
        )
    try:
        report = EvaluationReport.read(report_file)
    except MovieGenieError as exc:
        raise GenerationError(str(exc)) from exc
    return model_report_markdown(report, name, page)


def report_file_name() -> str:
    """The report the pages show, as a path a reader can open: relative to the repository when inside it."""
    path = report_dir() / "report.json"
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def report_plots(report: EvaluationReport) -> dict[str, Path]:
    """{site path: PNG} of the report's plots, drawn at build time by the report's own plotting functions (the
    committed reference keeps the figures, not the pictures)."""
    import tempfile

    from movie_genie.evaluation.report import plot_metrics, plot_training_curves

    folder = Path(tempfile.mkdtemp(prefix="report-plots-"))
    drawn = [plot_metrics(report, folder / "metrics.png"), plot_training_curves(report, folder / "training_curves.png")]
    return {f"{REPORT_ASSETS}/{png.name}": png for png in drawn}


def training_times_markdown(report: EvaluationReport) -> str:
    """The <!-- gen:training-times --> table: each model's training seconds (fit, validation and refit) from the
    report, with its share of the train stage, in training order."""
    seconds = {name: entry.training_seconds or 0.0 for name, entry in report.models.items()}
    total = sum(seconds.values()) or 1.0
    rows = ["| model | training seconds | share of the train stage |", "| --- | ---: | ---: |"]
    rows += [f"| {name} | {value:,.1f} | {100 * value / total:.0f} % |" for name, value in seconds.items()]
    rows.append(f"| **train stage** | **{sum(seconds.values()):,.1f}** | |")
    return "\n".join(rows) + "\n"


def lookup_figure(data: Any, dotted: str) -> Any:
    """The value at a dotted path of a JSON document; list items by position ("variants.1.test.ndcg10")."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


def figure_section(args: str, page: str) -> str:
    """The <!-- gen:figure SOURCE:PATH [FORMAT] --> marker: one number from a committed result, formatted (Python's
    format spec, default .4f; a trailing × or % is kept: `.2f×`, `.1%`). SOURCE is `report` (the reference
    evaluation report, docs/results/report.json) or a docs/results JSON by name (`liking`, `ablations/ease_refit`).
    Without the source file the figure reads "(not measured yet)"; a path the file does not have fails the build."""
    spec, _, fmt = args.partition(" ")
    source, _, dotted = spec.partition(":")
    if not dotted:
        raise GenerationError(f"{page}: <!-- gen:figure {args} --> needs SOURCE:PATH, e.g. report:n_items")
    path = report_dir() / "report.json" if source == "report" else DOCS / "results" / f"{source}.json"
    if not path.is_file():
        return "(not measured yet)"
    try:
        value = lookup_figure(json.loads(path.read_text(encoding="utf-8")), dotted)
    except KeyError:
        raise GenerationError(f"{page}: <!-- gen:figure {args} -->: {path.name} has no {dotted}") from None
    fmt = fmt.strip() or ".4f"
    suffix = fmt[-1] if fmt.endswith("×") else ""
    return format(value, fmt.removesuffix(suffix)) + suffix
