"""The <!-- gen:notebook PATH --> pages: a notebook executed in a fresh kernel at build time, so the code and
outputs on the site are this checkout's."""

from __future__ import annotations

import os
import posixpath
import time
from pathlib import Path
from typing import Any

from docs.gen.common import DOCS, ROOT, GenerationError
from movie_genie.config import Layout, load_params
from movie_genie.data.schema import ID_MAP_FILE

NOTEBOOK_CELL_TIMEOUT_S = 600


def notebook_project() -> Path:
    """Where the notebooks run: $MOVIE_GENIE_DOCS_PROJECT (a checkout after `dvc repro`), else this checkout."""
    override = os.environ.get("MOVIE_GENIE_DOCS_PROJECT")
    return Path(override) if override else ROOT


def notebook_inputs_missing(project: Path) -> list[str]:
    """The pipeline outputs the notebooks read (split, report, search index) that `project` does not have yet."""
    layout = Layout.from_params(load_params(project / "params.yaml"))
    needed = [layout.split_dir / ID_MAP_FILE, layout.report_dir / "report.json", layout.index_dir / "manifest.json"]
    return [str(p) for p in needed if not (p if p.is_absolute() else project / p).is_file()]


def execute_notebook(path: Path, project: Path) -> tuple[Any, float]:
    """Run every cell in a fresh Python kernel (this interpreter's) in `project`; (executed notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=NOTEBOOK_CELL_TIMEOUT_S,
        kernel_name="python3",  # jupyter_client starts it with sys.executable: the project's virtual environment
        resources={"metadata": {"path": str(project)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        raise GenerationError(f"{path.relative_to(DOCS)}: a cell failed:\n{exc}") from exc
    return notebook, time.perf_counter() - start


def _fenced(language: str, text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def notebook_markdown(notebook: Any, images: dict[str, bytes] | None = None, prefix: str = "") -> str:
    """Markdown cells as they are (a leading title is the page's own), code cells as Python blocks, each followed by
    what it printed and returned; stderr (warnings, progress bars) is left out. A PNG a cell shows (a matplotlib
    figure) is kept when `images` is given: stored there as PREFIXcell-N-K.png, linked beside the page;
    without it, or for any other rich output, the build fails and says to print text instead."""
    import base64

    parts: list[str] = []
    for number, cell in enumerate(notebook.cells):
        source = cell.source.strip()
        if cell.cell_type == "markdown":
            if number == 0 and source.startswith("# "):
                source = source.split("\n", 1)[1].strip() if "\n" in source else ""
            parts.append(source)
            continue
        if cell.cell_type != "code" or not source:
            continue
        parts.append(_fenced("python", source))
        printed, pictures = [], []
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                printed.append(output.text)
            elif output.output_type in {"execute_result", "display_data"}:
                data = output.get("data", {})
                if "image/png" in data and images is not None:
                    name = f"{prefix}cell-{number}-{len(pictures)}.png"
                    images[name] = base64.b64decode(data["image/png"])
                    pictures.append(f"![Figure of cell {number}]({name})")
                elif "text/plain" not in data:
                    raise GenerationError(f"cell {number} shows {sorted(data)}: print text instead")
                else:
                    printed.append(data["text/plain"] + "\n")
        if printed:
            parts.append(_fenced("text", "".join(printed)))
        parts += pictures
    return "\n\n".join(p for p in parts if p) + "\n"


def notebook_section(notebook_path: str, page: str, standalone: bool = False) -> tuple[str, dict[str, Path]]:
    """The <!-- gen:notebook PATH [standalone] --> section: the notebook run from a clean kernel (with the figures it
    draws), or its code and how to run it. A `standalone` notebook needs no pipeline output (it trains what it shows),
    so it runs in every build."""
    import tempfile

    import nbformat

    path = DOCS / notebook_path
    if not path.is_file():
        raise GenerationError(f"{page}: <!-- gen:notebook {notebook_path} --> names no notebook in docs/")
    download = posixpath.relpath(notebook_path, posixpath.dirname(page) or ".")
    missing = [] if standalone else notebook_inputs_missing(notebook_project())
    if missing:
        head = (
            '!!! info "Not executed in this build"\n\n'
            f"    The notebook reads the pipeline's outputs, which this checkout lacks ({', '.join(missing)}). "
            "Run `make pipeline`, then `make docs`, to see every cell's output here.\n"
        )
        return f"{head}\n{notebook_markdown(nbformat.read(path, as_version=4))}", {}
    notebook, seconds = execute_notebook(path, notebook_project())
    head = (
        f"*Executed cell by cell in a fresh kernel when this site was built ({seconds:.0f} s in all); every output "
        f"below is what the code printed then. [Download the notebook]({download}) and run it yourself in any "
        "Jupyter front end with the project's `.venv` as its kernel.*\n"
    )
    images: dict[str, bytes] = {}
    text = notebook_markdown(notebook, images, prefix=f"{Path(notebook_path).stem}-")
    folder, copies = Path(tempfile.mkdtemp(prefix="notebook-figures-")), {}
    for name, data in images.items():  # beside the page, so the page links them by file name
        (folder / name).write_bytes(data)
        copies[posixpath.join(posixpath.dirname(page), name)] = folder / name
    return f"{head}\n{text}", copies
