"""What every generator shares: where the project is, the build's error, and how a value reads in a table."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SRC = ROOT / "src"
PACKAGE = SRC / "movie_genie"


class GenerationError(RuntimeError):
    """A marker or link in a page names something that does not exist (the build fails with this message)."""


def table_cell(text: str) -> str:
    """Escape a value for a Markdown table cell (pipes, newlines, and < > that would read as HTML tags)."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def format_value(value: Any) -> str:
    """A params value as it reads in YAML (null, true, lists inline)."""
    return "`" + json.dumps(value).replace("`", "'") + "`" if not isinstance(value, str) else f"`{value}`"


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of nested mappings; KeyError when any part is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def interval(value: float, ci: list[float] | None) -> str:
    """A figure with its 95% interval, four decimals each."""
    return f"{value:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
