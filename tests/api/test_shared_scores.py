"""The home page's attributions share scores (models/shared_scores.py) and still choose exactly the same reasons.

Every model row of a page explains its picks by scoring the same batch (the history, and the history without each
of the latest liked films). With a hybrid that blends SASRec and BERT4Rec, which have rows of their own, a page
scores that batch once per model instead of twice, and every row, pick and reason is the one computed without
sharing, on real MovieLens users of the ml-100k slice.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from flask import Flask

from movie_genie.api.cache import LocalCache
from movie_genie.api.services import Services
from movie_genie.api.services.user_view import UserView
from movie_genie.db.user_stats import taste_of
from movie_genie.models.base import Recommender
from movie_genie.models.catalogue import BERT4REC, EASE, HYBRID, POPULARITY, SASREC
from movie_genie.models.hybrid import Hybrid, HybridConfig
from movie_genie.models.shared_scores import score_batch, sharing_scores

BLENDED = (SASREC.name, BERT4REC.name, EASE.name, POPULARITY.name)


@pytest.fixture()
def services(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The app's services, its hybrid replaced by one that blends the models of the home page's other rows (the
    test artefacts' hybrid blends EASE and popularity only, which no other row serves)."""
    found: Services = app.extensions["movie_genie"]
    loaded = found.models.models
    trained = loaded[HYBRID.name]
    assert isinstance(trained, Hybrid)
    blend = Hybrid(HybridConfig(components=BLENDED, candidates=100), {name: loaded[name] for name in BLENDED})
    blend.id_map, blend.genres = trained.id_map, trained.genres
    blend.popularity, blend.item_factors = trained.popularity, trained.item_factors
    blend.weights = blend.short_weights = {SASREC.name: 0.3, BERT4REC.name: 0.3, EASE.name: 0.2, POPULARITY.name: 0.2}
    monkeypatch.setitem(loaded, HYBRID.name, blend)
    return found


def _page(services: Services, user_id: int) -> list[dict[str, Any]]:
    """The user's home rows as the API sends them (built now: no cache)."""
    with services.db.session() as session:
        view = UserView.read(session, user_id, services.recommendations.space)
        traits = taste_of(session, user_id)
    return [row.model_dump(mode="json") for row in services.home._rows(view, traits)]


def _count_batches(models: dict[str, Recommender], monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Per model, how many batches of more than one history it scores from now on (attribution batches)."""
    counts: Counter[str] = Counter()
    for name in (SASREC.name, BERT4REC.name):
        model = models[name]
        original = model.score_batch

        def counted(histories: Sequence[Sequence[int]], name: str = name, original: Any = original) -> np.ndarray:
            counts[name] += len(histories) > 1
            return np.asarray(original(histories))

        monkeypatch.setattr(model, "score_batch", counted)
    return counts


def test_shared_scores_choose_exactly_the_reasons_computed_without_sharing(services: Services) -> None:
    """10 seeded-random MovieLens users: every row, pick and reason of the page is the same with shared scores as
    scored model by model, and the pages cite liked films (the check is not vacuous)."""
    cited = 0
    for user_id in random.Random(1).sample(range(1, 301), 10):
        alone = _page(services, user_id)
        with sharing_scores():
            shared = _page(services, user_id)
        assert shared == alone, f"user {user_id}: sharing scores changed the home page"
        cited += sum(i["reason"]["kind"] == "liked_film" for row in shared for i in row["items"] if i["reason"])
    assert cited >= 10, f"only {cited} reasons cite a liked film: too few to compare attributions"


def test_a_page_scores_each_models_attribution_batch_once(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """SASRec and BERT4Rec score the attribution batch for the hybrid's row and for their own: once when shared."""
    counts = _count_batches(services.models.models, monkeypatch)
    user_id = 13
    _page(services, user_id)
    assert counts == {SASREC.name: 2, BERT4REC.name: 2}, "without sharing each model scores the batch twice"
    counts.clear()
    monkeypatch.setattr(services.home, "cache", LocalCache(ttl_s=0, max_entries=0))  # build the page, not recall it
    services.home.home(user_id)  # the home page shares scores between its rows
    assert counts == {SASREC.name: 1, BERT4REC.name: 1}


def test_a_shared_batch_is_read_only_and_only_within_the_block(services: Services) -> None:
    """The memo hands out the same read-only array for the same batch inside the block, and nothing outside it."""
    model = services.models.models[EASE.name]
    batch = [[1, 2, 3], [2, 3]]
    with sharing_scores():
        first = score_batch(model, batch)
        assert score_batch(model, [list(h) for h in batch]) is first
        assert score_batch(model, batch[:1]) is not first  # another batch is scored on its own
        with pytest.raises(ValueError, match="read-only"):
            first[0, 0] = 0.0
    assert score_batch(model, batch) is not first
    np.testing.assert_array_equal(score_batch(model, batch), first)
