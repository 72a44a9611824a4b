"""The source code pages (reference/code/**.md), <!-- gen:source PATH#SYMBOL --> excerpts and the checked
[[src:PATH#SYMBOL]] links to them."""

from __future__ import annotations

import ast
import posixpath
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from docs.gen.common import PACKAGE, ROOT, SRC, GenerationError, table_cell

CODE_PAGES = "reference/code"
_SRC_LINK = re.compile(r"\[\[src:(?P<path>[\w/.]+?\.py)(?:#(?P<symbol>[\w.]+))?\]\]")


@dataclass(frozen=True)
class Symbol:
    """A documented top-level function/class (or method) of a module."""

    name: str  # "ease_weights", "Ease", "Ease.fit"
    kind: str  # "function" | "class" | "method"
    line: int
    summary: str

    @property
    def anchor(self) -> str:
        """The HTML id of the symbol on its code page (dots are not safe in attr_list ids)."""
        return self.name.replace(".", "-")


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def module_symbols(source: str) -> tuple[str, list[Symbol]]:
    """(module docstring, top-level functions and classes plus their methods) of a source file.

    Private names (`_loss`, `_mask`) are listed too, marked private, because the maths on the model pages is often
    computed by one; dunder methods (`__init__`) are left out.
    """
    tree = ast.parse(source)
    symbols: list[Symbol] = []

    def summary(node: ast.AST) -> str:
        doc = ast.get_docstring(node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else ""
        return (doc or "").strip().split("\n\n")[0].replace("\n", " ")

    def kind(name: str, base: str) -> str:
        return f"private {base}" if name.startswith("_") else base

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _dunder(node.name):
            symbols.append(Symbol(node.name, kind(node.name, "function"), node.lineno, summary(node)))
        elif isinstance(node, ast.ClassDef):
            symbols.append(Symbol(node.name, kind(node.name, "class"), node.lineno, summary(node)))
            for child in node.body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and not _dunder(child.name):
                    name = f"{node.name}.{child.name}"
                    symbols.append(Symbol(name, kind(child.name, "method"), child.lineno, summary(child)))
    return ast.get_docstring(tree) or "", symbols


def symbol_lines(source: str, symbol: str) -> tuple[int, int]:
    """(first, last) 1-based line of a function, class or method (dotted, e.g. "Bert4Rec._loss"), decorators
    included; KeyError when the source defines no such symbol."""
    body: list[ast.stmt] = ast.parse(source).body
    node: ast.AST | None = None
    for part in symbol.split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == part
            ),
            None,
        )
        if node is None:
            raise KeyError(symbol)
        body = node.body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    return first, node.end_lineno


def source_excerpt(path: str, symbol: str, page: str) -> str:
    """The exact source lines of SYMBOL in src/movie_genie/PATH as a code block with the file's line numbers,
    under a checked link to the symbol on its code page (the <!-- gen:source PATH#SYMBOL --> marker)."""
    module_file = PACKAGE / path
    if not module_file.is_file():
        raise GenerationError(f"{page}: <!-- gen:source {path}#{symbol} -->: no file src/movie_genie/{path}")
    source = module_file.read_text(encoding="utf-8")
    try:
        first, last = symbol_lines(source, symbol)
    except KeyError:
        raise GenerationError(
            f"{page}: <!-- gen:source {path}#{symbol} -->: src/movie_genie/{path} defines no {symbol}"
        ) from None
    code = textwrap.dedent("\n".join(source.splitlines()[first - 1 : last]))
    return (
        f"*[[src:{path}#{symbol}]] in `src/movie_genie/{path}`, lines {first}–{last}, as the code reads today "
        "(copied from the source at every build):*\n\n"
        f'```python linenums="{first}"\n{code}\n```\n'
    )


def code_page_path(module_file: Path) -> str:
    """docs path of the code page of a source file: src/movie_genie/models/ease.py -> reference/code/models/ease.md."""
    rel = module_file.relative_to(PACKAGE).with_suffix(".md").as_posix()
    return f"{CODE_PAGES}/{rel}"


