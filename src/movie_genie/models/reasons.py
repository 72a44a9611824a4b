"""The reasons shown under a recommended film, worded in one place and in one style: sentence case, no full stop.

The models layer is the lowest one that words reasons (the hybrid model explains its own picks); the API imports
these functions for the reasons it words itself, so one kind of reason always reads the same, wherever it is made.

A reason that names a film of the user's history starts with CITES_FILM ("Because you ..."): the API replaces such
a model reason with one naming a film the user liked (a model sees every rating, not what the user liked).
"""

from __future__ import annotations

CITES_FILM = "Because"


def cites_film(reason: str | None) -> bool:
    """Whether the reason names a film of the user's history ("Because you watched X")."""
    return reason is not None and reason.startswith(CITES_FILM)


def because_you_watched(title: str) -> str:
    """A film of the user's history (any interaction) that is closest to the recommendation."""
    return f"{CITES_FILM} you watched {title}"


def because_you_liked(title: str) -> str:
    """A film the user liked that is closest to the recommendation (or the seed of a "Because you liked" row)."""
    return f"{CITES_FILM} you liked {title}"


def popular_in(genre: str) -> str:
    """A popular film of a genre the user likes."""
    return f"Popular in {genre}"


def popular_right_now() -> str:
    """A popular film, with nothing personal to say about it."""
    return "Popular right now"


def popular() -> str:
    """A film picked for being among the most rated."""
    return "Popular"


def popular_with_everyone() -> str:
    """A popular film whose rating count is not known."""
    return "Popular with everyone"


def with_rating_count(reason: str, rating_count: int) -> str:
    """A popularity reason with the film's number of ratings: "Popular in Drama: 1,234 ratings"."""
    return f"{reason}: {rating_count:,} ratings"


def matches_your_ratings() -> str:
    """A personalised pick with no liked film to name."""
    return "Matches your ratings"


def liked_by_same_viewers() -> str:
    """A collaborative neighbour of a film: the people who watched one watched the other."""
    return "Liked by the same viewers"


def similar_story() -> str:
    """A content neighbour of a film: its description embedding is close."""
    return "Similar story and themes"
