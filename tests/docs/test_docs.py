"""The documentation pages as written: their examples run, their lists render, the model pages show generated
figures and their code, the learner's path and the citations hold, the notebooks are committed clean."""

from __future__ import annotations

import doctest
import importlib
import itertools
import json
import re
import textwrap
from pathlib import Path

import pytest

from docs import hooks
from docs.gen.results import ABLATIONS, ablation_section
from movie_genie.models.catalogue import MODEL_NAMES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

_PYCON = re.compile(r"^(?P<indent>[ \t]*)```pycon[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)


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


def test_formulas_become_mathml() -> None:
    """LaTeX becomes MathML at build time, so no maths script is fetched from a CDN."""
    mathml = hooks.tex_to_mathml(r"\frac{1}{\log_2(r+2)}", "inline")
    assert mathml.startswith("<math") and "<mfrac>" in mathml


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


MODEL_PAGES = sorted((DOCS / "models").glob("*.md"))

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```|~~~).*?^(?P=indent)(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)

_METRIC_LOOKING = re.compile(r"(?<![\w.])0\.\d{3,}(?![\w.])")


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


def test_every_ablation_on_the_pages_is_a_benchmark_with_a_committed_result() -> None:
    """Each model page's ablation marker names an ablation of benchmarks/bench_ablations.py whose JSON (from that
    command) is committed, so every table on the site can be reproduced by the command shown beside it."""
    bench_ablations = importlib.import_module("benchmarks.bench_ablations")  # imported here: it loads torch

    marked = {m for page in MODEL_PAGES for m in re.findall(r"<!-- gen:ablation (\w+) -->", page.read_text("utf-8"))}
    assert marked <= set(bench_ablations.ABLATIONS), marked - set(bench_ablations.ABLATIONS)
    assert {bench_ablations.ABLATIONS[m].model for m in marked} == set(MODEL_NAMES), "one ablation per model page"
    for name in sorted(marked):
        path = ABLATIONS / f"{name}.json"
        if not path.is_file():
            continue  # the page says how to run it
        result = json.loads(path.read_text(encoding="utf-8"))
        assert result["command"] == bench_ablations.command(name)
        assert result["model"] == bench_ablations.ABLATIONS[name].model
        assert [v["label"] for v in result["variants"]] == list(bench_ablations.ABLATIONS[name].labels)
        assert "gen:ablation" not in ablation_section(name, "models/x.md")
