"""Search: plain-language and title search with filters, and the search box's suggestions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from movie_genie.api.schemas.common import (
    DEFAULT_K,
    MAX_K,
    MAX_QUERY_CHARS,
    MAX_SUGGESTIONS,
    YEAR_MAX,
    YEAR_MIN,
    GenreParam,
    SearchMode,
    _Strict,
)
from movie_genie.api.schemas.envelope import CachedMeta, Envelope, Meta
from movie_genie.api.schemas.movies import ScoredMovie
from movie_genie.db.models import MAX_ID

# Most readings one query may drop (a query of 500 characters has far fewer readings).
MAX_IGNORED = 20
# A search query: blank (browse) or with at least one letter or digit (Python's isalnum, as the engine checks).
_QUERY_PATTERN = r"^\s*$|[^\W_]"


class SearchQuery(_Strict):
    """Plain-language or title search with filters (an empty `q` with a filter browses); `user_id` personalises."""

    q: str = Field(
        default="",
        max_length=MAX_QUERY_CHARS,
        description="what to look for, with at least one letter or digit; empty browses, and then needs a filter",
        json_schema_extra={"pattern": _QUERY_PATTERN},
    )
    mode: SearchMode = "hybrid"
    genre: GenreParam | None = None
    year_min: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    year_max: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    min_ratings: int = Field(default=0, ge=0, le=1_000_000)
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)
    ignore: list[str] = Field(
        default=[],
        max_length=MAX_IGNORED,
        description='readings of the query to drop, as `understood[].key` gives them ("person:Tom Hanks"): '
        "their words are searched as plain words (the app's removed chips); repeat the parameter for several",
    )

    @model_validator(mode="after")
    def _valid(self) -> SearchQuery:
        browsing = self.genre or self.year_min is not None or self.year_max is not None or self.min_ratings > 0
        if not self.q.strip() and not browsing:
            raise ValueError("q must contain at least one non-space character, or set a filter to browse")
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError(f"year_min ({self.year_min}) must not be after year_max ({self.year_max})")
        return self


class SuggestQuery(_Strict):
    """Title suggestions for the search box while typing."""

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=8, ge=1, le=MAX_SUGGESTIONS)

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("q must contain at least one non-space character")
        return value


class SearchHit(ScoredMovie):
    """A search result; `matched_by` names the retrievers that found it (semantic, lexical, title, personal)."""

    matched_by: list[str] = Field(default=[])


class Understood(BaseModel):
    """How part of the query was read: a person, genre, decade (these filter), a mood or a theme (these lift)."""

    kind: Literal["person", "genre", "mood", "decade", "theme"]
    value: str = Field(description='what it was read as: "Tom Hanks", "Comedy", "1990s", "alien invasion"')
    words: str = Field(description="the query's words it was read from")
    source: str = Field(description="the catalogue field it matched: people, tags, keywords, genres or year")
    key: str = Field(description="send it back in `ignore` to search without this reading")


class SearchResults(BaseModel):
    """Ranked search results."""

    query: str
    mode: str
    personalized: bool
    items: list[SearchHit]
    did_you_mean: str | None = Field(default=None, description="the corrected query the results used, if any")
    no_close_match: bool = Field(
        default=False,
        description="nothing in the catalogue is close to the query (gibberish, a film it does not have): items is "
        "empty; false when filters alone left nothing",
    )
    understood: list[Understood] = Field(default=[], description="how the query was read, in query order")
    people_need_details: bool = Field(
        default=False,
        description="the query names a person, but the catalogue has no cast or directors (no film details): only "
        "films whose user tags name them are shown",
    )


class Suggestion(BaseModel):
    """A title suggestion for the search box."""

    movie_id: int
    title: str
    year: int | None = None
    score: float


class SearchMeta(CachedMeta):
    """A search answer's meta: its impression when a user asked (`user_id`)."""

    impression_id: str | None = Field(
        default=None, description="the results' impression: send it with a click or a mark (null: no user, or off)"
    )


class SearchResponse(Envelope[SearchResults, SearchMeta]):
    """GET /api/search."""


class SuggestResponse(Envelope[list[Suggestion], Meta]):
    """GET /api/search/suggest."""
