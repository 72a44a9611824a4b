"""Write the committed reference report, docs/results/report.json, from a pipeline run on the default data set.

The docs' result tables, plots and in-text figures are generated from it (docs/gen_pages.py), so a fresh clone's
`make docs` shows them without running the pipeline. It is the pipeline's `artifacts/report/report.json`, checked
against the report schema, for the default data set only, with what the pages do not use left out (each model's
config, which params.yaml already documents) and floats rounded to six decimals.

    .venv/bin/dvc repro evaluate                       # or `make pipeline`
    .venv/bin/python -m benchmarks.reference_report    # then commit docs/results/report.json

tests/docs/test_reference_report.py checks the committed file against a fresh pipeline run's report, when there is
one, within the reference's 95% intervals.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from movie_genie.config import Layout, load_params
from movie_genie.evaluation.schema import EvaluationReport

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "results" / "report.json"
DEFAULT_DATASET = "ml-latest-small"  # the data set that ships with the repository (params.yaml's default)


def _rounded(value: Any) -> Any:
    """Floats at six decimals, all the way down (the pages show at most four)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def trimmed(report: EvaluationReport) -> dict[str, Any]:
    """The report as the docs use it: every model's entry without its config, floats rounded."""
    data = report.model_dump(mode="json")
    for entry in data["models"].values():
        entry.pop("config", None)
    return dict(_rounded(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    layout = Layout.from_params(load_params(ROOT / "params.yaml"))
    default = ROOT / layout.report_dir / "report.json"
    parser.add_argument("--report", type=Path, default=default, help=f"the pipeline's report (default: {default})")
    args = parser.parse_args()
    report = EvaluationReport.read(args.report)
    if report.dataset != DEFAULT_DATASET:
        raise SystemExit(f"{args.report} is a report of {report.dataset}: the reference is {DEFAULT_DATASET}'s")
    payload = trimmed(report)
    EvaluationReport.model_validate(payload)  # still a report every reader of the schema reads
    REFERENCE.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE.relative_to(ROOT)}: {', '.join(payload['models'])} ({REFERENCE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
