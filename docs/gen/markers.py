"""The markers of the hand-written pages: each <!-- gen:NAME ARGS --> replaced by its generator's section and each
[[src:PATH#SYMBOL]] by a checked link (the list of markers is in docs/gen_pages.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from docs.gen.code_reference import expand_src_links, source_excerpt
from docs.gen.common import PACKAGE, SRC, GenerationError
from docs.gen.deploy import alerts_table, compose_table, ddp_status, metrics_table
from docs.gen.notebooks import notebook_section
from docs.gen.params_reference import config_table, params_table
from docs.gen.pipeline import stage_diagram, stage_table
from docs.gen.primer import long_tail_section
from docs.gen.report import (
    figure_section,
    model_report_section,
    report_dir,
    report_section,
    training_times_markdown,
)
from docs.gen.results import ablation_section, benchmark_section, scale_section
from movie_genie.evaluation.schema import EvaluationReport

_MARKER = re.compile(r"<!--\s*gen:(?P<name>[a-z-]+)(?P<args>[^>]*?)\s*-->")


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
