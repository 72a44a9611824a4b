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


def _expanded(stages: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each stage as DVC runs it: a `foreach` stage becomes one `name@item` stage per item, `${item}` filled in."""
    expanded: dict[str, Mapping[str, Any]] = {}
    for name, stage in stages.items():
        if "foreach" not in stage:
            expanded[name] = stage
            continue
        template = yaml.safe_dump(stage["do"])
        for item in stage["foreach"]:
            expanded[f"{name}@{item}"] = yaml.safe_load(template.replace("${item}", str(item)))
    return expanded


def stage_table(dvc_text: str, params_text: str, page: str) -> str:
    """The DVC stages in order: command, inputs, outputs, parameters (linked to the parameter reference)."""
    stages = (yaml.safe_load(dvc_text) or {}).get("stages", {})
    data = yaml.safe_load(params_text) or {}
    link = posixpath.relpath("reference/params.md", posixpath.dirname(page) or ".")
    rows = ["| stage | command | reads | writes | parameters |", "| --- | --- | --- | --- | --- |"]
    for name, stage in stages.items():
        label = f"**{name}**"
        if "foreach" in stage:  # one row for the template, naming the stages it makes
            label += " (one stage each: " + ", ".join(f"`{name}@{item}`" for item in stage["foreach"]) + ")"
            stage = stage["do"]
        params = []
        for p in _as_list(stage.get("params")):
            top = p.split(".")[0]
            try:
                if "${item}" not in p:  # a template's parameter exists once per item
                    lookup(data, p)
                params.append(f"[`{p}`]({link}#{top})")
            except KeyError:
                params.append(f"`{p}` (not in params.yaml)")
        rows.append(
            f"| {label} | `{table_cell(str(stage.get('cmd', '')))}` | "
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
    stages = _expanded((yaml.safe_load(dvc_text) or {}).get("stages", {}))
    writers = {out: name for name, st in stages.items() for out in _as_list(st.get("outs"))}
    lines = ["```mermaid", "flowchart LR"]
    for name, stage in stages.items():
        node = name.replace("@", "_")  # Mermaid ids cannot hold "@"
        lines.append(f'  {node}(["{name}"])')
        edges: dict[str, str] = {}  # writer -> the first path read from it (one arrow per pair of stages)
        for dep in _as_list(stage.get("deps")):
            # A stage reads a path another writes, or a folder holding such paths (evaluate reads artifacts/models).
            for out, writer in writers.items():
                if out == dep or out.startswith(dep + "/"):
                    edges.setdefault(writer, dep)
        lines += [f"  {writer.replace('@', '_')} -- {dep} --> {node}" for writer, dep in edges.items()]
    lines.append("```")
    return "\n".join(lines) + "\n"
