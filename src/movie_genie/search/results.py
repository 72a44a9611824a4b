"""What a search takes and answers: the filters, the personal affinities a caller may pass, the ranked hits and
the result, a query's candidate funnel and the search box's suggestions (the engine, engine.py, makes them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from movie_genie.search.understanding import Understood

# Affinities for candidate movies, {movie_id: score}, or a function that gives them for the candidates' ids (the API
# passes the Two-Tower model's; search never imports models).
PersonalScores = Mapping[int, float] | Callable[[Sequence[int]], Mapping[int, float]]


@dataclass(frozen=True)
class SearchFilters:
    """Optional filters; genres match if a movie has ANY of them (case-insensitive)."""

    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    min_ratings: int = 0

    @property
    def active(self) -> bool:
        """True when any filter would exclude a movie."""
        return bool(self.genres) or self.year_min is not None or self.year_max is not None or self.min_ratings > 0


@dataclass(frozen=True)
class SearchHit:
    """One ranked film; `matched_by` names the lists (semantic/lexical/title/personal) that put it here."""

    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    score: float
    matched_by: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits for one query, and whether personal affinities really re-ranked them."""

    query: str
    mode: str
    hits: list[SearchHit]
    personalised: bool
    took_ms: float
    filters: SearchFilters = field(default_factory=SearchFilters)
    did_you_mean: str | None = None  # the corrected query the results used, when a word was misspelt
    no_close_match: bool = False  # True when nothing in the catalogue is close to the query: hits is empty
    understood: tuple[Understood, ...] = ()  # the people, genres, decades, moods and themes the query names
    people_need_details: bool = False  # a name only user tags could read: people search needs film details


@dataclass(frozen=True)
class Funnel:
    """A query's candidates before ranking (see SearchEngine.funnel), as movie ids."""

    pool: frozenset[int]  # every film a retriever (or the expansion) returned
    relevant: frozenset[int]  # those at or above the relevance cut-off: what a search may return


@dataclass(frozen=True)
class Suggestion:
    """A title for the search box's drop-down."""

    movie_id: int
    title: str
    year: int | None
    score: float
