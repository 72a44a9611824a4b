"""The catalogue: browsing, popular and similar films, a film's card and details, genres."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from movie_genie.api.schemas.common import (
    DEFAULT_K,
    MAX_K,
    YEAR_MAX,
    YEAR_MIN,
    GenreParam,
    PageQuery,
    SimilarKind,
    _Strict,
)
from movie_genie.api.schemas.envelope import Envelope, ListsMeta, Meta, PageMeta
from movie_genie.db.models import MAX_ID
from movie_genie.db.movies import MovieSort
from movie_genie.models.reasons import ReasonKind


class MoviesQuery(PageQuery):
    """Browse the catalogue by genre and year range, sorted."""

    genre: GenreParam | None = None
    year_min: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    year_max: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    sort: MovieSort = "popularity"

    @model_validator(mode="after")
    def _years_in_order(self) -> MoviesQuery:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError(f"year_min ({self.year_min}) must not be after year_max ({self.year_max})")
        return self


class PopularQuery(_Strict):
    """The most-rated films, optionally in one genre."""

    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)
    genre: GenreParam | None = None
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="leave out the films this user touched")


class SimilarQuery(_Strict):
    """Films like a given one: collaborative (Two-Tower item vectors), content (text embeddings) or both."""

    k: int = Field(default=12, ge=1, le=MAX_K)
    kind: SimilarKind = "both"
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="leave out the films this user touched")


class MovieSummary(BaseModel):
    """What a card shows: title, year, genres, poster (a TMDB path or null) and the data set's rating figures."""

    movie_id: int
    title: str
    year: int | None = None
    genres: list[str] = []
    poster_path: str | None = None
    rating_mean: float | None = None
    rating_count: int = 0


class MovieDetail(MovieSummary):
    """Everything known about a film; its rating figures are live (app ratings included)."""

    overview: str | None = None
    tagline: str | None = None
    keywords: list[str] = []
    cast: list[str] = []
    directors: list[str] = []
    runtime: int | None = None
    language: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tags: list[str] = Field(default=[], description="the data set's most frequent user tags, most frequent first")


class Reason(BaseModel):
    """Why a film is shown: its kind, the film it cites (if any) and the words a person reads."""

    kind: ReasonKind
    source_movie_id: int | None = Field(default=None, description="the film of the person's history it cites")
    genre: str | None = None
    label: str = Field(description='the reason in words ("Because you liked Toy Story")')


class ScoredMovie(BaseModel):
    """A film in a ranked list with its score and, where the model gives one, the reason."""

    rank: int
    score: float
    reason: Reason | None = None
    movie: MovieSummary


class SimilarMovies(BaseModel):
    """Neighbours of a film: by who watched it (collaborative) and by what it is about (content)."""

    movie_id: int
    collaborative: list[ScoredMovie]
    content: list[ScoredMovie]
    collaborative_model: str | None = Field(
        default=None, description="the model of the collaborative list (two_tower); null when none could make it"
    )
    content_model: str | None = Field(
        default=None, description="what made the content list (content: the text embeddings); null when nothing could"
    )
    note: str | None = Field(default=None, description="why a list is empty when its model is not loaded")


class GenreCount(BaseModel):
    """A genre and how many films have it."""

    genre: str
    count: int


class MoviesResponse(Envelope[list[MovieSummary], PageMeta]):
    """GET /api/movies."""


class MovieListResponse(Envelope[list[MovieSummary], Meta]):
    """GET /api/movies/popular."""


class MovieResponse(Envelope[MovieDetail, Meta]):
    """GET /api/movies/{movie_id}."""


class SimilarResponse(Envelope[SimilarMovies, ListsMeta]):
    """GET /api/movies/{movie_id}/similar."""


class GenresResponse(Envelope[list[GenreCount], Meta]):
    """GET /api/genres."""
