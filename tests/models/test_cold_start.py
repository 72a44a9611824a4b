"""Item cold start: a film no training row mentions is placed by its content (genres, year, text) alone.

The ml-100k slice keeps the whole catalogue but only 300 users, so many films have no training rating: exactly the
situation of a new catalogue entry.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from movie_genie.models.base import Query, TrainingData
from movie_genie.models.sasrec import SasRec, SasRecConfig
from movie_genie.models.sequences import unseen_items
from movie_genie.models.two_tower import TwoTower, TwoTowerConfig


@pytest.fixture(scope="module")
def unseen(ml100k_slice: TrainingData) -> np.ndarray:
    """Item indices of the slice's films without a training rating."""
    mask = unseen_items(ml100k_slice.train, ml100k_slice.id_map.n_items).numpy()
    assert 0 < mask.sum() < len(mask)
    return np.flatnonzero(mask)


@pytest.fixture(scope="module")
def twins(ml100k_slice: TrainingData, unseen: np.ndarray) -> tuple[int, int]:
    """Two unseen films with the same genres and year: content alone cannot tell them apart."""
    movies = ml100k_slice.movies
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i in unseen:
        groups[(tuple(sorted(movies["genres"].iloc[i])), movies["year"].iloc[i])].append(int(i))
    pair = next(items[:2] for items in groups.values() if len(items) >= 2)
    return pair[0], pair[1]


@pytest.fixture(scope="module")
def two_tower(ml100k_slice: TrainingData) -> TwoTower:
    """A small Two-Tower trained on the slice."""
    model = TwoTower(TwoTowerConfig(max_len=30, dim=32, batch_size=256, sample_frac=0.3, max_epochs=2, progress=False))
    model.fit(ml100k_slice)
    return model


@pytest.fixture(scope="module")
def sasrec(ml100k_slice: TrainingData) -> SasRec:
    """A small SASRec trained on the slice."""
    model = SasRec(SasRecConfig(max_len=30, dim=32, layers=1, batch_size=32, max_epochs=2, progress=False))
    model.fit(ml100k_slice)
    return model


def test_two_tower_places_an_unseen_film_by_content(
    two_tower: TwoTower, ml100k_slice: TrainingData, twins: tuple[int, int]
) -> None:
    vectors = two_tower.item_vectors()
    first, second = twins
    # No id embedding of its own: films with the same content get the same vector (noise would tell them apart).
    np.testing.assert_allclose(vectors[first], vectors[second], atol=1e-6)
    # ... and it still has neighbours: k distinct films with finite, ordered scores, mostly of its genres.
    movie_id = ml100k_slice.id_map.item_ids[first]
    similar = two_tower.similar_items(movie_id, k=10)
    assert len({r.movie_id for r in similar}) == 10 and movie_id not in [r.movie_id for r in similar]
    assert all(np.isfinite(r.score) for r in similar) and similar[0].score > similar[-1].score
    genres = set(ml100k_slice.movies["genres"].iloc[first])
    by_id = ml100k_slice.movies.set_index("movie_id")["genres"]
    sharing = np.mean([bool(genres & set(by_id[r.movie_id])) for r in similar])
    base_rate = np.mean([bool(genres & set(g)) for g in ml100k_slice.movies["genres"]])
    assert sharing > base_rate, f"{sharing:.0%} of its neighbours share a genre, {base_rate:.0%} of all films do"


def test_sasrec_scores_an_unseen_film_from_its_content(
    sasrec: SasRec, ml100k_slice: TrainingData, unseen: np.ndarray, twins: tuple[int, int]
) -> None:
    id_map = ml100k_slice.id_map
    histories = [
        ml100k_slice.train.loc[ml100k_slice.train["user_idx"] == u, "item_idx"].tolist()[-20:] for u in (3, 40, 120)
    ]
    scores = sasrec.score_batch(histories)  # (3, n_items)
    first, second = twins
    np.testing.assert_allclose(scores[:, first], scores[:, second], rtol=1e-5)
    # Its score follows the history (the content meets the user state), not a constant.
    assert np.isfinite(scores[:, unseen]).all() and np.ptp(scores[:, first]) > 1e-4
    # A full softmax pushes never-seen ids below every film; placed by content they spread through the ranking.
    percentile = (scores[:, None, :] > scores[:, unseen, None]).mean(axis=2)  # (3, n_unseen) share scored higher
    assert 0.1 < percentile.mean() < 0.9, f"unseen films sit at mean percentile {percentile.mean():.2f}"
    # recommend() can return a film without ratings (here, for the history of its own genre's fans).
    assert any(
        id_map.item_index(r.movie_id) in set(unseen.tolist())
        for h in histories
        for r in sasrec.recommend(Query(id_map.indices_to_items(h)), k=100)
    )
