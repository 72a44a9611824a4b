"""Where films are near each other, for the product's push-down rule: the films nearest a person's dislikes sink
below the others in every row (product.UserView.ordered)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.models.base import ItemVectors
from movie_genie.models.catalogue import CATALOGUE

if TYPE_CHECKING:
    from movie_genie.api.services.search import SearchService


# The model whose item vectors place films on one map (Two-Tower); without it, the text embeddings.
SPACE_MODEL = CATALOGUE.able("item_vectors")[0]


class ItemSpace:
    """Where films are near each other: the Two-Tower's item vectors (who-watched-what similarity), else the search
    index's text embeddings (when Two-Tower is not loaded)."""

    # Neighbours of each negative film that serving pushes down, and how many of the latest negatives count.
    NEIGHBOURS = 20
    RECENT_NEGATIVES = 50

    def __init__(self, models: LoadedModels, search: SearchService) -> None:
        self.models, self.search = models, search
        # (the space model's file version, unit-norm vectors float32 [n, d], movie id -> row, row -> movie id or -1):
        # rebuilt after a reload, never per request.
        self._space: tuple[str | None, np.ndarray | None, dict[int, int], np.ndarray] | None = None

    def _current(self) -> tuple[str | None, np.ndarray | None, dict[int, int], np.ndarray]:
        version = self.models.versions.get(SPACE_MODEL)
        if self._space is None or self._space[0] != version:
            model = self.models.models.get(SPACE_MODEL)
            if isinstance(model, ItemVectors) and model.id_map is not None:
                rows = {int(m): i for i, m in enumerate(model.id_map.item_ids)}
                vectors: np.ndarray | None = np.asarray(model.item_vectors(), dtype=np.float32)
            else:
                vectors, rows = self.search.content_vectors, self.search.content_rows
            ids = np.full(0 if vectors is None else len(vectors), -1, dtype=np.int64)
            ids[list(rows.values())] = list(rows.keys())
            self._space = (version, vectors, rows, ids)
        return self._space

    def near(self, movie_ids: Sequence[int]) -> frozenset[int]:
        """The NEIGHBOURS closest films of each of the latest RECENT_NEGATIVES `movie_ids` (oldest first)."""
        _, vectors, row_of, ids = self._current()
        rows = [row_of[m] for m in movie_ids[-self.RECENT_NEGATIVES :] if m in row_of]
        if vectors is None or not rows:
            return frozenset()
        return frozenset(int(m) for m in ids[nearest_rows(vectors, rows, self.NEIGHBOURS)] if m >= 0)


def nearest_rows(vectors: np.ndarray, rows: Sequence[int], k: int) -> np.ndarray:
    """The rows of the k nearest neighbours (by dot product of unit vectors) of each of `rows`, the rows themselves
    included, flattened: the neighbourhood the push-down rule sinks."""
    similarity = vectors[list(rows)] @ vectors.T  # (len(rows), n) cosine
    k = min(k + 1, similarity.shape[1])  # + 1: a film is its own nearest neighbour
    return np.argpartition(-similarity, k - 1, axis=1)[:, :k].ravel()
