"""Train-stage helpers: evaluation params, movie/embedding alignment, the merged training log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_genie.config import ConfigError, Params
from movie_genie.data.idmap import IdMap
from movie_genie.errors import DataError
from movie_genie.evaluation.metrics import EvaluationParams
from movie_genie.evaluation.schema import TrainingRecords
from movie_genie.models.base import TrainingLog
from movie_genie.training.loop import ModelRun, align_embeddings, align_movies, write_training_log

ID_MAP = IdMap.build([1], [30, 10, 20])


def test_evaluation_params_are_validated() -> None:
    assert EvaluationParams.from_params(Params.model_validate({})).bootstrap_resamples == 1000
    with pytest.raises(ConfigError, match=r"(?s)sed.*Extra inputs are not permitted"):  # a typo names itself
        EvaluationParams.from_params(Params.model_validate({"evaluation": {"sed": 1}}))
    with pytest.raises(ConfigError, match="batch_size"):
        EvaluationParams.from_params(Params.model_validate({"evaluation": {"batch_size": 0}}))


def test_movies_are_put_in_item_order_and_gaps_are_an_error() -> None:
    movies = pd.DataFrame({"movie_id": [20, 30, 10, 99], "title": ["b", "c", "a", "z"]})
    assert align_movies(movies, ID_MAP)["title"].tolist() == ["a", "b", "c"]
    with pytest.raises(DataError, match="missing from the movies table"):
        align_movies(movies[movies["movie_id"] != 20], ID_MAP)


def test_embeddings_are_aligned_or_rejected(tmp_path: Path) -> None:
    assert align_embeddings(tmp_path / "absent.npz", ID_MAP) is None
    path = tmp_path / "embeddings.npz"
    vectors = np.eye(3, dtype=np.float32)
    np.savez(path, movie_id=np.array([20, 30, 10]), embedding=vectors)
    aligned = align_embeddings(path, ID_MAP)
    assert aligned is not None
    np.testing.assert_array_equal(aligned, vectors[[2, 0, 1]])
    np.savez(path, movie_id=np.array([20, 30]), embedding=vectors[:2])
    with pytest.raises(DataError, match="lacks embeddings for 1"):
        align_embeddings(path, ID_MAP)
    path.write_bytes(b"garbage")
    with pytest.raises(DataError, match="movie-genie embed"):
        align_embeddings(path, ID_MAP)


def test_training_log_merges_runs(tmp_path: Path) -> None:
    write_training_log(tmp_path, {"ease": ModelRun("ease", TrainingLog(seconds=2.0), None)})
    write_training_log(tmp_path, {"popularity": ModelRun("popularity", TrainingLog(seconds=1.0), None)})
    models = TrainingRecords.read(tmp_path).model_dump(mode="json")["models"]
    assert set(models) == {"ease", "popularity"}
    assert models["ease"]["total_seconds"] == 2.0
