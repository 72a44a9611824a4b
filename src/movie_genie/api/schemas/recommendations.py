"""Recommendations and the home page: a user's top-k from one model, and the rows of their home page."""

from __future__ import annotations

from pydantic import BaseModel, Field

from movie_genie.api.schemas.common import DEFAULT_K, MAX_K, ModelParam, _Strict
from movie_genie.api.schemas.envelope import CachedMeta, Envelope, ListsMeta
from movie_genie.api.schemas.movies import MovieSummary, Reason, ScoredMovie
from movie_genie.db.models import MAX_ID


class RecommendationsQuery(_Strict):
    """Top-k films for a user from one model (named: that model or 503; omitted: the best loaded one)."""

    user_id: int = Field(ge=1, le=MAX_ID)
    model: ModelParam | None = Field(
        default=None,
        description="omitted: the first loaded of hybrid, two_tower, ease, popularity (meta.model says which "
        "answered); 'popular' is a deprecated spelling of 'popularity'",
    )
    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)


class Recommendations(BaseModel):
    """A user's top-k from one model."""

    user_id: int
    model: str
    items: list[ScoredMovie]


class HomeItem(BaseModel):
    """A card of a home row: the film, why it is there (recommendation rows) or what the user did (history)."""

    movie: MovieSummary
    reason: Reason | None = None
    note: str | None = None


class HomeRow(BaseModel):
    """One row of the home page: what it is for and the model that made it (after any fallback)."""

    id: str = Field(description="stable row id: for-you, up-next, because-liked, your-genres, popular, recent")
    title: str
    purpose: str = Field(description="what the row is for, in a sentence")
    model: str | None = Field(description="the model that made the row (API name, or 'content'); null: history")
    requested_model: str | None = Field(default=None, description="the model the row asks for first")
    history: bool = Field(default=False, description="the user's own films (the only row that shows them)")
    items: list[HomeItem]


class HomePage(BaseModel):
    """A user's home page: rows in priority order; no film twice, none the user touched (history row aside)."""

    user_id: int
    excluded: int = Field(description="how many films the user touched (left out of every row but history)")
    rows: list[HomeRow]


class RecommendationMeta(CachedMeta):
    """Which model answered, with which version, from how much history."""

    model: str = Field(description="the model that answered (after any fallback)")
    requested_model: str | None = Field(
        default=None, description="the model asked for first when none was named; differs from `model` after a fallback"
    )
    model_version: str | None = None
    k: int
    history_size: int
    impression_id: str | None = Field(
        default=None, description="this list's impression: send it with a click or a mark (null: logging off)"
    )
    experiment: str | None = Field(default=None, description="the experiment that chose the list, if any")
    variant: str | None = Field(default=None, description="the user's variant in that experiment")


class HomeMeta(ListsMeta):
    """The home page's meta: each recommendation row's impression (row id -> impression; the history row has
    none)."""


class RecommendationsResponse(Envelope[Recommendations, RecommendationMeta]):
    """GET /api/recommendations."""


class HomeResponse(Envelope[HomePage, HomeMeta]):
    """GET /api/users/{user_id}/home."""