def code_page(module_file: Path) -> str:
    """One module's page: docstring, a table of its public symbols (each an anchor) and its full source."""
    source = module_file.read_text(encoding="utf-8")
    dotted = ".".join(module_file.relative_to(SRC).with_suffix("").parts)
    try:
        doc, symbols = module_symbols(source)
    except SyntaxError:
        doc, symbols = "", []  # a file mid-edit still gets its page; the test suite catches real syntax errors
    rel = module_file.relative_to(ROOT).as_posix()
    lines = source.count("\n") + 1
    parts = [f"# `{dotted}`", "", f"`{rel}` · {lines} lines", ""]
    if doc:
        parts += ["```text", doc.strip(), "```", ""]
    if symbols:
        # Line-number anchors inside highlighted code are invisible to MkDocs' anchor check, so the table gives
        # the line as text and each symbol its own checked anchor.
        # The line cell jumps to that line of the source below: pymdownx.highlight's line anchors, numbered by code
        # block (the source is the second block when the docstring block comes first). MkDocs cannot see anchors
        # inside highlighted code, so the link is raw HTML; tests/docs checks every one against the built page.
        block = 1 if doc else 0
        parts += ["| name | kind | line | what it does |", "| --- | --- | --- | --- |"]
        parts += [
            f'| <a id="{s.anchor}"></a>`{s.name}` | {s.kind} | <a href="#__codelineno-{block}-{s.line}">{s.line}</a> | '
            f"{table_cell(s.summary)} |"
            for s in symbols
        ]
        parts.append("")
    # The source is left out of the search index (Material's data-search-exclude): it would bury the prose.
    parts += ["## Source { data-search-exclude }", "", '```python linenums="1"', source.rstrip("\n"), "```", ""]
    return "\n".join(parts)


def code_index(module_files: list[Path]) -> str:
    """The index of all code pages, grouped by layer (sub-package)."""
    parts = [
        "# Source code",
        "",
        "*Generated at build time from `src/movie_genie`.* Each page shows a module's docstring, its public "
        "functions and classes with their one-line docstrings, and the full source with line numbers. Pages "
        "elsewhere in these docs link here, so a renamed function breaks the docs build instead of the reader.",
        "",
        "| module | what it holds |",
        "| --- | --- |",
    ]
    for f in module_files:
        try:
            doc = module_symbols(f.read_text(encoding="utf-8"))[0]
        except SyntaxError:
            doc = ""
        target = posixpath.relpath(code_page_path(f), CODE_PAGES)
        dotted = ".".join(f.relative_to(SRC).with_suffix("").parts)
        parts.append(f"| [`{dotted}`]({target}) | {table_cell(doc.strip().split(chr(10))[0])} |")
    return "\n".join(parts) + "\n"


def module_files() -> list[Path]:
    """Every Python file of the package, in path order (migrations' env and versions included)."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def expand_src_links(text: str, page: str) -> str:
    """Replace [[src:PATH#SYMBOL]] by a relative link to the symbol's code page; fail on unknown files/symbols."""

    def replace(match: re.Match[str]) -> str:
        path, symbol = match.group("path"), match.group("symbol")
        module_file = PACKAGE / path
        if not module_file.is_file():
            raise GenerationError(f"{page}: [[src:{path}]] names no file src/movie_genie/{path}")
        target = posixpath.relpath(code_page_path(module_file), posixpath.dirname(page) or ".")
        if symbol is None:
            return f"[`{path}`]({target})"
        names = {s.name: s for s in module_symbols(module_file.read_text(encoding="utf-8"))[1]}
        if symbol not in names:
            raise GenerationError(f"{page}: [[src:{path}#{symbol}]]: src/movie_genie/{path} defines no {symbol}")
        return f"[`{symbol}`]({target}#{names[symbol].anchor})"

    return _SRC_LINK.sub(replace, text)
