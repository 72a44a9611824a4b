"""The package's layers import downwards only, checked with import-linter; the import-linter contract in
pyproject.toml is the one description of the layers, and README.md and docs/architecture.md must list the same."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "movie_genie"
Layers = list[set[str]]  # top to bottom; a set holds siblings


def contract_layers() -> Layers:
    """The layers of pyproject.toml's layers contract, without the `movie_genie.` prefix."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    prefix = config["root_package"] + "."
    return [{name.strip().removeprefix(prefix) for name in re.split(r"[|:]", layer)} for layer in contract["layers"]]


def readme_layers(text: str) -> Layers:
    """The README's chain of layers: `cli` → `api` → ... with `a` | `b` for siblings."""
    chains = re.findall(r"`[a-z_]+`(?:\s+[→|]\s+`[a-z_]+`)+", text)
    assert len(chains) == 1, f"README.md should list the layers once as `a` → `b` | `c` → ...; found {chains}"
    return [set(re.findall(r"`([a-z_]+)`", step)) for step in chains[0].split("→")]


def architecture_table_layers(text: str) -> Layers:
    """docs/architecture.md's layer table, row by row: the `movie_genie.x` names of its package column."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*layer\s*\|\s*package\s*\|", line))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        package = line.split("|")[2]
        rows.append(set(re.findall(r"`movie_genie\.([a-z_]+)`", package)))
    return rows


def architecture_diagram(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The nodes and edges of the first Mermaid flowchart under "## Layers" in docs/architecture.md."""
    section = text.split("## Layers", 1)[1]
    diagram = section.split("```mermaid", 1)[1].split("```", 1)[0]
    node = r"([a-z_]+)(?:\[[^\]]*\])?"
    edges = {(a, b) for a, b in re.findall(rf"{node}\s*-->\s*{node}", diagram)}
    nodes = set(re.findall(rf"^\s*{node}", diagram, flags=re.MULTILINE)) - {"flowchart"}
    return nodes | {n for edge in edges for n in edge}, edges


def test_import_layers_are_respected() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_covers_every_module_of_the_package() -> None:
    """Every subpackage and top-level module (but the package's own __init__) is in exactly one layer."""
    layered = [name for layer in contract_layers() for name in layer]
    assert len(layered) == len(set(layered)), f"a name is in two layers: {layered}"
    found = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    found |= {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert set(layered) == found, f"in the package, not in the contract: {found - set(layered)}; " + (
        f"in the contract, not in the package: {set(layered) - found}"
    )


def test_readme_lists_the_contracts_layers() -> None:
    assert readme_layers((ROOT / "README.md").read_text(encoding="utf-8")) == contract_layers()


def test_architecture_page_lists_the_contracts_layers() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers = contract_layers()
    assert architecture_table_layers(text) == layers
    nodes, edges = architecture_diagram(text)
    assert nodes == set().union(*layers)
    # One arrow from each layer to each of the next layer down, and no others.
    assert edges == {(a, b) for upper, lower in itertools.pairwise(layers) for a in upper for b in lower}


def test_the_parsers_see_a_difference() -> None:
    """The checks above compare something: a README or a table that orders two layers differently fails."""
    swapped = "`cli` → `api` → `evaluation` → `search` | `models` → `data` → `db` → `config` → `errors`"
    assert readme_layers(swapped) != contract_layers()
    table = "| layer | package |\n| --- | --- |\n| db | `movie_genie.db` |\n| data | `movie_genie.data` |\n"
    assert architecture_table_layers(table) == [{"db"}, {"data"}]
