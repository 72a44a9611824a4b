"""dvc.yaml as documentation: the <!-- gen:stages --> table and the <!-- gen:stage-diagram --> flowchart."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import yaml

from docs.gen.common import lookup, table_cell


def _as_list(value: Any) -> list[str]:
    """A dvc.yaml field (string, list of strings or of one-key mappings) as a list of names."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):  # e.g. {params.yaml: [a, b]} or {out: {cache: false}}
            for key, inner in item.items():
                names.extend(str(v) for v in inner) if isinstance(inner, list) else names.append(str(key))
        else:
            names.append(str(item))
    return names


def stage_table(dvc_text: str, params_text: str, page: str) -> str:
    """The DVC stages in order: command, inputs, outputs, parameters (linked to the parameter reference)."""
    stages = (yaml.safe_load(dvc_text) or {}).get("stages", {})
    data = yaml.safe_load(params_text) or {}
    link = posixpath.relpath("reference/params.md", posixpath.dirname(page) or ".")
    rows = ["| stage | command | reads | writes | parameters |", "| --- | --- | --- | --- | --- |"]
    for name, stage in stages.items():
        params = []
        for p in _as_list(stage.get("params")):
            top = p.split(".")[0]
            try:
                lookup(data, p)
                params.append(f"[`{p}`]({link}#{top})")
            except KeyError:
                params.append(f"`{p}` (not in params.yaml)")
        rows.append(
            f"| **{name}** | `{table_cell(str(stage.get('cmd', '')))}` | "
            + "<br>".join(f"`{d}`" for d in _as_list(stage.get("deps")))
            + " | "
            + "<br>".join(f"`{o}`" for o in _as_list(stage.get("outs")))
            + " | "
            + "<br>".join(params)
            + " |"
        )
    return "\n".join(rows) + "\n"


def stage_diagram(dvc_text: str) -> str:
    """A Mermaid flowchart of the stages: an edge wherever a stage reads a path another stage writes."""
    stages = (yaml.safe_load(dvc_text) or {}).get("stages", {})
    writers = {out: name for name, st in stages.items() for out in _as_list(st.get("outs"))}
    lines = ["```mermaid", "flowchart LR"]
    for name, stage in stages.items():
        lines.append(f"  {name}([{name}])")
        for dep in _as_list(stage.get("deps")):
            if dep in writers:
                lines.append(f"  {writers[dep]} -- {dep} --> {name}")
    lines.append("```")
    return "\n".join(lines) + "\n"
