"""Generate the parts of the docs that must never drift from the project (run by mkdocs-gen-files at build time).

Whole generated pages:
  reference/api.md        from the OpenAPI spec (movie_genie.api.app.openapi_spec(); loads no artefacts)
  reference/cli.md        from the click command tree of `movie-genie`
  reference/params.md     from params.yaml (values and their comments)
  reference/code/**.md    one page per module of src/movie_genie: public symbols, docstrings and the source

Markers expanded inside hand-written pages (a marker is an HTML comment, so the page still reads as Markdown):
  <!-- gen:stages -->            the DVC stage table from dvc.yaml (+ the params each stage reads)
  <!-- gen:params SECTION -->    the params.yaml section (dotted path) as a table with its comments
  <!-- gen:params SECTION module:Class -->   every field of a config class: default, params.yaml value, comment
  <!-- gen:report -->            the evaluation results table and plots from artifacts/report/report.json
  <!-- gen:compose -->           the services of deploy/docker-compose.yml
  <!-- gen:metrics -->           the Prometheus metrics of movie_genie.api.metrics
  <!-- gen:alerts -->            the alerting rules of deploy/prometheus/alerts.yml
  <!-- gen:ddp-status -->        whether any module uses PyTorch DDP (the distributed-training how-to)
  <!-- gen:source PATH#SYMBOL -->   the exact source lines of a function, class or method (private ones too, e.g.
                                    models/bert4rec.py#Bert4Rec._loss) of src/movie_genie/PATH, with its line
                                    numbers; a symbol that no longer exists fails the build
  <!-- gen:model-report NAME -->  one model's results from report.json: test NDCG@10/HR@10 with intervals, the
                                    paired difference to EASE and what was chosen on validation (`learned`);
                                    instructions when there is no report
  <!-- gen:ablation NAME -->     an ablation's table from docs/results/ablations/NAME.json, written by
                                    benchmarks/bench_ablations.py, with the command that reproduces it
  <!-- gen:liking -->            the liking benchmark's seeds table from docs/results/liking.json
                                    (benchmarks/bench_liking.py)
  <!-- gen:reasons -->           the reasons benchmark's table from docs/results/reasons.json
                                    (benchmarks/bench_reasons.py);
  <!-- gen:pushdown -->, <!-- gen:responsiveness -->   likewise, from benchmarks/bench_pushdown.py and
                                    bench_responsiveness.py
  <!-- gen:scale -->             the scale benchmark's table, growth exponents and log-log plot from
                                    docs/results/scale.json (benchmarks/bench_scale.py)
  <!-- gen:notebook PATH -->     the notebook docs/PATH executed in a fresh kernel at build time, with its outputs
                                    (in $MOVIE_GENIE_DOCS_PROJECT, else this checkout); a failing cell fails the
                                    build; without the pipeline's outputs, the code alone and how to run it
  [[src:PATH#SYMBOL]]            a link to SYMBOL on the code page of src/movie_genie/PATH (checked: must exist)

Every generator is a plain function of its inputs so tests/docs can call it directly.
"""

from __future__ import annotations

import ast
import enum
import html
import importlib
import inspect
import io
import json
import os
import posixpath
import re
import shutil
import textwrap
import time
import tokenize
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from movie_genie.config import Layout, load_params
from movie_genie.data.schema import ID_MAP_FILE
from movie_genie.errors import MovieGenieError
from movie_genie.evaluation.report import results_markdown, signed, verdict
from movie_genie.evaluation.schema import EvaluationReport, PairedDifference

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src"
PACKAGE = SRC / "movie_genie"
CODE_PAGES = "reference/code"
REPORT_ASSETS = "assets/report"
ABLATIONS = DOCS / "results" / "ablations"  # one JSON per ablation, written by benchmarks/bench_ablations.py

_MARKER = re.compile(r"<!--\s*gen:(?P<name>[a-z-]+)(?P<args>[^>]*?)\s*-->")
_SRC_LINK = re.compile(r"\[\[src:(?P<path>[\w/.]+?\.py)(?:#(?P<symbol>[\w.]+))?\]\]")


class GenerationError(RuntimeError):
    """A marker or link in a page names something that does not exist (the build fails with this message)."""


# --------------------------------------------------------------------------------------------------------------
# params.yaml: values from PyYAML, the comment of each key from a line scan (PyYAML drops comments)
# --------------------------------------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<rest>.*)$")


def params_comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment on its line (or on the comment lines right above it) in a block-style YAML file."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    pending: list[str] = []  # full-line comments waiting for the key below them
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            pending = []
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [match.group("key")])
        rest = match.group("rest")
        # The comment starts at " #" outside the value; values here never hold " #" themselves.
        inline = rest.split(" #", 1)[1].strip() if " #" in rest else ""
        text_parts = [p for p in (*(pending if indent > 0 else []), inline) if p]
        if text_parts:
            comments[dotted] = " ".join(text_parts)
        pending = []
        stack.append((indent, match.group("key")))
    return comments


def _format_value(value: Any) -> str:
    """A params value as it reads in YAML (null, true, lists inline)."""
    return "`" + json.dumps(value).replace("`", "'") + "`" if not isinstance(value, str) else f"`{value}`"


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of nested mappings; KeyError when any part is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def params_table(params_text: str, section: str) -> str:
    """A Markdown table of every leaf under `section` of params.yaml: key, value, what it does."""
    data = yaml.safe_load(params_text) or {}
    comments = params_comments(params_text)
    try:
        node = _lookup(data, section)
    except KeyError:
        return (
            f'!!! warning "`{section}` is not in params.yaml"\n\n'
            f"    This version of params.yaml has no `{section}` section, so the model or stage that reads it "
            "uses its built-in defaults (see its config class).\n"
        )
    rows = ["| parameter | value | what it does |", "| --- | --- | --- |"]

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            if prefix in comments:
                rows.append(f"| `{prefix}` | | *{_cell(comments[prefix])}* |")
            for key, child in value.items():
                walk(f"{prefix}.{key}", child)
            return
        rows.append(f"| `{prefix}` | {_cell(_format_value(value))} | {_cell(comments.get(prefix, ''))} |")

    if isinstance(node, Mapping):
        if section in comments:
            rows.append(f"| `{section}` | | *{_cell(comments[section])}* |")
        for key, child in node.items():
            walk(f"{section}.{key}", child)
    else:
        walk(section, node)
    return "\n".join(rows) + "\n"


