"""The documentation site: its examples run, its generators read the real project files, and it builds strict.

`mkdocs build --strict` turns every warning into a failure: a broken link or anchor, a page missing from the nav,
a `[[src:...]]` link to a function that was renamed, a formula that cannot be converted, a generator that fails.
The build is offline: no plugin or page fetches anything.
"""

from __future__ import annotations

import doctest
import importlib.util
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from movie_genie.models.catalogue import MODEL_NAMES
from tests.artefacts import Artefacts
from tests.fresh_clone import FreshClone

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
# A fenced ```pycon block, possibly indented (inside an admonition or a list item).
_PYCON = re.compile(r"^(?P<indent>[ \t]*)```pycon[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


gen = _load("gen_pages")
hooks = _load("hooks")


# --- the examples on the pages ---------------------------------------------------------------------------------


def _examples(page: Path) -> list[tuple[int, str]]:
    """(line number, dedented source) of each pycon block of a page."""
    text = page.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 2, textwrap.dedent(m.group("body")))
        for m in _PYCON.finditer(text)
        if ">>>" in m.group("body")
    ]


PAGES_WITH_EXAMPLES = [p for p in PAGES if _examples(p)]


def test_the_docs_have_examples() -> None:
    """The pages that teach the data layer, the metrics and the protocol carry runnable examples."""
    names = {p.relative_to(DOCS).as_posix() for p in PAGES_WITH_EXAMPLES}
    assert {"pipeline.md", "evaluation.md"} <= names, names


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every >>> example on the page gives exactly the output shown (blocks on a page share their names)."""
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    rel = page.relative_to(DOCS).as_posix()
    for line, source in _examples(page):
        test = parser.get_doctest(source, globs, f"{rel}:{line}", str(page), line)
        runner.run(test, out=lambda text: print(text, end=""), clear_globs=False)
        globs.update(test.globs)  # DocTest copies its globals: carry this block's names to the next block
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples on docs/{rel} failed (see output)"


# --- the generators on the real project files -------------------------------------------------------------------


def test_stage_table_lists_every_dvc_stage_with_its_params() -> None:
    """Each stage of dvc.yaml gets a row with its command, outputs and (linked) parameters."""
    dvc_text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    params_text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    table = gen.stage_table(dvc_text, params_text, "pipeline.md")
    stages = yaml.safe_load(dvc_text)["stages"]
    for name, stage in stages.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| **{name}** |"))
        assert f"`{stage['cmd']}`" in row
        for out in stage.get("outs", []):
            assert f"`{out}`" in row
        for param in stage.get("params", []):
            assert f"[`{param}`](reference/params.md#{param.split('.')[0]})" in row


def test_params_table_keeps_values_and_comments() -> None:
    """Values come from YAML and each key's comment from its line or the comment lines above it."""
    text = textwrap.dedent(
        """\
        models:                # one section per model
          ease:
            lambdas: [50, 100] # grid tried on validation
            # float32 halves the memory
            dtype: float32
          name: "a # not a comment"
        """
    )
    table = gen.params_table(text, "models.ease")
    assert "| `models.ease.lambdas` | `[50, 100]` | grid tried on validation |" in table
    assert "| `models.ease.dtype` | `float32` | float32 halves the memory |" in table
    assert gen.params_comments(text)["models"] == "one section per model"
    assert "is not in params.yaml" in gen.params_table(text, "models.bert4rec")


def test_every_params_section_is_on_the_reference_page() -> None:
    """The parameter reference has a section (with an anchor) for every top-level key of params.yaml."""
    params_text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    page = gen.params_reference(params_text)
    for section in yaml.safe_load(params_text):
        assert f"## `{section}` {{#{section}}}" in page


def test_missing_report_gives_instructions_not_a_failure(tmp_path: Path) -> None:
    """Without artifacts/report/report.json the evaluation page says how to produce it."""
    text, images = gen.report_section(tmp_path, "evaluation.md")
    assert "dvc repro evaluate" in text and images == {}


