"""MkDocs hook: turn the LaTeX that pymdownx.arithmatex marks up into MathML at build time.

Browsers render MathML natively, so the maths needs no MathJax/KaTeX script from a CDN: the site builds and reads
fully offline. A formula latex2mathml cannot convert fails the build with the page and the formula, so a typo is
caught by `mkdocs build --strict` in the test suite instead of showing up as raw TeX.

It also makes the Mermaid diagrams work offline. Material for MkDocs draws a ```mermaid block with mermaid.js, which
it fetches from a CDN unless a global `mermaid` is already defined. The release file of the npm package `mermaid`
(MIT) is a pinned dev dependency of the web app (web/package.json, installed by `npm ci`); the build checks it is the
version and SHA-256 pinned below, copies it into the site, and every page with a diagram loads it from the site
itself, before Material looks for it. To move to another version: `cd web && npm install --save-dev --save-exact
mermaid@VERSION`, then update MERMAID_VERSION and MERMAID_SHA256 (keep the major version Material expects: its
bundle names mermaid@11 as the fallback).
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

MERMAID_VERSION = "11.17.2"
MERMAID_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
MERMAID_JS = "assets/vendor/mermaid/mermaid.min.js"  # where the site serves it, relative to the site root
MERMAID_PACKAGE = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "mermaid"

# arithmatex (generic mode) output: <span class="arithmatex">\(...\)</span> and <div class="arithmatex">\[...\]</div>
_INLINE = re.compile(r'<span class="arithmatex">\\\((?P<tex>.+?)\\\)</span>', re.DOTALL)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(?P<tex>.+?)\\\]</div>', re.DOTALL)


def tex_to_mathml(tex: str, display: str) -> str:
    """Convert one (HTML-escaped) LaTeX formula to a MathML element; display is "inline" or "block"."""
    return convert(html.unescape(tex).strip(), display=display)


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    """Replace every arithmatex formula on the page by MathML."""

    def replace(match: re.Match[str], display: str) -> str:
        try:
            mathml = tex_to_mathml(match.group("tex"), display)
        except Exception as exc:  # latex2mathml raises several unrelated types on bad input
            raise PluginError(f"{page.file.src_path}: cannot convert formula {match.group('tex')!r}: {exc}") from exc
        return f'<div class="math">{mathml}</div>' if display == "block" else mathml

    html_text = _BLOCK.sub(lambda m: replace(m, "block"), html_text)
    return _INLINE.sub(lambda m: replace(m, "inline"), html_text)


def mermaid_script_tag(page_url: str) -> str:
    """The <script> that loads the vendored mermaid.js, with a path relative to the page (works from file://)."""
    base = posixpath.dirname(page_url) or "."
    return f'<script src="{posixpath.relpath(MERMAID_JS, base)}"></script>'


def check_mermaid_file() -> Path:
    """The installed mermaid.js; fails the build when it is missing or is not the pinned release."""
    path = MERMAID_PACKAGE / "dist" / "mermaid.min.js"
    if not path.is_file():
        raise PluginError(f"{path} is missing: run `npm ci` in web/ (make docs does) so the diagrams can render")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MERMAID_SHA256:
        raise PluginError(f"{path} is not mermaid {MERMAID_VERSION} (sha256 {digest}): update docs/hooks.py")
    return path


def on_config(config: Any, **_: Any) -> Any:
    """Check the diagram script before anything is built."""
    check_mermaid_file()
    return config


def on_post_build(config: Any, **_: Any) -> None:
    """Copy mermaid.js and its licence into the site."""
    target = Path(config["site_dir"]) / MERMAID_JS
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(check_mermaid_file(), target)
    shutil.copyfile(MERMAID_PACKAGE / "LICENSE", target.parent / "LICENSE")


def on_post_page(output: str, page: Any, **_: Any) -> str:
    """Load the vendored mermaid.js on the pages that have a diagram (Material then uses it, not its CDN)."""
    if 'class="mermaid"' not in output:
        return output
    head, sep, tail = output.rpartition("</body>")
    if not sep:
        raise PluginError(f"{page.file.src_path}: no </body> to load mermaid.js before")
    return f"{head}{mermaid_script_tag(page.url)}\n{sep}{tail}"
