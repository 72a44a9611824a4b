"""The whole documentation site, built once with `mkdocs build --strict`: every warning (a broken link or anchor, a
page missing from the nav, a `[[src:...]]` link to a function that was renamed, a formula that cannot be converted, a
generator that fails) is a failure. The build is offline: no plugin or page fetches anything."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from docs import hooks
from docs.gen import notebooks
from tests.fresh_clone import FreshClone

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


def notebook_project(request: pytest.FixtureRequest) -> Path:
    """Where the build runs the notebooks: $MOVIE_GENIE_DOCS_PROJECT or this checkout when the pipeline has run
    there, else the session's fresh clone after `dvc repro` (a clean checkout, as in CI, has no split, report or
    search index)."""
    project = notebooks.notebook_project()
    if not notebooks.notebook_inputs_missing(project):
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
