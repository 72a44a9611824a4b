"""Recommendations: a user's top-k from one model, each with a reason, cached per (model, model version, user,
feedback version, k); the history is read from the database on every cache miss."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache
from movie_genie.api.config import ServingConfig
from movie_genie.api.envelope import to_json_bytes
from movie_genie.api.metrics import count_cache, time_inference
from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.database import Database
from movie_genie.api.services.explanations import Explainer
from movie_genie.api.services.item_space import ItemSpace
from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.api.services.served import Served, shown
from movie_genie.api.services.user_view import UserView
from movie_genie.models.base import Query, Recommendation, Recommender
from movie_genie.models.catalogue import CATALOGUE

# Most extra candidates asked of a model so that films near a dislike can be pushed below the top k.
PUSHED_DOWN_EXTRA = 100


# The one list of a recommendations answer, as the impression log names it.
RECOMMENDATIONS_LIST = "recommendations"


class RecommendationService:
    """Top-k for a user from one model; answers cached per (model, user, feedback version, k)."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        models: LoadedModels,
        cache: Cache,
        config: ServingConfig,
        explainer: Explainer,
        space: ItemSpace,
    ) -> None:
        self.db, self.catalogue, self.models, self.cache, self.config = db, catalogue, models, cache, config
        self.explainer, self.space = explainer, space

    def recommend(self, user_id: int, model: str | None, k: int) -> Served:
        """Serialised recommendations, their list and meta (model, version, history size). A named model answers
        or it is a 503; with none named, the first loaded along the catalogue's fallback chain answers and meta says
        which."""
        requested = model or CATALOGUE.fallback()[0]
        name = model or self.models.first_loaded(CATALOGUE.fallback())
        # One snapshot for the whole request: a hot reload in between never pairs one version's list with
        # another's cache key.
        loaded = self.models.snapshot()
        recommender = self.models.get(name, loaded)  # 503 before any work when the model is not loaded
        model_version = loaded.versions.get(name)
        meta: dict[str, Any] = {"model": name, "requested_model": requested, "model_version": model_version, "k": k}
        version = self.db.feedback_version(user_id)
        key = f"rec:{name}:{model_version}:{user_id}:{version}:{k}"
        cached = self.cache.get(key)
        count_cache("recommendations", cached is not None)
        if cached is not None:
            served = Served.from_cache(cached)
        else:
            data, history_size = self.fresh(user_id, name, k, recommender)
            lists = {RECOMMENDATIONS_LIST: shown(name, (item.movie.movie_id for item in data.items))}
            served = Served(to_json_bytes(data), lists, {"history_size": history_size})
            self.cache.set(key, served.to_cache())
        # The cache keeps what only computing tells (history size); the rest is this request's.
        return dataclasses.replace(served, meta={**meta, **served.meta})

    def fresh(self, user_id: int, name: str, k: int, model: Recommender | None = None) -> tuple[s.Recommendations, int]:
        """The user's recommendations from `name`, computed now (no cache), and the size of the history they read."""
        with self.db.session() as session:
            view = UserView.read(session, user_id, self.space)
        recs = self.ranked(name, view, k, model)
        return s.Recommendations(user_id=user_id, model=name, items=self.catalogue.scored(recs)), len(view.history)

    def ranked(
        self, name: str, view: UserView, k: int, model: Recommender | None = None, claimed: Collection[int] = ()
    ) -> list[Recommendation]:
        """The model's top-k for the user, none of the films they touched nor the `claimed` ones (a higher row of
        the page shows them), each with a reason from their likings (`model`: the one loaded under `name` that the
        caller already holds)."""
        model = model or self.models.get(name)
        # Enough candidates that k remain when the claimed films are left out and the films near the user's
        # dislikes are pushed below the others.
        want = k + len(claimed) + min(len(view.avoided), PUSHED_DOWN_EXTRA)
        recs = self._run(model, name, view.history, view.excluded, want, view.user_id)
        by_id = {r.movie_id: r for r in recs}
        # Explained only once cut to what is shown: the explainer's cap on one film's share of the reasons is a
        # share of the list the person sees.
        recs = [by_id[m] for m in view.keep(by_id, k, claimed)]
        return self.explainer.explain(model, name, recs, self._recent(view.history), view.liked)

    def for_history(self, name: str, movie_ids: Sequence[int], k: int, user_id: int) -> s.Recommendations:
        """Recommendations for a history given directly (a user created a moment ago)."""
        model = self.models.get(name)
        recs = self._run(model, name, list(movie_ids), [], k, user_id)
        recs = self.explainer.explain(model, name, recs, self._recent(movie_ids), list(movie_ids))
        return s.Recommendations(user_id=user_id, model=name, items=self.catalogue.scored(recs))

    def _run(
        self, model: Recommender, name: str, history: Sequence[int], excluded: Iterable[int], k: int, user_id: int
    ) -> list[Recommendation]:
        # The model sees the most recent interactions; every film the user ever touched stays excluded.
        exclude = set(history) | set(excluded)
        with time_inference(name, "recommend"):
            return model.recommend(Query(self._recent(history), user_id=user_id, exclude=exclude), k=k)

    def _recent(self, history: Sequence[int]) -> list[int]:
        """The model's input: the most recent `history_limit` interactions."""
        return list(history[-self.config.history_limit :])
