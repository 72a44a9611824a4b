"""The one map between MovieLens ids and the dense indices models use, saved next to split and checkpoints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class IdMap:
    """Dense indices 0..n-1 for users and items, in ascending id order (items: every movie in the catalogue)."""

    user_ids: tuple[int, ...]
    item_ids: tuple[int, ...]
    _user_index: dict[int, int] = field(init=False, repr=False, compare=False)
    _item_index: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_user_index", {u: i for i, u in enumerate(self.user_ids)})
        object.__setattr__(self, "_item_index", {m: i for i, m in enumerate(self.item_ids)})

    @classmethod
    def build(cls, user_ids: Iterable[int], item_ids: Iterable[int]) -> IdMap:
        """Build from any iterables of ids (deduplicated and sorted)."""
        return cls(tuple(sorted({int(u) for u in user_ids})), tuple(sorted({int(m) for m in item_ids})))

    @property
    def n_users(self) -> int:
        """Number of users."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Number of items (the whole catalogue)."""
        return len(self.item_ids)

    def item_index(self, movie_id: int) -> int | None:
        """Dense index of a movie id, or None when the movie is not in the catalogue."""
        return self._item_index.get(int(movie_id))

    def user_index(self, user_id: int) -> int | None:
        """Dense index of a user id, or None for a user the model never saw."""
        return self._user_index.get(int(user_id))

    def items_to_indices(self, movie_ids: Iterable[int]) -> list[int]:
        """Map movie ids to indices, silently dropping ids outside the catalogue."""
        found = (self._item_index.get(int(m)) for m in movie_ids)
        return [i for i in found if i is not None]

    def indices_to_items(self, indices: Sequence[int] | np.ndarray) -> list[int]:
        """Map dense item indices back to movie ids."""
        return [self.item_ids[int(i)] for i in indices]

    def to_dict(self) -> dict[str, list[int]]:
        """JSON-ready form (also stored inside checkpoints)."""
        return {"user_ids": list(self.user_ids), "item_ids": list(self.item_ids)}

    @classmethod
    def from_dict(cls, data: dict[str, list[int]]) -> IdMap:
        """Inverse of `to_dict`."""
        return cls(tuple(int(u) for u in data["user_ids"]), tuple(int(m) for m in data["item_ids"]))

    def save(self, path: Path) -> None:
        """Write as JSON atomically (temp file, then rename)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IdMap:
        """Read a map written by `save`."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
