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

The generators live in docs/gen/, one module per page family; each is a plain function of its inputs so tests/docs
can call it directly.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # docs/gen and benchmarks/ are packages of the checkout, not of the installed project
    sys.path.insert(0, str(ROOT))

from docs.gen.api_reference import openapi_markdown  # noqa: E402 (importable once the checkout is on the path)
from docs.gen.cli_reference import cli_markdown  # noqa: E402
from docs.gen.code_reference import CODE_PAGES, code_index, code_page, code_page_path, module_files  # noqa: E402
from docs.gen.common import DOCS, GenerationError  # noqa: E402
from docs.gen.markers import expand_page  # noqa: E402
from docs.gen.params_reference import params_reference  # noqa: E402


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
