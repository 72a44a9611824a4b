"""One contract every registered model passes (docs/models/index.md, "The recommender protocol"), trained for
seconds on a real ml-100k slice.

Each model is built from its `tiny_config()`, fit on the `ml100k_slice` fixture (first 300 users, full catalogue)
with the validation NDCG@10 validator, and then held to the protocol: any history (new users), empty history,
k beyond the catalogue, no duplicates, seen/excluded items never returned, unknown ids ignored, and a checkpoint
round trip that reproduces the scores exactly. The hybrid blends popularity + EASE here; the neural models join
through the registry under their own names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movie_genie.errors import MovieGenieError
from movie_genie.evaluation.metrics import make_validator
from movie_genie.models.base import Composite, Query, Recommender, TrainingData
from movie_genie.models.catalogue import MODEL_NAMES
from movie_genie.models.registry import available_models, model_class

CONTRACT_MODELS = [name for name in MODEL_NAMES if name in available_models()]
# Models whose tiny config is a real fit (closed form / blend), so a seconds-long run must beat popularity.
QUICK_LEARNERS = ("ease", "hybrid")
_TRAINED: dict[str, tuple[Recommender, float]] = {}


def _train(name: str, data: TrainingData) -> tuple[Recommender, float]:
    """Fit `name` with its tiny config (cached per test session); returns the model and its validation NDCG@10."""
    if name not in _TRAINED:
        cls = model_class(name)
        validate = make_validator(data, seed=0)
        model = cls(cls.tiny_config())  # type: ignore[call-arg]
        if isinstance(model, Composite):
            model.replace_components({c: _train(c, data)[0] for c in model.component_names()})
        model.fit(data, validate)
        _TRAINED[name] = (model, validate(model))
    return _TRAINED[name]


@pytest.fixture(params=CONTRACT_MODELS)
def trained(request: pytest.FixtureRequest, ml100k_slice: TrainingData) -> tuple[str, Recommender, TrainingData]:
    """(name, fitted model, the data it was fitted on)."""
    model, _ = _train(request.param, ml100k_slice)
    return request.param, model, ml100k_slice


def _history(data: TrainingData, user_idx: int = 0) -> list[int]:
    rows = data.train.loc[data.train["user_idx"] == user_idx, "movie_id"]
    return [int(m) for m in rows]


@pytest.mark.slow
class TestRecommenderContract:
    """The protocol every model implements; parametrised over the registry."""

    def test_is_a_recommender_with_its_registry_name(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        name, model, _ = trained
        assert isinstance(model, Recommender)
        assert model.name == name

    def test_new_user_from_history_alone(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, data = trained
        history = [50, 181, 172, 1, 127]  # a made-up user: Star Wars, Return of the Jedi, Empire, Toy Story, ...
        recs = model.recommend(Query(history), k=10)
        assert len(recs) == 10
        ids = [r.movie_id for r in recs]
        assert len(set(ids)) == 10
        assert not set(ids) & set(history)
        assert all(m in data.id_map.item_ids for m in ids)
        scores = [r.score for r in recs]
        assert scores == sorted(scores, reverse=True)
        assert all(np.isfinite(scores))

    def test_empty_history(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, _ = trained
        recs = model.recommend(Query([]), k=7)
        assert len(recs) == 7
        assert len({r.movie_id for r in recs}) == 7

    def test_k_larger_than_catalogue_returns_every_unseen_item_once(
        self, trained: tuple[str, Recommender, TrainingData]
    ) -> None:
        _, model, data = trained
        history = _history(data)
        exclude = [2, 3]
        recs = model.recommend(Query(history, exclude=exclude), k=data.id_map.n_items + 100)
        ids = [r.movie_id for r in recs]
        expected = set(data.id_map.item_ids) - set(history) - set(exclude)
        assert len(ids) == len(set(ids)) == len(expected)
        assert set(ids) == expected

    def test_seen_and_excluded_items_never_returned(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, data = trained
        history = _history(data, 5)
        top = [r.movie_id for r in model.recommend(Query(history), k=20)]
        recs = model.recommend(Query(history, exclude=top[:5]), k=20)
        ids = {r.movie_id for r in recs}
        assert not ids & set(history)
        assert not ids & set(top[:5])

    def test_unknown_movie_ids_in_history_are_ignored(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, data = trained
        history = _history(data, 3)[-20:]
        with_unknown = [999_999, *history, -5, 123_456_789]
        assert model.recommend(Query(with_unknown), k=10) == model.recommend(Query(history), k=10)

    def test_bad_k_is_a_clear_error(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, _ = trained
        with pytest.raises(MovieGenieError, match="k"):
            model.recommend(Query([1, 2]), k=0)

    def test_score_batch_shape(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        _, model, data = trained
        histories = [[0, 1, 2], [], [10]]
        scores = np.asarray(model.score_batch(histories))
        assert scores.shape == (3, data.id_map.n_items)

    def test_checkpoint_round_trip_gives_identical_scores(
        self, trained: tuple[str, Recommender, TrainingData], tmp_path: Path
    ) -> None:
        name, model, data = trained
        path = tmp_path / f"{name}.pt"
        model.save(path)
        loaded = type(model).load(path)
        histories = [[int(i) for i in data.train.loc[data.train["user_idx"] == u, "item_idx"]] for u in (0, 1, 2)]
        histories.append([])
        np.testing.assert_array_equal(
            np.asarray(loaded.score_batch(histories)), np.asarray(model.score_batch(histories))
        )
        history = _history(data, 1)
        assert loaded.recommend(Query(history), k=10) == model.recommend(Query(history), k=10)

    def test_saving_twice_writes_the_same_bytes(
        self, trained: tuple[str, Recommender, TrainingData], tmp_path: Path
    ) -> None:
        """A checkpoint is a function of the model: the hybrid saves its components again beside itself, and a
        different file each time made DVC see their train stages' outputs as modified on every run."""
        name, model, _ = trained
        first, again = tmp_path / "a" / f"{name}.pt", tmp_path / "b" / f"{name}.pt"
        model.save(first)
        model.save(again)
        assert first.read_bytes() == again.read_bytes()

    def test_short_training_run_beats_popularity(self, trained: tuple[str, Recommender, TrainingData]) -> None:
        name, _, data = trained
        if name == "popularity":
            pytest.skip("popularity is the bar the others must clear")
        if name not in QUICK_LEARNERS:
            pytest.skip(f"{name}: its tiny config only checks the protocol; its own tests train it to beat popularity")
        _, score = _TRAINED[name]
        _, popularity = _train("popularity", data)
        assert score > popularity, f"{name} validation NDCG@10 {score:.4f} <= popularity {popularity:.4f}"


def test_loading_another_models_checkpoint_is_a_clear_error(ml100k_slice: TrainingData, tmp_path: Path) -> None:
    model, _ = _train("popularity", ml100k_slice)
    path = tmp_path / "popularity.pt"
    model.save(path)
    with pytest.raises(MovieGenieError, match="popularity"):
        model_class("ease").load(path)
    with pytest.raises(MovieGenieError, match="not found"):
        model_class("ease").load(tmp_path / "missing.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(MovieGenieError, match="not a readable checkpoint"):
        model_class("ease").load(tmp_path / "broken.pt")