def _fixture_report() -> dict[str, object]:
    """A report with the shape movie_genie.evaluation.report writes (two models, hand-picked numbers)."""

    def split(ndcg: float) -> dict[str, object]:
        return {
            "n_users": 943,
            "hr10": 2 * ndcg,
            "ndcg10": ndcg,
            "mrr": ndcg * 0.9,
            "coverage": 0.25,
            "ci": {"hr10": [2 * ndcg - 0.01, 2 * ndcg + 0.01], "ndcg10": [ndcg - 0.005, ndcg + 0.005]},
            "seconds": 0.5,
        }

    return {
        "dataset": "ml-100k",
        "protocol": "Leave-one-out by time ...",
        "n_items": 1682,
        "n_users": {"valid": 943, "test": 943},
        "cutoff": 10,
        "bootstrap_resamples": 1000,
        "seed": 0,
        "baseline": "ease",
        "best_model": "bert4rec",
        "models": {
            "ease": {"valid": split(0.07), "valid_source": "training", "test": split(0.0737),
                     "training_seconds": 3.2, "ndcg10_vs_ease": 1.0,
                     "vs_best": {"against": "bert4rec", "difference": -0.0369, "ci": [-0.05, -0.02]}},
            "bert4rec": {"valid": split(0.10), "valid_source": "training", "test": split(0.1106),
                         "training_seconds": 170.0, "ndcg10_vs_ease": 1.5,
                         "vs_ease": {"against": "ease", "difference": 0.0369, "ci": [0.02, 0.05]}},
        },
    }  # fmt: skip


def test_report_table_is_generated_from_the_report(tmp_path: Path) -> None:
    """Every model's test numbers with their intervals, the ratio to EASE, the verdict and the plots."""
    (tmp_path / "report.json").write_text(json.dumps(_fixture_report()), encoding="utf-8")
    (tmp_path / "metrics.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    text, images = gen.report_section(tmp_path, "evaluation.md")
    bert4rec = "| **bert4rec** | 0.2212 [0.2112, 0.2312] | 0.1106 [0.1056, 0.1156] | 0.0995 | 0.2500 | 1.50× | 170.0 |"
    assert bert4rec in text
    assert "| ease | 0.1474 [0.1374, 0.1574] | 0.0737 [0.0687, 0.0787] | 0.0663 | 0.2500 | 1.00× | 3.2 |" in text
    assert "| bert4rec | +0.0369 [+0.0200, +0.0500] | beats ease | – | – |" in text
    assert "| ease | – | – | -0.0369 [-0.0500, -0.0200] | worse than bert4rec |" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert {line.count("|") for line in rows[:4]} == {8}, "test table: header, separator and rows must agree"
    assert "![metrics](assets/report/metrics.png)" in text
    assert images == {"assets/report/metrics.png": tmp_path / "metrics.png"}


def test_report_of_another_shape_fails_with_a_clear_message(tmp_path: Path) -> None:
    """A report the generator does not understand stops the build and says what to do, never a silent page."""
    (tmp_path / "report.json").write_text(json.dumps({"models": []}), encoding="utf-8")
    with pytest.raises(gen.GenerationError, match=r"not a valid evaluation report.*movie-genie evaluate"):
        gen.report_section(tmp_path, "evaluation.md")


def test_real_report_renders(artefacts: Artefacts) -> None:
    """A real report (this checkout's when the pipeline has run, else the session's small one) renders every model."""
    report_dir = gen.report_dir()
    if not (report_dir / "report.json").is_file():
        report_dir = artefacts.layout.report_dir
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    text, _ = gen.report_section(report_dir, "evaluation.md")
    assert report["models"], "the report holds no model"
    for name in report["models"]:
        assert f"| {name} |" in text or f"| **{name}** |" in text


def test_api_reference_covers_every_operation_and_schema() -> None:
    """Every path and method of the live OpenAPI spec, and every schema, appears in the API reference."""
    from movie_genie.api.app import openapi_spec

    spec = openapi_spec()
    page = gen.openapi_markdown(spec)
    for path, item in spec["paths"].items():
        for method in item:
            if method in gen._METHODS:
                assert f"### `{method.upper()} {path}`" in page
    for name in spec["components"]["schemas"]:
        assert f"### {name} {{#schema-{name.lower()}}}" in page


def test_openapi_types_render_refs_unions_and_arrays() -> None:
    """$ref becomes a link, nullable unions and arrays read naturally, bounds are listed."""
    nullable = {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}]}
    assert gen.schema_type(nullable) == "string \\| null"
    assert gen._constraints(nullable) == "max length `200`"
    assert gen.schema_type({"type": "array", "items": {"$ref": "#/components/schemas/MovieSummary"}}) == (
        "array of [MovieSummary](#schema-moviesummary)"
    )
    assert gen.schema_type({"enum": ["hybrid", "ease"], "type": "string"}) == '`"hybrid"` \\| `"ease"`'


