"""`movie-genie run` (what `make run` does after setup): the pipeline, with the app served as soon as it is usable.

1. `dvc repro` of what the app needs to answer: data → split → embeddings → the quick models (popularity, EASE:
   seconds) → search index → database.
2. The server starts (`movie-genie serve`, a child process).
3. `dvc repro` runs the rest behind it: the other models (one DVC stage each), the hybrid, the report. Before it
   starts, artifacts/preparing.json lists the models still to come (training/progress.py); the server polls that
   file, loads each checkpoint as it appears and tells people which models are still being prepared.
4. The server keeps serving until interrupted; Ctrl-C stops it and any training still running.

A second run with nothing changed finds every stage up to date, so it serves within seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from movie_genie.config import Layout
from movie_genie.errors import MovieGenieError
from movie_genie.models.catalogue import CATALOGUE, MODEL_NAMES
from movie_genie.training.progress import finish_progress, progress_path, start_progress

# dvc.yaml's stages the server needs before it starts, besides the quick models' train stages.
SERVING_STAGES = ("index", "db")
# A model's train stage in dvc.yaml: `train@<name>` (the foreach), or `train_<name>` (a composite: the hybrid).
_TRAIN_STAGE = re.compile(r"^train(?:@|_)(\w+)$")


class PipelineError(MovieGenieError):
    """A stage the server needs failed: there is nothing to serve yet."""


def first_stages() -> list[str]:
    """The stages to run before serving: the quick models' training, the search index and the database."""
    return [*(f"train@{name}" for name in CATALOGUE.quick()), *SERVING_STAGES]


def models_to_train(status: dict[str, object]) -> list[str]:
    """The models whose train stage `dvc status --json` reports as not up to date, in training order."""
    stale = {match.group(1) for stage in status if (match := _TRAIN_STAGE.match(stage))}
    return [name for name in MODEL_NAMES if name in stale]


def run_first(
    layout: Layout,
    params_file: Path,
    serve_args: Sequence[str],
    echo: Callable[[str], None] = print,
) -> int:
    """Run the serving stages, serve, train the rest behind the server; the server's exit status."""
    bin_dir = Path(sys.executable).parent  # dvc and movie-genie (which the stages call) sit beside this interpreter
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    # Ctrl-C and SIGTERM (a service manager, a test) stop the server and the training, never orphan them (Ctrl-C
    # too when a shell started this in the background, which ignores SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))

    def dvc(*args: str) -> int:
        return _wait(_start([str(bin_dir / "dvc"), *args], env))

    if dvc("repro", *first_stages()) != 0:
        raise PipelineError("the pipeline failed (see the stage output above); fix it and run again")
    to_train = _models_still_to_train(bin_dir, env)
    progress = progress_path(layout)
    if to_train:
        start_progress(progress, to_train)
    serve = [str(bin_dir / "movie-genie"), "--params", str(params_file), "serve", *serve_args]
    server = _start(serve, env)
    try:
        if to_train:
            labels = ", ".join(CATALOGUE.label(name) for name in to_train)
            echo(f"run: serving now; training {labels} behind the server (the app switches to each when it is ready)")
        if dvc("repro") != 0:
            echo("run: a stage failed (see above); the app goes on serving the models it has; fix it and run again")
        elif to_train:
            echo("run: every model is trained and served")
        finish_progress(progress)
        return server.wait()
    finally:
        finish_progress(progress)
        _stop(server)


def _models_still_to_train(bin_dir: Path, env: dict[str, str]) -> list[str]:
    """What `dvc status` says the rest of the pipeline will train; when it cannot say, every model that is not
    quick (the progress file then lists a few that may turn out up to date, and goes when the pipeline ends)."""
    status = subprocess.run([str(bin_dir / "dvc"), "status", "--json"], env=env, capture_output=True, text=True)
    try:
        return models_to_train(json.loads(status.stdout)) if status.returncode == 0 else _not_quick()
    except ValueError:
        return _not_quick()


def _not_quick() -> list[str]:
    return [name for name in MODEL_NAMES if name not in CATALOGUE.quick()]


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child in a process group of its own, so stopping it stops what it started too (DVC's running stage)."""
    return subprocess.Popen(command, env=env, start_new_session=True)


def _wait(child: subprocess.Popen[bytes]) -> int:
    """The child's exit status; when this process is interrupted meanwhile, the child is stopped too."""
    try:
        return child.wait()
    finally:
        _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Stop a child and everything in its process group (DVC does not pass SIGTERM on to the stage it runs):
    SIGTERM to the group (gunicorn and DVC shut down cleanly), SIGKILL to whatever is left after 30 s."""
    _signal_group(child, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=30)
    _signal_group(child, signal.SIGKILL)
    child.wait()


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # when the whole group has exited
        os.killpg(child.pid, sig)
