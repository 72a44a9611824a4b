"""Model versions without a server: folding app marks into the training data, and the serving state that
`movie-genie models promote/rollback/challenge` edit (training/retrain.py, training/versions.py)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from movie_genie.config import Layout
from movie_genie.db.feedback import FeedbackRow
from movie_genie.errors import DataError
from movie_genie.evaluation.schema import SplitMetrics
from movie_genie.online.experiments import Experiment
from movie_genie.online.serving import ExperimentExistsError, ServingStore
from movie_genie.training.retrain import fold_feedback
from movie_genie.training.versions import BASE, MANIFEST_FILE, FoldedData, VersionedModel, VersionError, VersionManifest

LATER = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
T = int(LATER.timestamp())


def _ratings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "movie_id": [10, 20, 30, 10, 40],
            "rating": [4.0, 1.0, 5.0, 3.0, 2.0],
            "timestamp": [100, 200, 300, 150, 250],
        }
    ).astype({"rating": "float32"})


def _mark(user: int, movie: int, kind: str, value: float | None = None, second: int = 0) -> FeedbackRow:
    return FeedbackRow(user, movie, kind, value, LATER.replace(second=second))


def _rows(frame: pd.DataFrame, user: int) -> list[tuple[int, float, int]]:
    own = frame[frame["user_id"] == user].sort_values("timestamp", kind="stable")
    return [(int(m), float(r), int(t)) for m, r, t in own[["movie_id", "rating", "timestamp"]].itertuples(False)]


def test_app_marks_are_folded_in_as_serving_reads_a_history() -> None:
    marks = [
        _mark(1, 10, "rating", 2.5, second=1),  # a re-rated film moves to its latest touch, with the new stars
        _mark(1, 30, "dislike", second=2),  # a dislike removes the film
        _mark(1, 50, "dismiss", second=3),  # "not interested" says nothing about taste
        _mark(1, 60, "like", second=4),  # a like is an interaction without stars
        _mark(9, 70, "watched", second=5),  # a user created in the app joins the data
    ]
    combined, folded = fold_feedback(_ratings(), marks)
    user_1 = _rows(combined, 1)
    assert [m for m, _, _ in user_1] == [20, 10, 60]
    assert user_1[1] == (10, 2.5, T + 1) and math.isnan(user_1[2][1]) and user_1[2][2] == T + 4
    assert _rows(combined, 2) == [(10, 3.0, 150), (40, 2.0, 250)]  # no marks: untouched
    assert [m for m, _, _ in _rows(combined, 9)] == [70]
    assert folded == FoldedData(ratings=6, users=3, app_events=5, app_users=2, new_users=1)
    assert list(combined.columns) == ["user_id", "movie_id", "rating", "timestamp"]


def test_no_marks_leave_the_data_set_as_it_is() -> None:
    combined, folded = fold_feedback(_ratings(), [])
    pd.testing.assert_frame_equal(combined.reset_index(drop=True), _ratings())
    assert (folded.app_events, folded.app_users, folded.new_users) == (0, 0, 0)


def _layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "data", tmp_path / "artifacts")


def _version(store: ServingStore, version: str, *models: str) -> None:
    metrics = SplitMetrics(n_users=10, hr10=0.1, ndcg10=0.05, mrr=0.04, coverage=0.2)
    manifest = VersionManifest(
        id=version,
        created_at=LATER,
        dataset="ml-latest-small",
        data=FoldedData(ratings=5, users=2, app_events=1, app_users=1, new_users=0),
        models={name: VersionedModel(test=metrics, training_seconds=1.0) for name in models},
        test_users=10,
    )
    folder = store.root / version
    folder.mkdir(parents=True)
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(), encoding="utf-8")


def test_promote_and_rollback_move_each_model_between_versions(tmp_path: Path) -> None:
    store = ServingStore(_layout(tmp_path))
    assert store.state().version_of("ease") == BASE and store.folder(BASE) == store.base_dir
    _version(store, "v20261130-080000", "ease", "popularity")
    _version(store, "v20261130-090000", "ease")
    assert store.promote("v20261130-080000") == {
        "ease": (BASE, "v20261130-080000"),
        "popularity": (BASE, "v20261130-080000"),
    }
    assert store.promote("v20261130-090000", ["ease"]) == {"ease": ("v20261130-080000", "v20261130-090000")}
    assert store.promote("v20261130-090000") == {}  # already serving: nothing changes, nothing is stacked
    assert store.folder(store.state().version_of("ease")) == store.root / "v20261130-090000"
    # A rollback goes one promotion back per model, down to the base version, and then says there is nothing left.
    assert store.rollback(["ease"]) == {"ease": ("v20261130-090000", "v20261130-080000")}
    assert store.rollback() == {"ease": ("v20261130-080000", BASE), "popularity": ("v20261130-080000", BASE)}
    assert store.state().active == {}
    with pytest.raises(VersionError, match="nothing to roll back"):
        store.rollback()
    assert [m.id for m in store.manifests()] == ["v20261130-080000", "v20261130-090000"]  # nothing deleted


def test_version_commands_refuse_what_does_not_exist(tmp_path: Path) -> None:
    store = ServingStore(_layout(tmp_path))
    with pytest.raises(VersionError, match="none yet: run `movie-genie retrain`"):
        store.promote("v20990101-000000")
    _version(store, "v20261130-080000", "ease")
    with pytest.raises(VersionError, match="has no two_tower"):
        store.promote("v20261130-080000", ["two_tower"])
    with pytest.raises(VersionError, match="has no earlier version"):
        store.rollback(["ease"])
    assert not store.state_path.exists()  # a refused command writes nothing


def test_a_damaged_serving_state_is_a_clear_error(tmp_path: Path) -> None:
    store = ServingStore(_layout(tmp_path))
    store.root.mkdir(parents=True)
    store.state_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match=r"not a valid serving state.*deleting serves every model's base version"):
        store.state()


def test_a_challenger_experiment_names_a_model_at_a_version(tmp_path: Path) -> None:
    store = ServingStore(_layout(tmp_path))
    _version(store, "v20261130-080000", "ease")
    challenge = Experiment(name="ease-new", design="interleaving", variants=("ease", "ease@v20261130-080000"))
    store.add_experiment(challenge)
    assert store.state().experiments == [challenge]
    with pytest.raises(ExperimentExistsError):
        store.add_experiment(challenge)
    with pytest.raises(VersionError, match="has no model two_tower"):
        store.add_experiment(Experiment(name="tt", design="ab", variants=("two_tower", "two_tower@v20261130-080000")))
    with pytest.raises(ValueError, match="a model at a version"):
        Experiment(name="bad", design="ab", variants=("ease", "nonsense@v1"))


def _cli(params: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(params), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def test_the_models_commands_promote_list_and_roll_back(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump({"paths": {"data_dir": str(layout.data_dir), "artifacts_dir": str(layout.artifacts_dir)}}),
        encoding="utf-8",
    )
    store = ServingStore(layout)
    _version(store, "v20261130-080000", "ease")
    promoted = _cli(params, "models", "promote", "v20261130-080000")
    assert promoted.returncode == 0 and "promoted ease: base -> v20261130-080000" in promoted.stdout
    listed = _cli(params, "models", "list")
    assert listed.returncode == 0
    assert re.search(r"v20261130-080000\s+ease\s+yes\s+0\.0500", listed.stdout), listed.stdout
    assert _cli(params, "models", "rollback").returncode == 0 and store.state().active == {}
    # A mistake is a message and exit status 2, never a traceback.
    unknown = _cli(params, "models", "promote", "v20990101-000000")
    assert unknown.returncode == 2 and "no model version 'v20990101-000000'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    nothing = _cli(params, "models", "rollback")
    assert nothing.returncode == 2 and "nothing to roll back" in nothing.stderr
