"""params.yaml as documentation: the parameter reference page (reference/params.md) and the <!-- gen:params -->
tables. Values come from PyYAML, the comment of each key from a line scan (PyYAML drops comments)."""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import re
import textwrap
import tokenize
from collections.abc import Mapping
from typing import Any

import yaml

from docs.gen.common import GenerationError, format_value, lookup, table_cell

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<rest>.*)$")


def params_comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment on its line (or on the comment lines right above it) in a block-style YAML file."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    pending: list[str] = []  # full-line comments waiting for the key below them
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            pending = []
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [match.group("key")])
        rest = match.group("rest")
        # The comment starts at " #" outside the value; values here never hold " #" themselves.
        inline = rest.split(" #", 1)[1].strip() if " #" in rest else ""
        text_parts = [p for p in (*(pending if indent > 0 else []), inline) if p]
        if text_parts:
            comments[dotted] = " ".join(text_parts)
        pending = []
        stack.append((indent, match.group("key")))
    return comments


def params_table(params_text: str, section: str) -> str:
    """A Markdown table of every leaf under `section` of params.yaml: key, value, what it does."""
    data = yaml.safe_load(params_text) or {}
    comments = params_comments(params_text)
    try:
        node = lookup(data, section)
    except KeyError:
        return (
            f'!!! warning "`{section}` is not in params.yaml"\n\n'
            f"    This version of params.yaml has no `{section}` section, so the model or stage that reads it "
            "uses its built-in defaults (see its config class).\n"
        )
    rows = ["| parameter | value | what it does |", "| --- | --- | --- |"]

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            if prefix in comments:
                rows.append(f"| `{prefix}` | | *{table_cell(comments[prefix])}* |")
            for key, child in value.items():
                walk(f"{prefix}.{key}", child)
            return
        rows.append(f"| `{prefix}` | {table_cell(format_value(value))} | {table_cell(comments.get(prefix, ''))} |")

    if isinstance(node, Mapping):
        if section in comments:
            rows.append(f"| `{section}` | | *{table_cell(comments[section])}* |")
        for key, child in node.items():
            walk(f"{section}.{key}", child)
    else:
        walk(section, node)
    return "\n".join(rows) + "\n"


def _field_comments(cls: type) -> dict[str, str]:
    """Field name -> the comment on its line (or the comment lines right above it) in a config class's source."""
    source = textwrap.dedent(inspect.getsource(cls))
    comments_by_line: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments_by_line[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    found: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            parts = []
            above = node.lineno - 1
            while above >= 1 and lines[above - 1].strip().startswith("#"):
                parts.insert(0, comments_by_line.get(above, ""))
                above -= 1
            if node.lineno in comments_by_line:
                parts.append(comments_by_line[node.lineno])
            if parts:
                found[node.target.id] = " ".join(p for p in parts if p)
    return found


def config_table(params_text: str, section: str, config_path: str) -> str:
    """Every field of a config (a pydantic Section): its default in code, its value in params.yaml, and what it does.

    `config_path` is "module:Class". The params.yaml comment wins over the code comment; `per_dataset`
    overrides are listed per data set. A params.yaml key the config does not know fails the build (the code
    would reject it too).
    """
    module_name, _, class_name = config_path.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    data = yaml.safe_load(params_text) or {}
    yaml_comments = params_comments(params_text)
    try:
        values = lookup(data, section) or {}
    except KeyError:
        values = {}
    overrides: Mapping[str, Mapping[str, Any]] = values.get("per_dataset") or {}
    names = list(cls.model_fields)
    unknown = sorted(set(values) - set(names) - {"per_dataset"})
    unknown += sorted({k for o in overrides.values() for k in o} - set(names))
    if unknown:
        raise GenerationError(f"params.yaml `{section}` sets {unknown}, which {class_name} does not have")
    code_comments = _field_comments(cls)
    rows = [
        f"*From [`{class_name}`]({{code_link}}) and the `{section}` section of `params.yaml`; a blank params.yaml cell "
        "means the default in code is used.*",
        "",
        "| parameter | default in code | params.yaml | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in cls.model_fields.items():
        default = "required" if field.is_required() else format_value(field.get_default(call_default_factory=True))
        setting = [format_value(values[name])] if name in values else []
        setting += [f"{data_set}: {format_value(o[name])}" for data_set, o in overrides.items() if name in o]
        what = yaml_comments.get(f"{section}.{name}") or code_comments.get(name, "")
        cells = "<br>".join(table_cell(x) for x in setting)
        rows.append(f"| `{name}` | {table_cell(default)} | {cells} | {table_cell(what)} |")
    return "\n".join(rows) + "\n"


def params_reference(params_text: str) -> str:
    """The whole params.yaml as one page: a section per top-level key."""
    data = yaml.safe_load(params_text) or {}
    parts = [
        "# Parameters",
        "",
        "*Generated from `params.yaml` at build time.* Every tunable value lives in `params.yaml`; DVC re-runs "
        "the stages that read a value when it changes (see [the data pipeline](../pipeline.md)). Secrets and URLs "
        "(`DATABASE_URL`, `REDIS_URL`, `TMDB_API_KEY`, `CORS_ORIGINS`) come from the environment instead.",
        "",
    ]
    for section in data:
        parts += [f"## `{section}` {{#{section}}}", "", params_table(params_text, section), ""]
    return "\n".join(parts)