def test_source_links_are_checked() -> None:
    """[[src:...]] links point at the symbol's code page; unknown files or symbols fail the build."""
    link = gen.expand_src_links("see [[src:data/idmap.py#IdMap.item_index]]", "models/ease.md")
    assert link == "see [`IdMap.item_index`](../reference/code/data/idmap.md#IdMap-item_index)"
    with pytest.raises(gen.GenerationError, match="defines no no_such_function"):
        gen.expand_src_links("[[src:data/idmap.py#no_such_function]]", "index.md")
    with pytest.raises(gen.GenerationError, match="names no file"):
        gen.expand_src_links("[[src:data/nowhere.py]]", "index.md")


def test_formulas_become_mathml() -> None:
    """LaTeX becomes MathML at build time, so no maths script is fetched from a CDN."""
    mathml = hooks.tex_to_mathml(r"\frac{1}{\log_2(r+2)}", "inline")
    assert mathml.startswith("<math") and "<mfrac>" in mathml


# --- the whole site ----------------------------------------------------------------------------------------------


def notebook_project(request: pytest.FixtureRequest) -> Path:
    """Where the build runs the notebooks: $MOVIE_GENIE_DOCS_PROJECT or this checkout when the pipeline has run
    there, else the session's fresh clone after `dvc repro` (a clean checkout, as in CI, has no split, report or
    search index)."""
    project = gen.notebook_project()
    if not gen.notebook_inputs_missing(project):
        return project
    fresh_clone: FreshClone = request.getfixturevalue("fresh_clone")
    return fresh_clone.root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """Build the site once with --strict (warnings fail) into a temporary folder, running the notebooks: this build
    is the test that they still run from a clean kernel (a failing cell fails it)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["MOVIE_GENIE_DOCS_PROJECT"] = str(notebook_project(request))
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_site_builds_with_every_page(site: Path) -> None:
    """Every Markdown page and every generated reference page is in the built site."""
    for page in PAGES:
        assert (site / page.relative_to(DOCS).with_suffix(".html")).is_file(), page
    for generated in ("reference/api.html", "reference/cli.html", "reference/params.html", "reference/code/index.html"):
        assert (site / generated).is_file(), generated
    assert (site / "reference/code/models/ease.html").is_file()


def test_site_has_the_generated_content(site: Path) -> None:
    """The stage table, the API reference and the maths are in the HTML (not the raw markers)."""
    pipeline = (site / "pipeline.html").read_text(encoding="utf-8")
    for name in yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]:
        assert f"<strong>{name}</strong>" in pipeline
    assert "gen:stages" not in pipeline
    assert "/api/recommendations" in (site / "reference/api.html").read_text(encoding="utf-8")
    ease = (site / "models/ease.html").read_text(encoding="utf-8")
    assert "<math" in ease and 'class="arithmatex"' not in ease


def test_site_fetches_nothing_at_build_time(site: Path) -> None:
    """No Google Fonts link is emitted: the theme's fonts are the system's."""
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index


def test_distributed_training_notice_follows_the_code() -> None:
    """The how-to says DDP is missing exactly when no module uses it (the notice is generated, never stale)."""
    uses_ddp = any("DistributedDataParallel" in f.read_text(encoding="utf-8") for f in gen.module_files())
    notice = gen.ddp_status("how-to/distributed-training.md")
    assert ("Not yet available" in notice) != uses_ddp
    assert "<!-- gen:ddp-status -->" in (DOCS / "how-to" / "distributed-training.md").read_text(encoding="utf-8")


def test_compose_table_lists_every_service() -> None:
    """The deploy page's service table is generated from deploy/docker-compose.yml."""
    text = (ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8")
    table = gen.compose_table(text)
    for name in yaml.safe_load(text)["services"]:
        assert f"| **{name}** |" in table


def test_config_table_shows_code_defaults_params_values_and_comments() -> None:
    """A model's table lists every config field, its default, the params.yaml value and what it does."""
    params_text = textwrap.dedent(
        """\
        models:
          ease:
            lambdas: [50, 500]     # grid tried on validation
            per_dataset:
              ml-latest-small:
                dtype: float64
        """
    )
    table = gen.config_table(params_text, "models.ease", "movie_genie.models.ease:EaseConfig")
    assert "| `lambdas` | `[100.0, 200.0, 500.0, 1000.0]` | `[50, 500]` | grid tried on validation |" in table
    assert "| `dtype` | `float32` | ml-latest-small: `float64` |" in table
    with pytest.raises(gen.GenerationError, match="does not have"):
        gen.config_table("models:\n  ease:\n    lambda: 5\n", "models.ease", "movie_genie.models.ease:EaseConfig")


def test_cli_reference_lists_every_command() -> None:
    """Every click command and subcommand has a section; no internal sentinel leaks into the defaults."""
    import click

    from movie_genie.cli import cli

    page = gen.cli_markdown(cli)
    for name, command in cli.commands.items():
        assert f"## `movie-genie {name}`" in page
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"## `movie-genie {name} {sub}`" in page
    assert "Sentinel" not in page


def test_curl_examples_match_the_spec() -> None:
    """The API page's examples use only operations, query parameters and body fields the spec has."""
    from movie_genie.api.app import openapi_spec

    spec = openapi_spec()
    text = gen.curl_examples(spec)
    assert text.count("curl -s") == len(gen._EXAMPLES), "an example no longer fits the API: update _EXAMPLES"
    assert not gen._example_fits(spec, "get", "/api/recommendations", {"no_such_parameter": 1}, None)
    assert not gen._example_fits(spec, "post", "/api/feedback", {}, {"no_such_field": 1})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_no_list_item_is_swallowed_by_the_paragraph_above(page: Path) -> None:
    """A list item right after an indented continuation line renders as text of the item above: keep a blank line."""
    lines = page.read_text(encoding="utf-8").splitlines()
    in_fence = False
    for number, (above, line) in enumerate(itertools.pairwise(lines), start=2):
        if above.strip().startswith("```"):
            in_fence = not in_fence
            continue
        if not in_fence and above.startswith("    ") and above.strip() and re.match(r"(- |\d+\. )", line):
            pytest.fail(f"docs/{page.relative_to(DOCS).as_posix()}:{number}: add a blank line before this list item")


def test_metrics_table_lists_the_api_metrics() -> None:
    """The deploy page's metric table comes from the metric objects the API registers."""
    table = gen.metrics_table()
    assert "`movie_genie_http_request_duration_seconds` | histogram | `route`, `method`, `status`" in table
    assert "_total` | counter |" in table


def test_alerts_table_lists_every_rule() -> None:
    """The deploy page's alert table is generated from deploy/prometheus/alerts.yml."""
    path = ROOT / "deploy" / "prometheus" / "alerts.yml"
    if not path.is_file():
        pytest.skip("no alerting rules in deploy/prometheus")
    text = path.read_text(encoding="utf-8")
    table = gen.alerts_table(text)
    for group in yaml.safe_load(text)["groups"]:
        for rule in group["rules"]:
            assert f"| **{rule['alert']}** |" in table


# --- the course: code beside the maths, generated results, offline diagrams, the learner's path --------------------

MODEL_PAGES = sorted((DOCS / "models").glob("*.md"))
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```|~~~).*?^(?P=indent)(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)
_METRIC_LOOKING = re.compile(r"(?<![\w.])0\.\d{3,}(?![\w.])")


def test_source_marker_copies_the_exact_lines_of_private_methods() -> None:
    """<!-- gen:source PATH#SYMBOL --> shows the symbol's source lines with the file's numbering; private ones too."""
    source_file = ROOT / "src" / "movie_genie" / "models" / "bert4rec.py"
    lines = source_file.read_text(encoding="utf-8").splitlines()
    first, last = gen.symbol_lines(source_file.read_text(encoding="utf-8"), "Bert4Rec._loss")
    assert lines[first - 1].strip().startswith("def _loss(")
    text, _ = gen.expand_page("<!-- gen:source models/bert4rec.py#Bert4Rec._loss -->", "models/bert4rec.md", {})
    assert f'```python linenums="{first}"' in text
    assert textwrap.dedent("\n".join(lines[first - 1 : last])) in text
    assert "(../reference/code/models/bert4rec.md#Bert4Rec-_loss)" in text  # a checked link to the code page
    excerpts = ("models/ease.py#_ease_weights", "models/hybrid.py#standardise", "models/two_tower.py#TwoTower._loss")
    for symbol in excerpts:
        assert "```python" in gen.expand_page(f"<!-- gen:source {symbol} -->", "models/x.md", {})[0]
    with pytest.raises(gen.GenerationError, match=r"defines no Bert4Rec\._no_such_method"):
        gen.expand_page("<!-- gen:source models/bert4rec.py#Bert4Rec._no_such_method -->", "models/x.md", {})
    with pytest.raises(gen.GenerationError, match="no file"):
        gen.expand_page("<!-- gen:source models/nowhere.py#f -->", "models/x.md", {})


def test_private_methods_can_be_linked() -> None:
    """[[src:...]] reaches private methods (the code behind the maths), never dunder ones."""
    link = gen.expand_src_links("[[src:models/bert4rec.py#Bert4Rec._mask]]", "models/bert4rec.md")
    assert link == "[`Bert4Rec._mask`](../reference/code/models/bert4rec.md#Bert4Rec-_mask)"
    with pytest.raises(gen.GenerationError):
        gen.expand_src_links("[[src:models/bert4rec.py#Bert4Rec.__init__]]", "models/bert4rec.md")


@pytest.mark.parametrize("page", MODEL_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_model_pages_type_no_metric_by_hand(page: Path) -> None:
    """A model page shows figures only through generated sections: no hand-typed 0.123 outside code and markers."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    found = _METRIC_LOOKING.findall(text)
    assert not found, f"docs/models/{page.name} types {found} by hand: use <!-- gen:model-report NAME --> instead"


def test_metric_check_catches_a_typed_number() -> None:
    """The check above sees prose numbers and ignores code blocks and markers."""
    text = "reached 0.101 here\n\n```pycon\n>>> 0.455\n```\n<!-- gen:x 0.128 -->\n"
    stripped = re.sub(r"<!--.*?-->", "", _FENCE.sub("", text), flags=re.DOTALL)
    assert _METRIC_LOOKING.findall(stripped) == ["0.101"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_model_page_shows_its_results_and_its_code(name: str) -> None:
    """Each model page has its generated results section, at least one source excerpt and exercises with solutions."""
    text = (DOCS / "models" / f"{name.replace('_', '-')}.md").read_text(encoding="utf-8")
    assert f"<!-- gen:model-report {name} -->" in text
    assert "<!-- gen:source models/" in text
    exercises = text.split("## Exercises", 1)[1] if "## Exercises" in text else ""
    # Every exercise has its solution folded under it (pymdownx.details), after an optional hint.
    assert exercises.count('??? success "Solution"') == len(re.findall(r"^\d+\. \*\*", exercises, re.MULTILINE)) > 0


def test_model_report_shows_test_figures_the_paired_difference_and_the_choices(tmp_path: Path) -> None:
    """The per-model section: test NDCG@10/HR@10 with intervals, the difference to EASE and what fit chose."""
    report = _fixture_report()
    models = report["models"]
    assert isinstance(models, dict)
    models["ease"]["learned"] = {"chosen_lambda": 500.0, "lambdas": [100.0, 500.0]}
    models["hybrid"] = {
        **models["bert4rec"],
        "learned": {"weights": {"two_tower": 0.6, "popularity": 0.4}, "short_weights": {"two_tower": 0.25}},
        "vs_ease": {"against": "ease", "difference": 0.001, "ci": [-0.004, 0.006]},
    }
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    bert4rec = gen.model_report_section(tmp_path, "bert4rec", "models/bert4rec.md")
    assert "| test (final model) | 0.1106 [0.1056, 0.1156] | 0.2212 [0.2112, 0.2312] | 943 |" in bert4rec
    assert "+0.0369 [+0.0200, +0.0500], so it **beats ease**" in bert4rec
    assert "[evaluation](../evaluation.md#results)" in bert4rec
    ease = gen.model_report_section(tmp_path, "ease", "models/ease.md")
    assert "- `chosen_lambda`: `500`" in ease and "- `lambdas`: `[100, 500]`" in ease
    assert "this is the baseline every other model is compared with" in ease
    hybrid = gen.model_report_section(tmp_path, "hybrid", "models/hybrid.md")
    assert "- `weights`: `two_tower` 0.60 · `popularity` 0.40" in hybrid
    assert "**not distinguishable from ease**" in hybrid
    assert "No `two_tower` in this report" in gen.model_report_section(tmp_path, "two_tower", "models/two-tower.md")
    missing = gen.model_report_section(tmp_path / "nowhere", "ease", "models/ease.md")
    assert "dvc repro evaluate" in missing


def test_installed_mermaid_is_the_pinned_release() -> None:
    """web/node_modules/mermaid (a pinned dev dependency) holds mermaid.js at the version and SHA-256 the hook pins."""
    import hashlib

    path = hooks.check_mermaid_file()
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == hooks.MERMAID_SHA256
    assert f'version:"{hooks.MERMAID_VERSION}"'.encode() in data
    assert (hooks.MERMAID_PACKAGE / "LICENSE").read_text(encoding="utf-8").startswith("The MIT License")
    tag = hooks.mermaid_script_tag("models/ease.html")
    assert tag == '<script src="../assets/vendor/mermaid/mermaid.min.js"></script>'


_EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]*\"", re.IGNORECASE)


def test_site_loads_nothing_from_another_host(site: Path) -> None:
    """No page loads a script, stylesheet, image or frame from the internet; diagram pages load the vendored
    mermaid.js (so Material never falls back to its CDN) and the file is in the site."""
    pages = sorted(site.rglob("*.html"))
    assert pages
    diagram_pages = 0
    for html_file in pages:
        text = html_file.read_text(encoding="utf-8")
        external = _EXTERNAL.findall(text)
        assert not external, f"{html_file.relative_to(site)} loads {external[:3]}"
        if 'class="mermaid"' in text:
            diagram_pages += 1
            rel = os.path.relpath(site / hooks.MERMAID_JS, html_file.parent).replace(os.sep, "/")
            assert f'<script src="{rel}"></script>' in text, html_file.relative_to(site)
    assert diagram_pages >= 2, "the architecture and pipeline pages have diagrams"
    assert (site / hooks.MERMAID_JS).stat().st_size > 1_000_000


def test_code_page_line_links_land_on_a_line(site: Path) -> None:
    """The line links of a code page's symbol table point at line anchors that exist in its highlighted source."""
    text = (site / "reference/code/models/bert4rec.html").read_text(encoding="utf-8")
    targets = set(re.findall(r'href="#(__codelineno-\d+-\d+)"', text))
    assert len(targets) > 10
    missing = [t for t in targets if f'id="{t}"' not in text]
    assert not missing, missing[:5]


def test_learners_path_pages_say_what_they_teach() -> None:
    """Every page on the home page's learner's path opens with "What you will learn" and "Read first"."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    section = index.split("## Learner's path", 1)[1].split("\n## ", 1)[0]
    targets = sorted({m.split("#")[0] for m in re.findall(r"\]\(([^)]+\.md(?:#[^)]*)?)\)", section)})
    assert len(targets) >= 11, targets
    for target in [*targets, "glossary.md"]:
        body = (DOCS / target).read_text(encoding="utf-8").split("\n", 1)[1].strip()
        first_paragraph = body.split("\n\n", 1)[0]
        assert first_paragraph.startswith("**What you will learn:**"), target
        assert "<br>\n**Read first:**" in first_paragraph, target


@pytest.mark.parametrize(
    ("page", "reference"),
    [
        ("models/bert4rec.md", "https://arxiv.org/abs/1904.06690"),
        ("models/bert4rec.md", "https://arxiv.org/abs/1808.09781"),
        ("models/bert4rec.md", "https://arxiv.org/abs/2308.07192"),
        ("models/bert4rec.md", "https://arxiv.org/abs/2309.07602"),
        ("models/ease.md", "https://arxiv.org/abs/1905.03375"),
        ("models/two-tower.md", "https://doi.org/10.1145/3298689.3346996"),
        ("search.md", "https://doi.org/10.1561/1500000019"),
        ("search.md", "https://doi.org/10.1145/1571941.1572114"),
        ("evaluation.md", "https://arxiv.org/abs/1912.02263"),
    ],
)
def test_cited_papers_are_linked(page: str, reference: str) -> None:
    """Every paper the pages cite by name is linked, so a learner can read it."""
    assert f"]({reference})" in (DOCS / page).read_text(encoding="utf-8")


def test_no_dangling_design_references() -> None:
    """No page points at a design document section that the site does not have ("DESIGN §5")."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"DESIGN|§\s*\d", text), page


# --- the runnable tutorial and the ablations ---------------------------------------------------------------------

NOTEBOOKS = sorted((DOCS / "notebooks").glob("*.ipynb"))


def test_the_tutorial_has_its_notebooks() -> None:
    """The models and search notebooks exist, each with a page that runs it at build time."""
    assert {p.name for p in NOTEBOOKS} >= {"models.ipynb", "search.ipynb"}
    for notebook in NOTEBOOKS:
        page = notebook.with_suffix(".md").read_text(encoding="utf-8")
        assert re.search(rf"<!-- gen:notebook notebooks/{re.escape(notebook.name)}( standalone)? -->", page)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_clean(notebook: Path) -> None:
    """No outputs in the repository (the site shows the ones of its own run) and the plain Python 3 kernel."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{notebook.name}: clear the outputs"


def test_notebook_renders_code_and_what_it_printed() -> None:
    """Code cells become Python blocks followed by their stdout and results; stderr and the title are left out."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cell = new_code_cell("print('hello')\n1 + 1")
    cell.outputs = [
        new_output("stream", name="stdout", text="hello\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("execute_result", data={"text/plain": "2"}, execution_count=1),
    ]
    notebook = new_notebook(cells=[new_markdown_cell("# Title\n\nIntro."), cell])
    text = gen.notebook_markdown(nbformat.from_dict(notebook))
    assert text == "Intro.\n\n```python\nprint('hello')\n1 + 1\n```\n\n```text\nhello\n2\n```\n"
    cell.outputs = [new_output("display_data", data={"image/png": "iVBOR"})]
    with pytest.raises(gen.GenerationError, match="print text instead"):
        gen.notebook_markdown(nbformat.from_dict(notebook))
    cell.outputs = [new_output("display_data", data={"image/png": "iVBORw=="})]
    images: dict[str, bytes] = {}  # given a place for them, figures are kept and linked beside the page
    text = gen.notebook_markdown(nbformat.from_dict(notebook), images, prefix="nb-")
    assert "![Figure of cell 1](nb-cell-1-0.png)" in text and images == {"nb-cell-1-0.png": b"\x89PNG"}


def test_notebook_pages_show_the_outputs_of_this_build(site: Path) -> None:
    """The site's tutorial pages were executed in this build: timings and metrics printed, nothing left unrun."""
    models = (site / "notebooks" / "models.html").read_text(encoding="utf-8")
    search = (site / "notebooks" / "search.html").read_text(encoding="utf-8")
    for text in (models, search):
        assert "Executed cell by cell in a fresh kernel" in text and "Not executed in this build" not in text
    assert "test NDCG@10" in models and "tiny SASRec minus EASE" in models
    assert re.search(r"\[SASRec \(tiny\): \d+ epochs: [\d.]+ s\]", models)
    assert "nDCG@10" in search and "hybrid" in search
    assert (site / "notebooks" / "models.ipynb").is_file(), "the notebook itself is downloadable from its page"


def _ablation_result() -> dict[str, object]:
    """An ablation result of the shape benchmarks/bench_ablations.py writes (hand-picked numbers)."""

    def test(ndcg: float) -> dict[str, object]:
        return {
            "n_users": 610,
            "hr10": 2 * ndcg,
            "ndcg10": ndcg,
            "mrr": ndcg,
            "coverage": 0.1,
            "ci": {"hr10": [2 * ndcg - 0.01, 2 * ndcg + 0.01], "ndcg10": [ndcg - 0.005, ndcg + 0.005]},
        }

    return {
        "name": "two_tower_logq", "model": "two_tower", "question": "Does log-Q help?", "setup": "Both trained.",
        "command": ".venv/bin/python -m benchmarks.bench_ablations --ablation two_tower_logq",
        "dataset": "ml-latest-small", "n_test_users": 610, "bootstrap_resamples": 1000, "seed": 0,
        "date": "2026-11-30",
        "variants": [
            {"label": "log-Q off", "changes": {}, "test": test(0.04), "valid_ndcg10": 0.05, "seconds": 60.0},
            {"label": "log-Q on", "changes": {}, "test": test(0.05), "valid_ndcg10": None, "seconds": None},
        ],
        "difference": {"against": "log-Q off", "difference": 0.01, "ci": [0.002, 0.018]},
    }  # fmt: skip


def test_ablation_table_shows_both_variants_the_paired_difference_and_the_command() -> None:
    text = gen.ablation_markdown(_ablation_result())
    assert "| log-Q off | 0.0400 [0.0350, 0.0450] | 0.0800 [0.0700, 0.0900] | 0.0500 | 60 |" in text
    assert "| log-Q on | 0.0500 [0.0450, 0.0550] | 0.1000 [0.0900, 0.1100] | – | – |" in text
    assert "+0.0100 [+0.0020, +0.0180]. **Verdict:** log-Q on: **beats log-Q off**." in text
    assert "```bash\n.venv/bin/python -m benchmarks.bench_ablations --ablation two_tower_logq\n```" in text
    missing = gen.ablation_section("no_such_ablation", "models/ease.md")
    assert "has not been run" in missing and "--ablation no_such_ablation" in missing


def test_every_ablation_on_the_pages_is_a_benchmark_with_a_committed_result() -> None:
    """Each model page's ablation marker names an ablation of benchmarks/bench_ablations.py whose JSON (from that
    command) is committed, so every table on the site can be reproduced by the command shown beside it."""
    if str(ROOT) not in sys.path:  # benchmarks/ is a package of the checkout (it imports benchmarks.output)
        sys.path.insert(0, str(ROOT))
    bench_ablations = importlib.import_module("benchmarks.bench_ablations")

    marked = {m for page in MODEL_PAGES for m in re.findall(r"<!-- gen:ablation (\w+) -->", page.read_text("utf-8"))}
    assert marked <= set(bench_ablations.ABLATIONS), marked - set(bench_ablations.ABLATIONS)
    assert {bench_ablations.ABLATIONS[m].model for m in marked} == set(MODEL_NAMES), "one ablation per model page"
    for name in sorted(marked):
        path = gen.ABLATIONS / f"{name}.json"
        if not path.is_file():
            continue  # the page says how to run it
        result = json.loads(path.read_text(encoding="utf-8"))
        assert result["command"] == bench_ablations.command(name)
        assert result["model"] == bench_ablations.ABLATIONS[name].model
        assert [v["label"] for v in result["variants"]] == list(bench_ablations.ABLATIONS[name].labels)
        assert "gen:ablation" not in gen.ablation_section(name, "models/x.md")
