"""MkDocs hook: turn the LaTeX that pymdownx.arithmatex marks up into MathML at build time.

Browsers render MathML natively, so the maths needs no MathJax/KaTeX script from a CDN: the site builds and reads
fully offline. A formula latex2mathml cannot convert fails the build with the page and the formula, so a typo is
caught by `mkdocs build --strict` in the test suite instead of showing up as raw TeX.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

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
