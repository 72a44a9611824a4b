"""The model catalogue: one `ModelSpec` per model, the one place that names the models and says what each can do.

Everything that needs a model by role reads it here instead of spelling a name: the trainer (which to train, in
which order), the registry (which class to load), the API (the `model` values it accepts, the order /api/models
lists them, the fallback chain of a personalised row, which model answers "films like this one"), the home page
(which row each model fills), the report (the baseline) and the web app (labels and summaries, from /api/models).

Adding a model is one module with its class and one `ModelSpec` here (docs/how-to/add-a-model.md). A model shipped
outside this package registers its spec under the `movie_genie.models` entry-point group instead; it joins the
catalogue when this module is first imported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Literal

log = logging.getLogger(__name__)

# What a model can do beyond ranking films for a history (each matches a protocol of models/base.py).
Capability = Literal["similar_items", "item_vectors", "similar_users"]
ENTRY_POINT_GROUP = "movie_genie.models"


@dataclass(frozen=True)
class HomeRow:
    """The row of the home page a model fills: its place among the model rows, its id and its title."""

    rank: int
    id: str
    title: str


@dataclass(frozen=True)
class ModelSpec:
    """One model: its name (registry key, checkpoint name, params.yaml section, API value) and what it is to people
    and to the code."""

    name: str
    label: str  # how people read its name: "Two-Tower"
    summary: str  # what it is good at, in a sentence for someone who likes films (the Models page)
    purpose: str  # what its row is for, under the row title
    loader: str | None  # "module:Class" of the trained model; None for one served by another part (text similarity)
    list_rank: int  # the order /api/health, /api/models and the API's enum list the models
    capabilities: frozenset[Capability] = frozenset()
    fallback_rank: int | None = None  # its place in the chain a personalised row falls back along; None: not in it
    home_row: HomeRow | None = None
    attributes_reasons: bool = True  # False: its picks ignore the history, so no liked film can explain them
    baseline: bool = False  # the reference the report states every model's ratio against
    # Trained in seconds: a first `movie-genie run` serves as soon as these are ready and trains the rest behind it.
    quick: bool = False

    @property
    def trained(self) -> bool:
        """Whether the train stage makes a checkpoint of it (False for text similarity, served from search)."""
        return self.loader is not None


POPULARITY = ModelSpec(
    name="popularity",
    label="Popularity",
    summary="The films most people have rated. It knows nothing about you: it is the yardstick the others must beat.",
    purpose="The most rated films you have not seen yet.",
    loader="movie_genie.models.popularity:Popularity",
    list_rank=4,
    fallback_rank=3,
    attributes_reasons=False,
    quick=True,
)
EASE = ModelSpec(
    name="ease",
    label="EASE",
    summary="Finds films that the same people tend to rate together. Simple and fast, and hard to beat.",
    purpose="Films often rated by the same people as yours.",
    loader="movie_genie.models.ease:Ease",
    list_rank=5,
    fallback_rank=2,
    baseline=True,
    quick=True,
)
# Chapter 0 of the course (docs/models/bpr.md): reported beside the others, never a home row nor a fallback.
BPR = ModelSpec(
    name="bpr",
    label="BPR-MF",
    summary="A map of films learned from who rated what, written from scratch in the course's first chapter: a "
    "teaching baseline.",
    purpose="Films near the films you rated on a map learned from who rated what.",
    loader="movie_genie.models.bpr:Bpr",
    list_rank=7,
)
BERT4REC = ModelSpec(
    name="bert4rec",
    label="BERT4Rec",
    summary="Looks at your whole history at once, old favourites and new, for films that fit all of it.",
    purpose="Films that fit the whole of your history, old favourites and new.",
    loader="movie_genie.models.bert4rec:Bert4Rec",
    list_rank=1,
    home_row=HomeRow(rank=2, id="from-history", title="From your whole history"),
)
SASREC = ModelSpec(
    name="sasrec",
    label="SASRec",
    summary="Reads your ratings in the order you made them and guesses what you will want next, so your latest "
    "films count most.",
    purpose="What people usually watch next after the films you watched most recently.",
    loader="movie_genie.models.sasrec:SasRec",
    list_rank=2,
    home_row=HomeRow(rank=1, id="up-next", title="Up next"),
)
TWO_TOWER = ModelSpec(
    name="two_tower",
    label="Two-Tower",
    summary="Puts you and every film on one map of taste: films near you, and near the films you liked, are the ones "
    "it suggests.",
    purpose="Films closest to your taste on a map of who watches what.",
    loader="movie_genie.models.two_tower:TwoTower",
    list_rank=3,
    capabilities=frozenset({"similar_items", "item_vectors", "similar_users"}),
    fallback_rank=1,
)
HYBRID = ModelSpec(
    name="hybrid",
    label="Hybrid",
    summary="Blends the other models, trusting each as far as it guessed well which films people went on to love. "
    "Your top picks come from it.",
    purpose="Your strongest matches: the films several models agree you will love most.",
    loader="movie_genie.models.hybrid:Hybrid",
    list_rank=0,
    fallback_rank=0,
    home_row=HomeRow(rank=0, id="for-you", title="Top picks for you"),
)
# Films like a film by what they are about (MiniLM embeddings of their text): served by search, never trained.
CONTENT = ModelSpec(
    name="content",
    label="Content (MiniLM)",
    summary="Finds films whose descriptions read alike.",
    purpose="Films about the same things.",
    loader=None,
    list_rank=6,
    capabilities=frozenset({"similar_items"}),
)


@dataclass
class Catalogue:
    """Every model's spec, in training order: a composite (the hybrid) after the models it blends."""

    specs: list[ModelSpec] = field(default_factory=list)

    def register(self, spec: ModelSpec, before: str | None = None) -> None:
        """Add a model (before the model named `before`, else at the end); a name already taken is an error."""
        if any(s.name == spec.name for s in self.specs):
            raise ValueError(f"a model named {spec.name!r} is already in the catalogue")
        at = next((i for i, s in enumerate(self.specs) if s.name == before), len(self.specs))
        self.specs.insert(at, spec)

    def spec(self, name: str) -> ModelSpec:
        """The spec of `name` (a `name@version` challenger's too); KeyError for an unknown name."""
        base = name.partition("@")[0]
        for spec in self.specs:
            if spec.name == base:
                return spec
        raise KeyError(name)

    def trained(self) -> tuple[str, ...]:
        """The models the train stage makes, in training order."""
        return tuple(s.name for s in self.specs if s.trained)

    def quick(self) -> tuple[str, ...]:
        """The models a first run trains before it serves (the others train behind the running server)."""
        return tuple(s.name for s in self.specs if s.trained and s.quick)

    def listed(self) -> tuple[str, ...]:
        """The trained models in the order the API lists them."""
        return tuple(s.name for s in sorted(self.specs, key=lambda s: s.list_rank) if s.trained)

    def fallback(self) -> tuple[str, ...]:
        """The chain a personalised list falls back along when its model is not loaded."""
        chain = [s for s in self.specs if s.fallback_rank is not None]
        return tuple(s.name for s in sorted(chain, key=lambda s: s.fallback_rank or 0))

    def fallback_chain(self, first: str) -> tuple[str, ...]:
        """`first`, then the fallback chain's models after it (a model outside the chain falls back along all of it)."""
        return (first, *(m for m in self.fallback() if m != first))

    def label(self, name: str) -> str:
        """How people read a model's name (`name@version`: the model's label); an unknown name as it is."""
        try:
            return self.spec(name).label
        except KeyError:
            return name

    def home_rows(self) -> list[ModelSpec]:
        """The models that fill a row of the home page, in the rows' order."""
        return sorted((s for s in self.specs if s.home_row), key=lambda s: s.home_row.rank if s.home_row else 0)

    def able(self, capability: Capability) -> tuple[str, ...]:
        """The models that can do `capability`, trained ones first."""
        return tuple(s.name for s in sorted(self.specs, key=lambda s: not s.trained) if capability in s.capabilities)

    def baseline(self) -> str:
        """The model the report states ratios against."""
        return next(s.name for s in self.specs if s.baseline)


def _builtin() -> Catalogue:
    return Catalogue([POPULARITY, EASE, BPR, BERT4REC, SASREC, TWO_TOWER, HYBRID, CONTENT])


def _plugins(catalogue: Catalogue, found: Iterable[EntryPoint]) -> None:
    """Register each entry point's spec before the first composite, so the hybrid trains after it."""
    for entry in found:
        try:
            spec = entry.load()
            catalogue.register(spec, before=HYBRID.name)
        except Exception as exc:  # a broken plugin never hides the built-in models
            log.warning("model plugin %s not registered: %s", entry.name, exc)


CATALOGUE = _builtin()
_plugins(CATALOGUE, entry_points(group=ENTRY_POINT_GROUP))

# The trained models, in training order: what `movie-genie train` makes and the registry loads.
MODEL_NAMES: tuple[str, ...] = CATALOGUE.trained()
