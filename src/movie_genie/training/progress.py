"""First-run progress: the models `movie-genie run` is still training while the app already serves.

`movie-genie run` serves as soon as the quick models (catalogue: `ModelSpec.quick`) and search are ready, then runs
the rest of the pipeline behind the running server. It writes artifacts/preparing.json listing the models still to
train; each `movie-genie train` run marks its model training, then ready (or failed); the file goes when the
pipeline ends. Every API worker polls it beside serving.json: on a change it loads the checkpoints that appeared,
and /api/health says, in plain words, which models are still being prepared.

The file names the process that wrote it: when that process has gone (the pipeline was interrupted), the file is
stale and reads as nothing, so a crash never leaves the app saying "still training" for ever.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from movie_genie.config import Layout
from movie_genie.files import write_text_atomically

PROGRESS_FILE = "preparing.json"

ModelState = Literal["waiting", "training", "ready", "failed"]


class ModelProgress(BaseModel):
    """One model the pipeline still had to train when the server started."""

    name: str
    state: ModelState = "waiting"
    started_at: datetime | None = None
    seconds: float | None = None  # how long its training took, once it is ready or failed


class Preparing(BaseModel):
    """What artifacts/preparing.json holds."""

    pid: int  # the `movie-genie run` process that trains them
    started_at: datetime
    models: list[ModelProgress]

    @property
    def pending(self) -> list[str]:
        """The models still waiting or training, in training order."""
        return [m.name for m in self.models if m.state in ("waiting", "training")]


def progress_path(layout: Layout) -> Path:
    """Where the file lives: beside the models folder, never inside a DVC output."""
    return layout.artifacts_dir / PROGRESS_FILE


def start_progress(path: Path, models: Iterable[str]) -> Preparing:
    """Write a fresh file listing `models` as waiting, owned by this process."""
    preparing = Preparing(pid=os.getpid(), started_at=datetime.now(UTC), models=[ModelProgress(name=m) for m in models])
    _write(path, preparing)
    return preparing


def read_progress(path: Path) -> Preparing | None:
    """The pipeline's progress; None when no pipeline is training behind the server (no file, an unreadable one,
    or one whose process has exited)."""
    try:
        preparing = Preparing.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    return preparing if _alive(preparing.pid) else None


def pending_models(path: Path) -> list[str]:
    """The models a running first run still has to deliver (none when no pipeline trains behind the server)."""
    preparing = read_progress(path)
    return preparing.pending if preparing else []


def mark_model(path: Path, name: str, state: ModelState) -> None:
    """Record that `name` started training, or finished (ready/failed); nothing when no pipeline runs or the file
    does not list the model (a `movie-genie train` run by hand)."""
    preparing = read_progress(path)
    if preparing is None:
        return
    now = datetime.now(UTC)
    for model in preparing.models:
        if model.name != name:
            continue
        if state == "training":
            model.started_at = now
        elif model.started_at is not None:
            model.seconds = round((now - model.started_at).total_seconds(), 1)
        model.state = state
        _write(path, preparing)
        return


@contextmanager
def training_model(path: Path, name: str) -> Iterator[None]:
    """Mark `name` training for the duration of the block, then ready, or failed when the block raises."""
    mark_model(path, name, "training")
    try:
        yield
    except BaseException:
        mark_model(path, name, "failed")
        raise
    mark_model(path, name, "ready")


def finish_progress(path: Path) -> None:
    """The pipeline ended (done, failed or interrupted): nothing is being prepared any more."""
    path.unlink(missing_ok=True)


def _write(path: Path, preparing: Preparing) -> None:
    write_text_atomically(path, preparing.model_dump_json(indent=2) + "\n")


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists but belongs to another user
        return True
    return True
