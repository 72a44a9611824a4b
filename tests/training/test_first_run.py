"""`movie-genie run`'s plan against the real dvc.yaml: every trained model has a train stage of its own (so a first
run can train each behind the server, and changing one model's params retrains only it), and the stages it runs
before serving exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from movie_genie.models.catalogue import CATALOGUE, MODEL_NAMES
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
