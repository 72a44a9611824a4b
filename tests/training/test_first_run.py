"""`movie-genie run`'s plan against the real dvc.yaml: every trained model has a train stage of its own (so a first
run can train each behind the server, and changing one model's params retrains only it), and the stages it runs
before serving exist."""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml

from movie_genie.models.catalogue import CATALOGUE, MODEL_NAMES
from movie_genie.training import first_run
from movie_genie.training.first_run import first_stages, models_to_train

ROOT = Path(__file__).resolve().parents[2]


def _stages() -> set[str]:
    """dvc.yaml's stage names as DVC names them (a foreach stage's items as `name@item`)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    names: set[str] = set()
    for name, stage in stages.items():
        names |= {f"{name}@{item}" for item in stage["foreach"]} if "foreach" in stage else {name}
    return names


def test_every_trained_model_has_a_train_stage_of_its_own() -> None:
    stages = _stages()
    assert sorted(models_to_train(dict.fromkeys(stages))) == sorted(MODEL_NAMES), (
        "add the model to dvc.yaml's train stages (docs/how-to/add-a-model.md)"
    )
    assert "train" not in stages  # one stage for every model would retrain all of them for any change


def test_the_stages_before_serving_exist_and_hold_the_quick_models() -> None:
    assert set(first_stages()) <= _stages()
    assert CATALOGUE.quick() == ("popularity", "ease")
    assert {f"train@{name}" for name in CATALOGUE.quick()} <= set(first_stages())


def test_models_to_train_reads_dvc_status_in_training_order() -> None:
    status = {"train_hybrid": [], "train@sasrec": [{"changed outs": {}}], "evaluate": [], "index": []}
    assert models_to_train(status) == ["sasrec", "hybrid"]


def test_stopping_a_child_stops_what_it_started(tmp_path: Path) -> None:
    """DVC does not pass SIGTERM on to the stage it runs: stopping `dvc repro` alone left a training running with
    no one to stop it (seen on the default data: BERT4Rec went on after Ctrl-C). The whole group stops now."""
    pid_file = tmp_path / "grandchild.pid"
    # Like DVC: a parent that exits on SIGTERM and leaves its child (the stage) running.
    child = first_run._start(["bash", "-c", f"sleep 300 & echo $! > {pid_file}; wait"], dict(os.environ))
    deadline = time.monotonic() + 10
    while not pid_file.is_file() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the grandchild did not start"
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    first_run._stop(child)
    assert child.returncode is not None
    deadline = time.monotonic() + 5
    while _alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild (the stage) outlived the stop"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether the process runs; one that exited but is not reaped yet (a zombie, state Z) is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
