"""Committed benchmark results as documentation: <!-- gen:ablation NAME -->, <!-- gen:scale --> and the
<!-- gen:liking -->-style sections, each rendered by the benchmark's own functions (one rule in one place) with
the command that reproduces it."""

from __future__ import annotations

import importlib
import json
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docs.gen.common import DOCS, GenerationError, interval, table_cell
from movie_genie.evaluation.report import signed, verdict
from movie_genie.evaluation.schema import PairedDifference

ABLATIONS = DOCS / "results" / "ablations"  # one JSON per ablation, written by benchmarks/bench_ablations.py


def load_benchmark(name: str) -> Any:
    """benchmarks/NAME.py as a module (found beside this package: both live in the checkout's root)."""
    return importlib.import_module(f"benchmarks.{name}")


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
            f"| {table_cell(variant['label'])} | {interval(test['ndcg10'], test['ci'].get('ndcg10'))} | "
            f"{interval(test['hr10'], test['ci'].get('hr10'))} | "
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
    import tempfile

    report = load_benchmark("scale_report")
    try:
        payload = json.loads(SCALE_RESULT.read_text(encoding="utf-8"))
        png = Path(tempfile.mkdtemp(prefix="scale-plot-")) / "cost.png"
        report.plot_costs(payload, png)
        plot = posixpath.relpath(SCALE_PLOT, posixpath.dirname(page) or ".")
        return report.scale_markdown(payload, plot), {SCALE_PLOT: png}
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
    table = load_benchmark(f"bench_{name}").table
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return f"{table(payload)}\n\nReproduce it:\n\n```bash\n{payload['command']}\n```\n"
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GenerationError(
            f"{page}: docs/results/{name}.json is not a {name} benchmark result ({exc!r}); "
            f"re-run `python -m benchmarks.bench_{name}`"
        ) from exc