def _field_comments(cls: type) -> dict[str, str]:
    """Field name -> the comment on its line (or the comment lines right above it) in a config class's source."""
    source = textwrap.dedent(inspect.getsource(cls))
    comments_by_line: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments_by_line[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    found: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            parts = []
            above = node.lineno - 1
            while above >= 1 and lines[above - 1].strip().startswith("#"):
                parts.insert(0, comments_by_line.get(above, ""))
                above -= 1
            if node.lineno in comments_by_line:
                parts.append(comments_by_line[node.lineno])
            if parts:
                found[node.target.id] = " ".join(p for p in parts if p)
    return found


def config_table(params_text: str, section: str, config_path: str) -> str:
    """Every field of a config (a pydantic Section): its default in code, its value in params.yaml, and what it does.

    `config_path` is "module:Class". The params.yaml comment wins over the code comment; `per_dataset`
    overrides are listed per data set. A params.yaml key the config does not know fails the build (the code
    would reject it too).
    """
    module_name, _, class_name = config_path.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    data = yaml.safe_load(params_text) or {}
    yaml_comments = params_comments(params_text)
    try:
        values = _lookup(data, section) or {}
    except KeyError:
        values = {}
    overrides: Mapping[str, Mapping[str, Any]] = values.get("per_dataset") or {}
    names = list(cls.model_fields)
    unknown = sorted(set(values) - set(names) - {"per_dataset"})
    unknown += sorted({k for o in overrides.values() for k in o} - set(names))
    if unknown:
        raise GenerationError(f"params.yaml `{section}` sets {unknown}, which {class_name} does not have")
    code_comments = _field_comments(cls)
    rows = [
        f"*From [`{class_name}`]({{code_link}}) and the `{section}` section of `params.yaml`; a blank params.yaml cell "
        "means the default in code is used.*",
        "",
        "| parameter | default in code | params.yaml | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in cls.model_fields.items():
        default = "required" if field.is_required() else _format_value(field.get_default(call_default_factory=True))
        setting = [_format_value(values[name])] if name in values else []
        setting += [f"{data_set}: {_format_value(o[name])}" for data_set, o in overrides.items() if name in o]
        what = yaml_comments.get(f"{section}.{name}") or code_comments.get(name, "")
        cells = "<br>".join(_cell(x) for x in setting)
        rows.append(f"| `{name}` | {_cell(default)} | {cells} | {_cell(what)} |")
    return "\n".join(rows) + "\n"


def params_reference(params_text: str) -> str:
    """The whole params.yaml as one page: a section per top-level key."""
    data = yaml.safe_load(params_text) or {}
    parts = [
        "# Parameters",
        "",
        "*Generated from `params.yaml` at build time.* Every tunable value lives in `params.yaml`; DVC re-runs "
        "the stages that read a value when it changes (see [the data pipeline](../pipeline.md)). Secrets and URLs "
        "(`DATABASE_URL`, `REDIS_URL`, `TMDB_API_KEY`, `CORS_ORIGINS`) come from the environment instead.",
        "",
    ]
    for section in data:
        parts += [f"## `{section}` {{#{section}}}", "", params_table(params_text, section), ""]
    return "\n".join(parts)


def _cell(text: str) -> str:
    """Escape a value for a Markdown table cell (pipes, newlines, and < > that would read as HTML tags)."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------------------------------------------
# dvc.yaml: the stage table
# --------------------------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    """A dvc.yaml field (string, list of strings or of one-key mappings) as a list of names."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):  # e.g. {params.yaml: [a, b]} or {out: {cache: false}}
            for key, inner in item.items():
                names.extend(str(v) for v in inner) if isinstance(inner, list) else names.append(str(key))
        else:
            names.append(str(item))
    return names


def stage_table(dvc_text: str, params_text: str, page: str) -> str:
    """The DVC stages in order: command, inputs, outputs, parameters (linked to the parameter reference)."""
    stages = (yaml.safe_load(dvc_text) or {}).get("stages", {})
    data = yaml.safe_load(params_text) or {}
    link = posixpath.relpath("reference/params.md", posixpath.dirname(page) or ".")
    rows = ["| stage | command | reads | writes | parameters |", "| --- | --- | --- | --- | --- |"]
    for name, stage in stages.items():
        params = []
        for p in _as_list(stage.get("params")):
            top = p.split(".")[0]
            try:
                _lookup(data, p)
                params.append(f"[`{p}`]({link}#{top})")
            except KeyError:
                params.append(f"`{p}` (not in params.yaml)")
        rows.append(
            f"| **{name}** | `{_cell(str(stage.get('cmd', '')))}` | "
            + "<br>".join(f"`{d}`" for d in _as_list(stage.get("deps")))
            + " | "
            + "<br>".join(f"`{o}`" for o in _as_list(stage.get("outs")))
            + " | "
            + "<br>".join(params)
            + " |"
        )
    return "\n".join(rows) + "\n"


def stage_diagram(dvc_text: str) -> str:
    """A Mermaid flowchart of the stages: an edge wherever a stage reads a path another stage writes."""
    stages = (yaml.safe_load(dvc_text) or {}).get("stages", {})
    writers = {out: name for name, st in stages.items() for out in _as_list(st.get("outs"))}
    lines = ["```mermaid", "flowchart LR"]
    for name, stage in stages.items():
        lines.append(f"  {name}([{name}])")
        for dep in _as_list(stage.get("deps")):
            if dep in writers:
                lines.append(f"  {writers[dep]} -- {dep} --> {name}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def compose_table(compose_text: str) -> str:
    """The services of deploy/docker-compose.yml: image or build, published ports, dependencies, volumes."""
    services = (yaml.safe_load(compose_text) or {}).get("services", {})
    rows = ["| service | image | ports | starts after | volumes |", "| --- | --- | --- | --- | --- |"]
    for name, svc in services.items():
        image = f"`{svc['image']}`" if "image" in svc else ""
        if "build" in svc:
            build = svc["build"]
            dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, Mapping) else "Dockerfile"
            image = f"{image} built from `{dockerfile}`".strip()
        depends = svc.get("depends_on", [])
        after = [
            f"{dep} ({cond.get('condition', '').replace('service_', '')})" if isinstance(cond, Mapping) else str(dep)
            for dep, cond in (depends.items() if isinstance(depends, Mapping) else ((d, None) for d in depends))
        ]
        rows.append(
            f"| **{name}** | {image} | "
            + "<br>".join(f"`{p}`" for p in svc.get("ports", []))
            + " | "
            + "<br>".join(after)
            + " | "
            + "<br>".join(f"`{v}`" for v in svc.get("volumes", []))
            + " |"
        )
    return "\n".join(rows) + "\n"


def metrics_table() -> str:
    """The Prometheus metrics the API exports, read from the metric objects in movie_genie.api.metrics."""
    from prometheus_client.metrics import MetricWrapperBase

    import movie_genie.api.metrics as api_metrics

    rows = ["| metric | type | labels | what it measures |", "| --- | --- | --- | --- |"]
    for value in vars(api_metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        family = value.describe()[0]
        # The exposition names: counters get _total, histograms _bucket/_sum/_count (PromQL sees these).
        name = f"{family.name}_total" if family.type == "counter" else family.name
        labels = ", ".join(f"`{label}`" for label in getattr(value, "_labelnames", ()))
        rows.append(f"| `{name}` | {family.type} | {labels} | {_cell(family.documentation)} |")
    if len(rows) == 2:
        raise GenerationError("movie_genie.api.metrics defines no Prometheus metric")
    return "\n".join(rows) + "\n"


def ddp_status(page: str) -> str:
    """Whether multi-process training (PyTorch DDP) exists in the code: a notice either way, never a stale claim."""
    users = [f for f in module_files() if "DistributedDataParallel" in f.read_text(encoding="utf-8")]
    if not users:
        return (
            '!!! warning "Not yet available"\n'
            "    Multi-process training (PyTorch DDP under `torchrun`) is planned for BERT4Rec and Two-Tower but is\n"
            "    **not in this version**: no module of `src/movie_genie` uses `DistributedDataParallel`, and the\n"
            "    training loops run in one process. This notice is generated from the code at build time, so it\n"
            "    disappears as soon as such support lands.\n"
        )
    links = ", ".join(f"[[src:{f.relative_to(PACKAGE).as_posix()}]]" for f in users)
    return (
        '!!! info "Multi-process training is in the code"\n'
        f"    These modules use PyTorch `DistributedDataParallel`: {links}. This page says how to launch them with\n"
        "    `torchrun` and what changes; this notice is generated from the code at build time.\n"
    )


def alerts_table(alerts_text: str) -> str:
    """The Prometheus alerting rules (deploy/prometheus/alerts.yml): name, severity, wait, summary, expression."""
    rows = ["| alert | severity | after | when |", "| --- | --- | --- | --- |"]
    for group in (yaml.safe_load(alerts_text) or {}).get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            summary = (rule.get("annotations") or {}).get("summary", "")
            expr = " ".join(str(rule.get("expr", "")).split())
            rows.append(
                f"| **{rule['alert']}** | {(rule.get('labels') or {}).get('severity', '')} | {rule.get('for', '')} | "
                f"{_cell(summary)}<br>`{_cell(expr)}` |"
            )
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------------------------------------------
# The evaluation report
# --------------------------------------------------------------------------------------------------------------


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


def _interval(value: float, ci: list[float] | None) -> str:
    return f"{value:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")


def _learned_value(value: Any) -> str:
    """A learned value as it reads best: blend weights as `name weight` pairs, numbers with %g, the rest as JSON."""
    if isinstance(value, Mapping) and value and all(isinstance(v, int | float) for v in value.values()):
        return " · ".join(f"`{k}` {v:.2f}" for k, v in value.items())
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return "`[" + ", ".join(f"{v:g}" for v in value) + "]`"
    return _format_value(value)


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
                f"| {label} | {_interval(metrics.ndcg10, metrics.ci.get('ndcg10'))} | "
                f"{_interval(metrics.hr10, metrics.ci.get('hr10'))} | {metrics.n_users:,} |"
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


def load_benchmark(name: str) -> Any:
    """benchmarks/NAME.py as a module (benchmarks/ is a package of the checkout, not of the installed project)."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.{name}")


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


SHIPPED_RATINGS = ROOT / "datasets" / "ml-latest-small" / "ml-latest-small.zip"
LONG_TAIL_PLOT = "assets/primer/long_tail.png"


def long_tail_section(page: str) -> tuple[str, dict[str, Path]]:
    """The <!-- gen:long-tail --> figure: how the ratings of the shipped data set spread over its films (sorted by
    rating count, the cumulative share of ratings), with the figures read off it; computed at build time from the
    zip that ships with the repository, so it needs no pipeline run."""
    import tempfile
    import zipfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    with zipfile.ZipFile(SHIPPED_RATINGS) as archive, archive.open("ml-latest-small/ratings.csv") as ratings:
        counts = pd.read_csv(ratings, usecols=["movieId"])["movieId"].value_counts().to_numpy()  # most rated first
    share = np.cumsum(counts) / counts.sum()  # (films,) share of all ratings held by the top k films
    films = np.arange(1, len(counts) + 1) / len(counts)
    top = max(1, round(0.01 * len(counts)))
    half = int(np.searchsorted(share, 0.5)) + 1
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(100 * films, 100 * share)
    ax.set_xscale("log")
    ax.set(xlabel="% of films, most rated first (log scale)", ylabel="% of all ratings", title="ml-latest-small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    png = Path(tempfile.mkdtemp(prefix="long-tail-")) / "long_tail.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    text = (
        f"*Computed from `datasets/ml-latest-small/ml-latest-small.zip` when this site was built.* Of "
        f"{len(counts):,} rated films, the {top:,} most rated (1%) hold {share[top - 1]:.0%} of the "
        f"{counts.sum():,} ratings, half of all ratings go to the {half:,} most rated films "
        f"({half / len(counts):.0%} of them), and {int((counts == 1).sum()):,} films were rated exactly once.\n\n"
        f"![The cumulative share of ratings against the share of films]"
        f"({posixpath.relpath(LONG_TAIL_PLOT, posixpath.dirname(page) or '.')})\n"
    )
    return text, {LONG_TAIL_PLOT: png}


# --------------------------------------------------------------------------------------------------------------
# Ablations: one committed JSON per ablation (benchmarks/bench_ablations.py), rendered with its command
# --------------------------------------------------------------------------------------------------------------


def ablation_markdown(result: Mapping[str, Any]) -> str:
    """An ablation's variants side by side (test NDCG@10 and HR@10 with intervals, training seconds), the paired
    difference of the second variant against the first and the command that produced the figures."""
    rows = [
        "| variant | test NDCG@10 [95% CI] | test HR@10 [95% CI] | valid NDCG@10 | training s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for variant in result["variants"]:
        test = variant["test"]
        rows.append(
            f"| {_cell(variant['label'])} | {_interval(test['ndcg10'], test['ci'].get('ndcg10'))} | "
            f"{_interval(test['hr10'], test['ci'].get('hr10'))} | "
            f"{'–' if variant.get('valid_ndcg10') is None else format(variant['valid_ndcg10'], '.4f')} | "
            f"{'–' if variant.get('seconds') is None else format(variant['seconds'], '.0f')} |"
        )
    difference = PairedDifference.model_validate(result["difference"])
    second = result["variants"][1]["label"]
    machine = result.get("machine")
    load = f" on {machine['cpus']} cores at load average {machine['load_average_1m']:.1f}" if machine else ""
    return "\n".join(
        [
            f"*Generated at build time from `docs/results/ablations/{result['name']}.json`; never typed by hand.* "
            f"{result['question']}",
            "",
            f"**Setup.** {result['setup']} {result['dataset']}, full-ranking test NDCG@10 over "
            f"{result['n_test_users']:,} test users, 95% intervals from {result['bootstrap_resamples']:,} bootstrap "
            f"resamples (seed {result['seed']}); run on {result['date']}{load} (training times depend on it).",
            "",
            *rows,
            "",
            f"**{second} minus {difference.against}** (paired bootstrap over the same test users): "
            f"{signed(difference)}. **Verdict:** {second}: **{verdict(difference)}**.",
            "",
            "Reproduce it (after `make pipeline`, which makes the split it reads):",
            "",
            "```bash",
            result["command"],
            "```",
            "",
        ]
    )


def ablation_section(name: str, page: str) -> str:
    """The <!-- gen:ablation NAME --> section; the command to run when its result is not committed yet."""
    path = ABLATIONS / f"{name}.json"
    if not path.is_file():
        return (
            f'!!! info "The `{name}` ablation has not been run"\n\n'
            f"    Run it and commit `docs/results/ablations/{name}.json`:\n\n"
            f"    ```bash\n    .venv/bin/python -m benchmarks.bench_ablations --ablation {name}\n    ```\n"
        )
    try:
        return ablation_markdown(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GenerationError(
            f"{page}: docs/results/ablations/{name}.json is not an ablation result ({exc!r}); "
            f"re-run `python -m benchmarks.bench_ablations --ablation {name}`"
        ) from exc


# --------------------------------------------------------------------------------------------------------------
# The scale benchmark: its committed result rendered by the benchmark's own functions (one rule in one place)
# --------------------------------------------------------------------------------------------------------------

SCALE_RESULT = DOCS / "results" / "scale.json"  # written by `python -m benchmarks.bench_scale --publish`
SCALE_PLOT = "assets/scale/cost.png"


def scale_section(page: str) -> tuple[str, dict[str, Path]]:
    """(markdown, {site path: PNG}) of the <!-- gen:scale --> marker; the command to run when there is no result."""
    if not SCALE_RESULT.is_file():
        return (
            '!!! info "The scale benchmark has not been run"\n\n'
            "    Run it and commit `docs/results/scale.json`:\n\n"
            "    ```bash\n    nice -n 10 .venv/bin/python -m benchmarks.bench_scale --ann --ddp --publish\n    ```\n"
        ), {}
    import sys
    import tempfile

    if str(ROOT) not in sys.path:  # benchmarks/ is a package of the checkout, not of the installed project
        sys.path.insert(0, str(ROOT))
    from benchmarks.scale_report import plot_costs, scale_markdown

    try:
        payload = json.loads(SCALE_RESULT.read_text(encoding="utf-8"))
        png = Path(tempfile.mkdtemp(prefix="scale-plot-")) / "cost.png"
        plot_costs(payload, png)
        return scale_markdown(payload, posixpath.relpath(SCALE_PLOT, posixpath.dirname(page) or ".")), {SCALE_PLOT: png}
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GenerationError(
            f"{page}: docs/results/scale.json is not a scale benchmark result ({exc!r}); "
            "re-run `python -m benchmarks.bench_scale --publish`"
        ) from exc


def benchmark_section(name: str, page: str) -> str:
    """The <!-- gen:liking --> or <!-- gen:reasons --> section: the committed result of benchmarks/bench_NAME.py,
    rendered by the benchmark's own `table`; the command to run when there is none."""
    path = DOCS / "results" / f"{name}.json"
    if not path.is_file():
        return (
            f'!!! info "The {name} benchmark has not been run"\n\n'
            f"    Run it and commit `docs/results/{name}.json`:\n\n"
            f"    ```bash\n    .venv/bin/python -m benchmarks.bench_{name}\n    ```\n"
        )
    import importlib
    import sys

    if str(ROOT) not in sys.path:  # benchmarks/ is a package of the checkout, not of the installed project
        sys.path.insert(0, str(ROOT))
    table = importlib.import_module(f"benchmarks.bench_{name}").table
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return f"{table(payload)}\n\nReproduce it:\n\n```bash\n{payload['command']}\n```\n"
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GenerationError(
            f"{page}: docs/results/{name}.json is not a {name} benchmark result ({exc!r}); "
            f"re-run `python -m benchmarks.bench_{name}`"
        ) from exc


# --------------------------------------------------------------------------------------------------------------
# Notebooks: executed in a fresh kernel at build time, so the code and outputs on the site are this checkout's
# --------------------------------------------------------------------------------------------------------------

NOTEBOOK_CELL_TIMEOUT_S = 600


def notebook_project() -> Path:
    """Where the notebooks run: $MOVIE_GENIE_DOCS_PROJECT (a checkout after `dvc repro`), else this checkout."""
    override = os.environ.get("MOVIE_GENIE_DOCS_PROJECT")
    return Path(override) if override else ROOT


def notebook_inputs_missing(project: Path) -> list[str]:
    """The pipeline outputs the notebooks read (split, report, search index) that `project` does not have yet."""
    layout = Layout.from_params(load_params(project / "params.yaml"))
    needed = [layout.split_dir / ID_MAP_FILE, layout.report_dir / "report.json", layout.index_dir / "manifest.json"]
    return [str(p) for p in needed if not (p if p.is_absolute() else project / p).is_file()]


def execute_notebook(path: Path, project: Path) -> tuple[Any, float]:
    """Run every cell in a fresh Python kernel (this interpreter's) in `project`; (executed notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=NOTEBOOK_CELL_TIMEOUT_S,
        kernel_name="python3",  # jupyter_client starts it with sys.executable: the project's virtual environment
        resources={"metadata": {"path": str(project)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        raise GenerationError(f"{path.relative_to(DOCS)}: a cell failed:\n{exc}") from exc
    return notebook, time.perf_counter() - start


def _fenced(language: str, text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def notebook_markdown(notebook: Any, images: dict[str, bytes] | None = None, prefix: str = "") -> str:
    """Markdown cells as they are (a leading title is the page's own), code cells as Python blocks, each followed by
    what it printed and returned; stderr (warnings, progress bars) is left out. A PNG a cell shows (a matplotlib
    figure) is kept when `images` is given: stored there as PREFIXcell-N-K.png, linked beside the page;
    without it, or for any other rich output, the build fails and says to print text instead."""
    import base64

    parts: list[str] = []
    for number, cell in enumerate(notebook.cells):
        source = cell.source.strip()
        if cell.cell_type == "markdown":
            if number == 0 and source.startswith("# "):
                source = source.split("\n", 1)[1].strip() if "\n" in source else ""
            parts.append(source)
            continue
        if cell.cell_type != "code" or not source:
            continue
        parts.append(_fenced("python", source))
        printed, pictures = [], []
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                printed.append(output.text)
            elif output.output_type in {"execute_result", "display_data"}:
                data = output.get("data", {})
                if "image/png" in data and images is not None:
                    name = f"{prefix}cell-{number}-{len(pictures)}.png"
                    images[name] = base64.b64decode(data["image/png"])
                    pictures.append(f"![Figure of cell {number}]({name})")
                elif "text/plain" not in data:
                    raise GenerationError(f"cell {number} shows {sorted(data)}: print text instead")
                else:
                    printed.append(data["text/plain"] + "\n")
        if printed:
            parts.append(_fenced("text", "".join(printed)))
        parts += pictures
    return "\n\n".join(p for p in parts if p) + "\n"


def notebook_section(notebook_path: str, page: str, standalone: bool = False) -> tuple[str, dict[str, Path]]:
    """The <!-- gen:notebook PATH [standalone] --> section: the notebook run from a clean kernel (with the figures it
    draws), or its code and how to run it. A `standalone` notebook needs no pipeline output (it trains what it shows),
    so it runs in every build."""
    import tempfile

    import nbformat

    path = DOCS / notebook_path
    if not path.is_file():
        raise GenerationError(f"{page}: <!-- gen:notebook {notebook_path} --> names no notebook in docs/")
    download = posixpath.relpath(notebook_path, posixpath.dirname(page) or ".")
    missing = [] if standalone else notebook_inputs_missing(notebook_project())
    if missing:
        head = (
            '!!! info "Not executed in this build"\n\n'
            f"    The notebook reads the pipeline's outputs, which this checkout lacks ({', '.join(missing)}). "
            "Run `make pipeline`, then `make docs`, to see every cell's output here.\n"
        )
        return f"{head}\n{notebook_markdown(nbformat.read(path, as_version=4))}", {}
    notebook, seconds = execute_notebook(path, notebook_project())
    head = (
        f"*Executed cell by cell in a fresh kernel when this site was built ({seconds:.0f} s in all); every output "
        f"below is what the code printed then. [Download the notebook]({download}) and run it yourself in any "
        "Jupyter front end with the project's `.venv` as its kernel.*\n"
    )
    images: dict[str, bytes] = {}
    text = notebook_markdown(notebook, images, prefix=f"{Path(notebook_path).stem}-")
    folder, copies = Path(tempfile.mkdtemp(prefix="notebook-figures-")), {}
    for name, data in images.items():  # beside the page, so the page links them by file name
        (folder / name).write_bytes(data)
        copies[posixpath.join(posixpath.dirname(page), name)] = folder / name
    return f"{head}\n{text}", copies


# --------------------------------------------------------------------------------------------------------------
# OpenAPI -> Markdown
# --------------------------------------------------------------------------------------------------------------

_METHODS = ("get", "post", "put", "patch", "delete")
_LENGTH_KEYS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("multipleOf", "multiple of"),
    ("pattern", "pattern"),
)


def _schema_anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def schema_type(schema: Mapping[str, Any]) -> str:
    """A short Markdown rendering of a JSON schema's type: refs become links to the schema section."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{_schema_anchor(name)})"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            joiner = " & " if combinator == "allOf" else " \\| "
            return joiner.join(schema_type(s) for s in schema[combinator])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {schema_type(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " \\| ".join(str(k) for k in kind)
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {schema_type(schema['additionalProperties'])}"
    return str(kind or "any")


def _constraints(schema: Mapping[str, Any]) -> str:
    """Bounds, lengths and patterns of a schema (and of its non-null anyOf branch)."""
    found = []
    branches = [schema, *[s for s in schema.get("anyOf", []) if s.get("type") != "null"]]
    for branch in branches:
        for key, label in (("minimum", "≥"), ("maximum", "≤"), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in branch:
                found.append(f"{label} {branch[key]:g}" if isinstance(branch[key], float) else f"{label} {branch[key]}")
        for key, label in _LENGTH_KEYS:
            if key in branch:
                found.append(f"{label} `{branch[key]}`")
    return ", ".join(found)


def _default(schema: Mapping[str, Any]) -> str:
    return f"`{json.dumps(schema['default'])}`" if "default" in schema else ""


# (method, path, query, JSON body) of the quick examples; one whose names the spec does not have is left out.
_EXAMPLES: tuple[tuple[str, str, dict[str, Any], dict[str, Any] | None], ...] = (
    ("get", "/api/health", {}, None),
    ("get", "/api/recommendations", {"user_id": 1, "model": "hybrid", "k": 5}, None),
    ("get", "/api/search", {"q": "action movies with robots", "k": 5}, None),
    ("post", "/api/feedback", {}, {"user_id": 1, "movie_id": 50, "kind": "rating", "value": 4.5}),
)


def _example_fits(spec: Mapping[str, Any], method: str, path: str, query: Mapping[str, Any], body: Any) -> bool:
    """Whether the spec has this operation, these query parameters and these body fields."""
    op = spec.get("paths", {}).get(path, {}).get(method)
    if op is None:
        return False
    names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    if not set(query) <= names:
        return False
    if body is None:
        return True
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec.get("components", {}).get("schemas", {}).get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    return set(body) <= set(schema.get("properties", {}))


def curl_examples(spec: Mapping[str, Any], base: str = "http://127.0.0.1:5001") -> str:
    """A few curl commands against a local server, each checked against the spec."""
    lines = []
    for method, path, query, body in _EXAMPLES:
        if not _example_fits(spec, method, path, query, body):
            continue
        url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        if body is None:
            lines.append(f"curl -s '{url}'")
        else:
            lines.append(f"curl -s -X POST '{url}' -H 'Content-Type: application/json' -d '{json.dumps(body)}'")
    if not lines:
        return ""
    return "## Try it\n\nWith `make run` serving on port 5001:\n\n```bash\n" + "\n".join(lines) + "\n```\n"


def openapi_markdown(spec: Mapping[str, Any]) -> str:
    """The REST API reference: every operation (grouped by tag) with parameters and responses, then every schema."""
    info = spec.get("info", {})
    parts = [
        "# REST API",
        "",
        f"*Generated at build time from the OpenAPI {spec.get('openapi', '3')} spec of {info.get('title', 'the API')} "
        f"{info.get('version', '')}* — the same spec the server publishes at `/api/openapi.json` (interactive docs at "
        "`/api/docs`) and `movie-genie openapi` prints; the web app's typed client is generated from it too.",
        "",
        str(info.get("description", "")),
        "",
    ]
    parts.append(curl_examples(spec))
    paths: Mapping[str, Any] = spec.get("paths", {})
    tags = [t["name"] for t in spec.get("tags", [])]
    tag_text = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    operations: list[tuple[str, str, str, Mapping[str, Any]]] = []
    for path, item in paths.items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["other"])[0]
                if tag not in tags:
                    tags.append(tag)
                operations.append((tag, path, method, op))

    parts += ["## Endpoints", "", "| method | path | what it does |", "| --- | --- | --- |"]
    for tag in tags:
        for t, path, method, op in operations:
            if t == tag:
                anchor = f"op-{op.get('operationId', method + path).lower().replace('_', '-')}"
                parts.append(f"| `{method.upper()}` | [`{path}`](#{anchor}) | {_cell(op.get('summary', ''))} |")
    parts.append("")

    for tag in tags:
        ops = [(p, m, o) for t, p, m, o in operations if t == tag]
        if not ops:
            continue
        parts += [f"## {tag.capitalize()} {{#tag-{tag}}}", "", tag_text.get(tag, ""), ""]
        for path, method, op in ops:
            anchor = f"op-{op.get('operationId', method + path).lower().replace('_', '-')}"
            parts += [f"### `{method.upper()} {path}` {{#{anchor}}}", "", op.get("summary", ""), ""]
            if op.get("description"):
                parts += [op["description"], ""]
            params = op.get("parameters", [])
            if params:
                parts += ["| parameter | in | type | required | default | constraints | description |"]
                parts += ["| --- | --- | --- | --- | --- | --- | --- |"]
                for p in params:
                    schema = p.get("schema", {})
                    parts.append(
                        f"| `{p['name']}` | {p.get('in', '')} | {schema_type(schema)} | "
                        f"{'yes' if p.get('required') else 'no'} | {_default(schema)} | {_constraints(schema)} | "
                        f"{_cell(p.get('description', schema.get('description', '')))} |"
                    )
                parts.append("")
            body = op.get("requestBody")
            if body:
                for media, content in body.get("content", {}).items():
                    parts += [f"**Request body** (`{media}`): {schema_type(content.get('schema', {}))}", ""]
            parts += ["| status | meaning | body |", "| --- | --- | --- |"]
            for status in sorted(op.get("responses", {})):
                response = op["responses"][status]
                bodies = [schema_type(c.get("schema", {})) for c in response.get("content", {}).values()]
                parts.append(f"| {status} | {_cell(response.get('description', ''))} | {', '.join(bodies) or '-'} |")
            parts.append("")

    schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
    if schemas:
        parts += ["## Schemas", ""]
        for name in sorted(schemas):
            schema = schemas[name]
            parts += [f"### {name} {{#{_schema_anchor(name)}}}", "", _cell(schema.get("description", "")), ""]
            props: Mapping[str, Any] = schema.get("properties", {})
            required = set(schema.get("required", []))
            if props:
                parts += ["| field | type | required | default | constraints | description |"]
                parts += ["| --- | --- | --- | --- | --- | --- |"]
                for field_name, prop in props.items():
                    parts.append(
                        f"| `{field_name}` | {schema_type(prop)} | {'yes' if field_name in required else 'no'} | "
                        f"{_default(prop)} | {_constraints(prop)} | {_cell(prop.get('description', ''))} |"
                    )
                parts.append("")
            elif "enum" in schema or "type" in schema:
                parts += [f"Type: {schema_type(schema)}", ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------------------
# The CLI reference (click introspection)
# --------------------------------------------------------------------------------------------------------------


def cli_markdown(group: Any) -> str:
    """Every `movie-genie` command with its help and options, from the click command tree itself."""
    import click

    parts = [
        "# Command line",
        "",
        "*Generated at build time from the click commands of `movie_genie.cli`.* Run any command with `--help` for "
        "the same text. Errors a user can fix are printed as one line and exit with status 2.",
        "",
    ]

    def visit(command: click.Command, path: list[str]) -> None:
        name = " ".join(path)
        anchor = "cmd-" + "-".join(path[1:] or ["root"])
        parts.extend([f"## `{name}` {{#{anchor}}}", "", (command.help or "").strip(), ""])
        ctx = click.Context(command, info_name=path[-1])
        usage = " ".join(command.collect_usage_pieces(ctx))
        parts.extend([f"```text\n{name} {usage}\n```", ""])
        rows = []
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                value = param.get_default(ctx, call=False)
                # Flags, unset values (click's UNSET sentinel is an Enum member) and callables show no default.
                shown = value not in (None, False, ()) and not callable(value) and not isinstance(value, enum.Enum)
                default = f"`{value}`" if shown else ""
                rows.append(f"| `{', '.join(param.opts)}` | {_cell(param.help or '')} | {default} |")
            elif isinstance(param, click.Argument):
                rows.append(f"| `{param.name.upper() if param.name else ''}` | argument | |")
        if rows:
            parts.extend(["| option | what it does | default |", "| --- | --- | --- |", *rows, ""])
        if isinstance(command, click.Group):
            for sub_name in sorted(command.commands):
                visit(command.commands[sub_name], [*path, sub_name])

    visit(group, ["movie-genie"])
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------------------
# Source code pages
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """A documented top-level function/class (or method) of a module."""

    name: str  # "ease_weights", "Ease", "Ease.fit"
    kind: str  # "function" | "class" | "method"
    line: int
    summary: str

    @property
    def anchor(self) -> str:
        """The HTML id of the symbol on its code page (dots are not safe in attr_list ids)."""
        return self.name.replace(".", "-")


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def module_symbols(source: str) -> tuple[str, list[Symbol]]:
    """(module docstring, top-level functions and classes plus their methods) of a source file.

    Private names (`_loss`, `_mask`) are listed too, marked private, because the maths on the model pages is often
    computed by one; dunder methods (`__init__`) are left out.
    """
    tree = ast.parse(source)
    symbols: list[Symbol] = []

    def summary(node: ast.AST) -> str:
        doc = ast.get_docstring(node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else ""
        return (doc or "").strip().split("\n\n")[0].replace("\n", " ")

    def kind(name: str, base: str) -> str:
        return f"private {base}" if name.startswith("_") else base

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _dunder(node.name):
            symbols.append(Symbol(node.name, kind(node.name, "function"), node.lineno, summary(node)))
        elif isinstance(node, ast.ClassDef):
            symbols.append(Symbol(node.name, kind(node.name, "class"), node.lineno, summary(node)))
            for child in node.body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and not _dunder(child.name):
                    name = f"{node.name}.{child.name}"
                    symbols.append(Symbol(name, kind(child.name, "method"), child.lineno, summary(child)))
    return ast.get_docstring(tree) or "", symbols


def symbol_lines(source: str, symbol: str) -> tuple[int, int]:
    """(first, last) 1-based line of a function, class or method (dotted, e.g. "Bert4Rec._loss"), decorators
    included; KeyError when the source defines no such symbol."""
    body: list[ast.stmt] = ast.parse(source).body
    node: ast.AST | None = None
    for part in symbol.split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == part
            ),
            None,
        )
        if node is None:
            raise KeyError(symbol)
        body = node.body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    return first, node.end_lineno


def source_excerpt(path: str, symbol: str, page: str) -> str:
    """The exact source lines of SYMBOL in src/movie_genie/PATH as a code block with the file's line numbers,
    under a checked link to the symbol on its code page (the <!-- gen:source PATH#SYMBOL --> marker)."""
    module_file = PACKAGE / path
    if not module_file.is_file():
        raise GenerationError(f"{page}: <!-- gen:source {path}#{symbol} -->: no file src/movie_genie/{path}")
    source = module_file.read_text(encoding="utf-8")
    try:
        first, last = symbol_lines(source, symbol)
    except KeyError:
        raise GenerationError(
            f"{page}: <!-- gen:source {path}#{symbol} -->: src/movie_genie/{path} defines no {symbol}"
        ) from None
    code = textwrap.dedent("\n".join(source.splitlines()[first - 1 : last]))
    return (
        f"*[[src:{path}#{symbol}]] in `src/movie_genie/{path}`, lines {first}–{last}, as the code reads today "
        "(copied from the source at every build):*\n\n"
        f'```python linenums="{first}"\n{code}\n```\n'
    )


def code_page_path(module_file: Path) -> str:
    """docs path of the code page of a source file: src/movie_genie/models/ease.py -> reference/code/models/ease.md."""
    rel = module_file.relative_to(PACKAGE).with_suffix(".md").as_posix()
    return f"{CODE_PAGES}/{rel}"


def code_page(module_file: Path) -> str:
    """One module's page: docstring, a table of its public symbols (each an anchor) and its full source."""
    source = module_file.read_text(encoding="utf-8")
    dotted = ".".join(module_file.relative_to(SRC).with_suffix("").parts)
    try:
        doc, symbols = module_symbols(source)
    except SyntaxError:
        doc, symbols = "", []  # a file mid-edit still gets its page; the test suite catches real syntax errors
    rel = module_file.relative_to(ROOT).as_posix()
    lines = source.count("\n") + 1
    parts = [f"# `{dotted}`", "", f"`{rel}` · {lines} lines", ""]
    if doc:
        parts += ["```text", doc.strip(), "```", ""]
    if symbols:
        # Line-number anchors inside highlighted code are invisible to MkDocs' anchor check, so the table gives
        # the line as text and each symbol its own checked anchor.
        # The line cell jumps to that line of the source below: pymdownx.highlight's line anchors, numbered by code
        # block (the source is the second block when the docstring block comes first). MkDocs cannot see anchors
        # inside highlighted code, so the link is raw HTML; tests/docs checks every one against the built page.
        block = 1 if doc else 0
        parts += ["| name | kind | line | what it does |", "| --- | --- | --- | --- |"]
        parts += [
            f'| <a id="{s.anchor}"></a>`{s.name}` | {s.kind} | <a href="#__codelineno-{block}-{s.line}">{s.line}</a> | '
            f"{_cell(s.summary)} |"
            for s in symbols
        ]
        parts.append("")
    # The source is left out of the search index (Material's data-search-exclude): it would bury the prose.
    parts += ["## Source { data-search-exclude }", "", '```python linenums="1"', source.rstrip("\n"), "```", ""]
    return "\n".join(parts)


def code_index(module_files: list[Path]) -> str:
    """The index of all code pages, grouped by layer (sub-package)."""
    parts = [
        "# Source code",
        "",
        "*Generated at build time from `src/movie_genie`.* Each page shows a module's docstring, its public "
        "functions and classes with their one-line docstrings, and the full source with line numbers. Pages "
        "elsewhere in these docs link here, so a renamed function breaks the docs build instead of the reader.",
        "",
        "| module | what it holds |",
        "| --- | --- |",
    ]
    for f in module_files:
        try:
            doc = module_symbols(f.read_text(encoding="utf-8"))[0]
        except SyntaxError:
            doc = ""
        target = posixpath.relpath(code_page_path(f), CODE_PAGES)
        dotted = ".".join(f.relative_to(SRC).with_suffix("").parts)
        parts.append(f"| [`{dotted}`]({target}) | {_cell(doc.strip().split(chr(10))[0])} |")
    return "\n".join(parts) + "\n"


def module_files() -> list[Path]:
    """Every Python file of the package, in path order (migrations' env and versions included)."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def expand_src_links(text: str, page: str) -> str:
    """Replace [[src:PATH#SYMBOL]] by a relative link to the symbol's code page; fail on unknown files/symbols."""

    def replace(match: re.Match[str]) -> str:
        path, symbol = match.group("path"), match.group("symbol")
        module_file = PACKAGE / path
        if not module_file.is_file():
            raise GenerationError(f"{page}: [[src:{path}]] names no file src/movie_genie/{path}")
        target = posixpath.relpath(code_page_path(module_file), posixpath.dirname(page) or ".")
        if symbol is None:
            return f"[`{path}`]({target})"
        names = {s.name: s for s in module_symbols(module_file.read_text(encoding="utf-8"))[1]}
        if symbol not in names:
            raise GenerationError(f"{page}: [[src:{path}#{symbol}]]: src/movie_genie/{path} defines no {symbol}")
        return f"[`{symbol}`]({target}#{names[symbol].anchor})"

    return _SRC_LINK.sub(replace, text)


# --------------------------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------------------------


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


def expand_page(text: str, page: str, inputs: Mapping[str, str]) -> tuple[str, dict[str, Path]]:
    """Expand the markers and source links of one hand-written page; returns (text, files to copy)."""
    copies: dict[str, Path] = {}

    def replace(match: re.Match[str]) -> str:
        name, args = match.group("name"), match.group("args").strip()
        if name == "stages":
            return stage_table(inputs["dvc"], inputs["params"], page)
        if name == "stage-diagram":
            return stage_diagram(inputs["dvc"])
        if name == "params":
            if not args:
                raise GenerationError(f"{page}: <!-- gen:params --> needs a section, e.g. models.ease")
            section, _, config = args.partition(" ")
            if not config.strip():
                return params_table(inputs["params"], section)
            module_name, _, class_name = config.strip().partition(":")
            module_file = SRC / (module_name.replace(".", "/") + ".py")
            link = f"[[src:{module_file.relative_to(PACKAGE).as_posix()}#{class_name}]]"
            table = config_table(inputs["params"], section, config.strip())
            return table.replace(f"[`{class_name}`]({{code_link}})", link)
        if name == "ddp-status":
            return ddp_status(page)
        if name == "metrics":
            return metrics_table()
        if name == "compose":
            return compose_table(inputs["compose"])
        if name == "alerts":
            return alerts_table(inputs["alerts"])
        if name == "report":
            text, images = report_section(report_dir(), page)
            copies.update(images)
            return text
        if name == "source":
            path, _, symbol = args.partition("#")
            if not path.endswith(".py") or not symbol:
                raise GenerationError(f"{page}: <!-- gen:source {args} --> needs PATH#SYMBOL, e.g. models/ease.py#Ease")
            return source_excerpt(path, symbol, page)
        if name == "model-report":
            if not args:
                raise GenerationError(f"{page}: <!-- gen:model-report --> needs a model name, e.g. ease")
            return model_report_section(report_dir(), args, page)
        if name == "long-tail":
            text, plot = long_tail_section(page)
            copies.update(plot)
            return text
        if name == "figure":
            return figure_section(args, page)
        if name == "training-times":
            report_file = report_dir() / "report.json"
            if not report_file.is_file():
                return report_section(report_dir(), page)[0]
            return training_times_markdown(EvaluationReport.read(report_file))
        if name == "ablation":
            if not args:
                raise GenerationError(f"{page}: <!-- gen:ablation --> needs an ablation name, e.g. two_tower_logq")
            return ablation_section(args, page)
        if name in ("liking", "reasons", "pushdown", "responsiveness"):
            return benchmark_section(name, page)
        if name == "scale":
            text, plot = scale_section(page)
            copies.update(plot)
            return text
        if name == "notebook":
            if not args.split(" ")[0].endswith(".ipynb"):
                raise GenerationError(f"{page}: <!-- gen:notebook {args} --> needs a notebook path under docs/")
            notebook, _, flag = args.partition(" ")
            if flag.strip() not in {"", "standalone"}:
                raise GenerationError(f"{page}: <!-- gen:notebook {args} -->: the only option is `standalone`")
            text, figures = notebook_section(notebook, page, standalone=flag.strip() == "standalone")
            copies.update(figures)
            return text
        raise GenerationError(f"{page}: unknown marker <!-- gen:{name} -->")

    return expand_src_links(_MARKER.sub(replace, text), page), copies


def _read_optional(path: Path) -> str:
    """A file's text, or "" when it does not exist (the generated section is then empty)."""
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def main() -> None:
    """Write every generated page into the build (never into docs/ itself)."""
    import mkdocs_gen_files

    inputs = {
        "dvc": (ROOT / "dvc.yaml").read_text(encoding="utf-8"),
        "params": (ROOT / "params.yaml").read_text(encoding="utf-8"),
        "compose": (ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"),
        "alerts": _read_optional(ROOT / "deploy" / "prometheus" / "alerts.yml"),
    }
    for md in sorted(DOCS.rglob("*.md")):
        page = md.relative_to(DOCS).as_posix()
        original = md.read_text(encoding="utf-8")
        expanded, copies = expand_page(original, page, inputs)
        if expanded != original:
            with mkdocs_gen_files.open(page, "w") as out:
                out.write(expanded)
            mkdocs_gen_files.set_edit_path(page, page)
        for target, source in copies.items():
            with mkdocs_gen_files.open(target, "wb") as out_bin:
                shutil.copyfileobj(source.open("rb"), out_bin)

    with mkdocs_gen_files.open("reference/params.md", "w") as out:
        out.write(params_reference(inputs["params"]))

    from movie_genie.api.app import openapi_spec  # the spec as the server builds it; loads no artefacts

    with mkdocs_gen_files.open("reference/api.md", "w") as out:
        out.write(openapi_markdown(openapi_spec()))

    from movie_genie.cli import cli

    with mkdocs_gen_files.open("reference/cli.md", "w") as out:
        out.write(cli_markdown(cli))

    files = module_files()
    with mkdocs_gen_files.open(f"{CODE_PAGES}/index.md", "w") as out:
        out.write(code_index(files))
    for f in files:
        with mkdocs_gen_files.open(code_page_path(f), "w") as out:
            out.write(code_page(f))


if __name__ in {"__main__", "<run_path>"}:
    try:
        main()
    except GenerationError as exc:  # a message, not a traceback: mkdocs reports it and the build fails
        raise SystemExit(f"docs/gen_pages.py: {exc}") from exc
