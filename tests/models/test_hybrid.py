"""Hybrid: weight grid, rank normalisation, tuning on validation, fallbacks and reasons (popularity + EASE)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from movie_genie.evaluation.metrics import make_validator
from movie_genie.models import reasons
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.checkpoint import CheckpointError
from movie_genie.models.ease import Ease, EaseConfig
from movie_genie.models.hybrid import Hybrid, HybridConfig, HybridConfigError, standardise, weight_grid
from movie_genie.models.popularity import Popularity


def test_weight_grid_covers_the_simplex() -> None:
    grid = weight_grid(["a", "b", "c"], 0.5)
    assert len(grid) == 6
    assert all(sum(w.values()) == pytest.approx(1.0) for w in grid)
    assert {"a": 1.0, "b": 0.0, "c": 0.0} in grid and {"a": 0.0, "b": 0.5, "c": 0.5} in grid


def test_standardise_skips_history_and_breaks_ties_by_index() -> None:
    scores = np.array([[0.9, 0.1, 0.5, 0.5, 0.7]])
    idx, values = standardise(scores, [[0]], depth=3)
    # item 0 is seen; then 0.7 (4), a tie at 0.5 broken by index (2 before 3)
    assert idx.tolist() == [[4, 2, 3]]
    # Unseen scores 0.1, 0.5, 0.5, 0.7: mean 0.45, population std sqrt(0.0475); the 3rd candidate (0.5) is the zero.
    np.testing.assert_allclose(values, [[0.2 / np.sqrt(0.0475), 0.0, 0.0]])


def test_standardise_puts_models_on_one_scale() -> None:
    scores = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0], [5.0, 5.0, 5.0, 5.0]])
    _, values = standardise(scores, [[], [], []], depth=2)
    np.testing.assert_allclose(values[0], values[1])  # a scaled copy of a model blends the same
    np.testing.assert_allclose(values[2], [0.0, 0.0])  # a flat row adds nothing


def test_config_requires_popularity_and_known_components() -> None:
    with pytest.raises(HybridConfigError, match="popularity"):
        HybridConfig(components=("ease",))
    with pytest.raises(HybridConfigError, match="needs trained models"):
        Hybrid(HybridConfig(components=("ease", "popularity")), {"popularity": Popularity()})


@pytest.fixture(scope="module")
def fitted(ml100k_slice: TrainingData) -> tuple[Hybrid, dict[str, float]]:
    """A hybrid of popularity + EASE tuned on the slice's validation users, and each model's validation NDCG@10."""
    validate = make_validator(ml100k_slice)
    popularity, ease = Popularity(), Ease(EaseConfig(lambdas=(200.0,)))
    popularity.fit(ml100k_slice)
    ease.fit(ml100k_slice)
    hybrid = Hybrid(
        HybridConfig(components=("ease", "popularity"), candidates=100, weight_step=0.25, refine_step=0.05, factors=8),
        {"ease": ease, "popularity": popularity},
    )
    log = hybrid.fit(ml100k_slice, validate)
    scores = {"popularity": validate(popularity), "ease": validate(ease), "hybrid": validate(hybrid)}
    assert log.best_valid_ndcg10 == pytest.approx(scores["hybrid"])
    return hybrid, scores


def test_tuned_blend_is_at_least_as_good_as_each_component(fitted: tuple[Hybrid, dict[str, float]]) -> None:
    hybrid, scores = fitted
    assert scores["hybrid"] >= max(scores["ease"], scores["popularity"]) - 1e-9
    assert hybrid.weights is not None and sum(hybrid.weights.values()) == pytest.approx(1.0)
    assert hybrid.short_weights is not None
    # the whole search is recorded: the 5-point coarse grid, then hill-climbing moves of 0.05, for both weight sets
    full = [t for t in hybrid.tuning if not t["short"]]
    assert len(full) >= 5
    assert max(t["valid_ndcg10"] for t in full) == pytest.approx(scores["hybrid"])
    assert any(t["short"] for t in hybrid.tuning)


def test_empty_history_falls_back_to_popularity(fitted: tuple[Hybrid, dict[str, float]]) -> None:
    hybrid, _ = fitted
    popular = [r.movie_id for r in hybrid.components["popularity"].recommend(Query([]), k=10)]
    recs = hybrid.recommend(Query([]), k=10)
    assert [r.movie_id for r in recs] == popular
    assert {r.reason for r in recs} == {reasons.popular_right_now()}


def test_short_history_uses_the_short_history_weights(fitted: tuple[Hybrid, dict[str, float]]) -> None:
    hybrid, _ = fitted
    assert hybrid._weights_for(2) == hybrid.short_weights
    assert hybrid._weights_for(hybrid.config.short_history) == hybrid.weights
    assert hybrid._weights_for(0) == {"popularity": 1.0}


def test_every_recommendation_has_a_reason_naming_a_watched_title_or_genre(
    fitted: tuple[Hybrid, dict[str, float]], ml100k_slice: TrainingData
) -> None:
    hybrid, _ = fitted
    history = [50, 181, 172]  # Star Wars, Return of the Jedi, The Empire Strikes Back
    genres = {g for i in ml100k_slice.id_map.items_to_indices(history) for g in hybrid.genres[i]}
    for rec in hybrid.recommend(Query(history), k=10):
        assert rec.reason is not None
        if rec.reason.kind == "watched_film":
            assert rec.reason.movie_id in history
        elif rec.reason.kind == "popular_in_genre":
            assert rec.reason.genre in genres
        else:
            assert rec.reason.kind == "popular_right_now"


def test_popularity_reason_names_the_users_favourite_genre(
    fitted: tuple[Hybrid, dict[str, float]], ml100k_slice: TrainingData
) -> None:
    hybrid, _ = fitted
    history = ml100k_slice.id_map.items_to_indices([50, 181, 172])
    favourite = Counter(g for i in history for g in hybrid.genres[i])
    parts = hybrid._candidates([history])[0]
    # Force the popularity component to be the strongest contributor for a Sci-Fi film nobody in history is.
    star_trek = ml100k_slice.id_map.item_index(222)  # Star Trek: First Contact (Action, Adventure, Sci-Fi)
    assert star_trek is not None
    reason = hybrid._reason(
        star_trek, history, {"popularity": (np.array([star_trek]), np.array([1.0]))}, {"popularity": 1.0}, favourite
    )
    assert reason.kind == "popular_in_genre"
    assert reason.genre in {"Action", "Adventure", "Sci-Fi"}
    assert parts  # candidates come from every component
    assert set(parts) == {"ease", "popularity"}


def test_checkpoint_references_component_files(fitted: tuple[Hybrid, dict[str, float]], tmp_path: Path) -> None:
    hybrid, _ = fitted
    path = tmp_path / "hybrid.pt"
    hybrid.save(path)
    checkpoints = {"hybrid.pt", "ease.pt", "popularity.pt"}
    # Each checkpoint has its digest beside it (files.py), which loading checks.
    assert {p.name for p in tmp_path.iterdir()} == checkpoints | {f"{name}.sha256" for name in checkpoints}
    loaded = Hybrid.load(path)
    assert loaded.config == hybrid.config
    assert set(loaded.components) == {"ease", "popularity"}
    assert loaded.recommend(Query([50, 181, 172]), k=5) == hybrid.recommend(Query([50, 181, 172]), k=5)
    # Components already in memory are shared, not read again.
    ease = Ease.load(tmp_path / "ease.pt")
    assert Hybrid.load_sharing(path, {"ease": ease}).components["ease"] is ease


def test_checkpoint_refuses_a_component_changed_or_missing(
    fitted: tuple[Hybrid, dict[str, float]], ml100k_slice: TrainingData, tmp_path: Path
) -> None:
    hybrid, _ = fitted
    path = tmp_path / "hybrid.pt"
    hybrid.save(path)
    other = Ease(EaseConfig(lambdas=(10.0,)))
    other.fit(ml100k_slice)
    other.save(tmp_path / "ease.pt")  # retrained after the hybrid
    with pytest.raises(CheckpointError, match="retrain the hybrid"):
        Hybrid.load(path)
    (tmp_path / "ease.pt").unlink()
    with pytest.raises(CheckpointError, match="needs its component checkpoint"):
        Hybrid.load(path)
