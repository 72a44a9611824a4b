"""An answer serialised once, with the lists of films it shows, as the services hand it to the routes.

The impression log needs each list's model and film ids, the response needs the bytes. Both are made once from the
typed answer; a cached answer keeps its lists in a small header before the body (`to_cache` / `from_cache`), so no
code parses an answer's JSON back to learn what it showed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ShownList:
    """One list of an answer: the model that made it (None: not a model's, e.g. search) and its films in order."""

    model: str | None
    movie_ids: list[int]


@dataclass(frozen=True)
class Served:
    """The serialised answer, its lists by id (a home row's id, "collaborative", ...) and extra meta for the
    envelope; `cached` says whether it came from the cache."""

    body: bytes
    lists: dict[str, ShownList] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    cached: bool = False

    def to_cache(self) -> bytes:
        """The cache's value: one header line (lists and meta, compact JSON), then the body."""
        header = {"lists": {k: [v.model, v.movie_ids] for k, v in self.lists.items()}, "meta": self.meta}
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def from_cache(cls, value: bytes) -> Served:
        """An answer read back from the cache (its header only is parsed)."""
        header, _, body = value.partition(b"\n")
        parsed = json.loads(header)
        lists = {k: ShownList(model, ids) for k, (model, ids) in parsed["lists"].items()}
        return cls(body, lists, parsed["meta"], cached=True)


def shown(model: str | None, movie_ids: Iterable[int]) -> ShownList:
    """A list as the impression log records it."""
    return ShownList(model, [int(m) for m in movie_ids])
