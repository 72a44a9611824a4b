"""What every benchmark does with its results: print a table's header, write its JSON (atomically: an interrupted
run never leaves a half-written file that the docs would then read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from movie_genie.files import write_text_atomically

ROOT = Path(__file__).resolve().parents[1]


def print_header(header: str) -> None:
    """Print a table's header line with a rule of dashes under it."""
    print(header)
    print("-" * len(header))


def write_json(path: Path, payload: Any) -> None:
    """Write `payload` as indented JSON to `path` (its folder made when missing; dates and paths as strings) and
    say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(payload, indent=2, default=str) + "\n")
    shown = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
    print(f"wrote {shown}")
