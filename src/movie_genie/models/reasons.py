"""Why a film is recommended, as data: a `Reason` travels from the model (or the API's explainer) to the response,
and `words` renders it in one style (sentence case, no full stop) only at the edge, where titles are known.

A reason that cites a film carries that film's id (`movie_id`), never its title in a sentence: the API checks the id
against what the person liked (a model sees the history, not what the person thought of each film) without parsing
any text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ReasonKind = Literal[
    "liked_film",  # a film the person liked, the one whose removal would lower the pick's score the most
    "watched_film",  # a model's own: the film of the history closest to the pick (any interaction)
    "your_genre",  # the pick is of a genre the person likes, and no single liked film drives it
    "matches_ratings",  # personalised, with no liked film or genre to name
    "popular",  # among the most rated films (with its number of ratings when known)
    "popular_in_genre",  # among the most rated of a genre the person likes
    "popular_right_now",  # popular, nothing personal to say
    "same_viewers",  # a collaborative neighbour of a film: the people who watched one watched the other
    "similar_story",  # a content neighbour of a film: its description is close
]


@dataclass(frozen=True)
class Reason:
    """One reason: its kind and what it refers to (a film, a genre, a rating count)."""

    kind: ReasonKind
    movie_id: int | None = None  # the film it cites (liked_film, watched_film)
    genre: str | None = None  # your_genre, popular_in_genre
    rating_count: int | None = None  # popular, popular_in_genre: the film's number of ratings

    @property
    def cites_film(self) -> bool:
        """Whether the reason names a film of the person's history."""
        return self.movie_id is not None


def because_you_liked(movie_id: int) -> Reason:
    """A film the person liked drives the pick (or seeds a "Because you liked" row)."""
    return Reason("liked_film", movie_id=movie_id)


def because_you_watched(movie_id: int) -> Reason:
    """The film of the history closest to the pick (a model's own reason; the API replaces it)."""
    return Reason("watched_film", movie_id=movie_id)


def in_your_genre(genre: str) -> Reason:
    """The pick is of a genre the person likes."""
    return Reason("your_genre", genre=genre)


def matches_your_ratings() -> Reason:
    """A personalised pick with no liked film or genre to name."""
    return Reason("matches_ratings")


def popular(rating_count: int | None = None) -> Reason:
    """A film picked for being among the most rated."""
    return Reason("popular", rating_count=rating_count)


def popular_in(genre: str, rating_count: int | None = None) -> Reason:
    """A popular film of a genre the person likes."""
    return Reason("popular_in_genre", genre=genre, rating_count=rating_count)


def popular_right_now() -> Reason:
    """A popular film, with nothing personal to say about it."""
    return Reason("popular_right_now")


def liked_by_same_viewers() -> Reason:
    """A collaborative neighbour of a film."""
    return Reason("same_viewers")


def similar_story() -> Reason:
    """A content neighbour of a film."""
    return Reason("similar_story")


def words(reason: Reason, title_of: Callable[[int], str]) -> str:
    """The reason in words, as a person reads it under a film ("Because you liked Toy Story")."""
    film = title_of(reason.movie_id) if reason.movie_id is not None else ""
    count = f": {reason.rating_count:,} ratings" if reason.rating_count is not None else ""
    match reason.kind:
        case "liked_film":
            return f"Because you liked {film}"
        case "watched_film":
            return f"Because you watched {film}"
        case "your_genre":
            return f"{reason.genre}, a genre you like"
        case "matches_ratings":
            return "Matches your ratings"
        case "popular":
            return f"Popular{count}"
        case "popular_in_genre":
            return f"Popular in {reason.genre}{count}"
        case "popular_right_now":
            return "Popular right now"
        case "same_viewers":
            return "Liked by the same viewers"
        case "similar_story":
            return "Similar story and themes"
