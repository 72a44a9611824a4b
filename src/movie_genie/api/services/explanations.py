"""Why each recommendation is there: a short reason per film, worded by models/reasons.py.

"Because you liked X": X is the film the user liked (product.is_liking: never a rating <= 2★ or a dislike) that is
closest to the recommendation in Two-Tower item space (who-watched-what similarity), or in text-embedding space when
Two-Tower is not loaded. A model's own reason that cites a film ("Because ...") is replaced: models see every
rating, the product layer decides what counts as a liking. Popularity's picks say how many ratings they have.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.models import reasons
from movie_genie.models.base import ItemVectors, Recommendation

if TYPE_CHECKING:
    from movie_genie.api.services.search import SearchService


class ItemSpace:
    """Where films are near each other: the Two-Tower's item vectors (who-watched-what similarity), else the search
    index's text embeddings. Reasons are found in it, and so are the films a dislike pushes down."""

    # Neighbours of each negative film that serving pushes down, and how many of the latest negatives count.
    NEIGHBOURS = 20
    RECENT_NEGATIVES = 50

    def __init__(self, models: LoadedModels, search: SearchService) -> None:
        self.models, self.search = models, search
        # (two_tower's file version, unit-norm vectors float32 [n, d], movie id -> row): rebuilt after a reload.
        self._space: tuple[str | None, np.ndarray | None, dict[int, int]] | None = None

    def vectors(self) -> tuple[np.ndarray | None, dict[int, int]]:
        """Unit-norm vectors (n, d) and movie id -> row; (None, {}) when neither space is loaded."""
        version = self.models.versions.get("two_tower")
        if self._space is None or self._space[0] != version:
            two_tower = self.models.models.get("two_tower")
            if isinstance(two_tower, ItemVectors) and two_tower.id_map is not None:
                rows = {int(m): i for i, m in enumerate(two_tower.id_map.item_ids)}
                self._space = (version, np.asarray(two_tower.item_vectors(), dtype=np.float32), rows)
            else:
                self._space = (version, self.search.content_vectors, self.search.content_rows)
        return self._space[1], self._space[2]

    def near(self, movie_ids: Sequence[int]) -> frozenset[int]:
        """The NEIGHBOURS closest films of each of the latest RECENT_NEGATIVES `movie_ids` (oldest first)."""
        vectors, row_of = self.vectors()
        rows = [row_of[m] for m in movie_ids[-self.RECENT_NEGATIVES :] if m in row_of]
        if vectors is None or not rows:
            return frozenset()
        similarity = vectors[rows] @ vectors.T  # (negatives, n) cosine
        k = min(self.NEIGHBOURS + 1, similarity.shape[1])  # + 1: a film is its own nearest neighbour
        closest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        ids_by_row = np.full(len(vectors), -1, dtype=np.int64)
        ids_by_row[list(row_of.values())] = list(row_of.keys())
        return frozenset(int(m) for m in ids_by_row[closest.ravel()] if m >= 0)


class Explainer:
    """A short reason for each recommendation, in one wording style (sentence case, no full stop)."""

    RECENT = 50

    def __init__(self, catalogue: Catalogue, space: ItemSpace) -> None:
        self.catalogue, self.space = catalogue, space

    def explain(self, model: str, recs: list[Recommendation], liked: Sequence[int]) -> list[Recommendation]:
        """The recommendations with a reason each; `liked` = the user's likings, oldest first."""
        # A model's reason that cites a film may cite one the user disliked: only the product layer names films.
        recs = [r if not reasons.cites_film(r.reason) else dataclasses.replace(r, reason=None) for r in recs]
        if model.partition("@")[0] == "popularity":  # the model, whichever version of it
            return [dataclasses.replace(r, reason=self._popular(r.movie_id)) for r in recs]
        vectors, row_of = self.space.vectors()
        recent = [m for m in liked[-self.RECENT :] if m in row_of and m in self.catalogue.movies]
        fallback = reasons.matches_your_ratings()
        if vectors is None or not recent:
            return [r if r.reason else dataclasses.replace(r, reason=fallback) for r in recs]
        seen = vectors[[row_of[m] for m in recent]]  # (h, d)
        explained = []
        for rec in recs:
            row = row_of.get(rec.movie_id)
            if row is None:
                explained.append(rec if rec.reason else dataclasses.replace(rec, reason=fallback))
                continue
            closest = recent[int(np.argmax(seen @ vectors[row]))]
            title = self.catalogue.movies[closest].title
            explained.append(dataclasses.replace(rec, reason=reasons.because_you_liked(title)))
        return explained

    def _popular(self, movie_id: int) -> str:
        movie = self.catalogue.movies.get(movie_id)
        if movie is None:
            return reasons.popular_with_everyone()
        return reasons.with_rating_count(reasons.popular(), movie.rating_count)
