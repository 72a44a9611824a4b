"""What is distinctive in a user's taste: the genres and tags that stand out against the whole population.

The most common genres say nothing about a person (nearly everyone's are Drama and Comedy). Instead each genre
(and, where the data set has user tags, each tag of the films) gets a *lift*: the user's share of it among the films
they liked, divided by the population's share among everyone's liked films. The user's share is smoothed towards
the population's with PRIOR_FILMS pseudo-films, and a trait needs MIN_SUPPORT films (and MIN_SHARE of the user's),
so one rating never makes a taste and a light user's lifts stay modest. `db load` stores the traits per user
(db/aggregates.py); db/user_stats.py computes them the same way, with the same function, for users who gave
feedback in the app.

"Liked" means rated LIKED_MIN_RATING or more (or liked in the app); a user with fewer than MIN_LIKED such films is
described by everything they rated but their dislikes instead (some people never give 4 stars; a 1★ film is never
a taste).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from movie_genie.data.liking import LIKED_MIN_RATING, is_disliked_rating

MIN_LIKED = 6
MIN_SUPPORT = 3  # films of the user carrying the trait, at least
MIN_SHARE = 0.02  # ... and at least this share of their films: 3 of a heavy user's 1,000 films is no taste
PRIOR_FILMS = 20.0  # pseudo-films at the population's share that the user's share is smoothed with
MIN_TAGGERS = 2  # a tag counts only if this many people gave it (not one person's "in netflix queue")
MIN_LIFT = 1.25  # a trait must be at least this much above the population to count as distinctive
MAX_GENRES = 3
MAX_TAGS = 3
FAVOURITES = 3
NO_GENRE = "(no genres listed)"
POPULATION_KEY = "taste_population"  # load_state key of the stored Population

TraitKind = Literal["genre", "tag"]


@dataclass(frozen=True, slots=True)
class Trait:
    """A genre or tag the user likes markedly more than everyone else: `lift`x the population's share."""

    kind: TraitKind
    name: str
    count: int  # the user's (liked) films carrying it
    lift: float  # smoothed user share / population share

    def as_json(self) -> dict[str, Any]:
        """The stored form (users.taste)."""
        return {"kind": self.kind, "name": self.name, "count": self.count, "lift": self.lift}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Trait:
        """Read the stored form back."""
        kind: TraitKind = "tag" if value.get("kind") == "tag" else "genre"
        return cls(kind, str(value["name"]), int(value["count"]), float(value["lift"]))


@dataclass(frozen=True, slots=True)
class Population:
    """Everyone's liked films summarised: each genre's and tag's share of the (user, liked film) pairs."""

    genres: dict[str, float]
    tags: dict[str, float]

    def as_json(self) -> dict[str, dict[str, float]]:
        """The stored form (load_state 'taste_population')."""
        return {"genres": self.genres, "tags": self.tags}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Population:
        """Read the stored form back."""
        return cls(dict(value.get("genres", {})), dict(value.get("tags", {})))


def basis(ratings: Mapping[int, float], liked: Iterable[int] = ()) -> list[int]:
    """The films that describe a user: those rated LIKED_MIN_RATING+ or liked, else (too few) every film they rated
    but those they disliked."""
    chosen = [m for m, r in ratings.items() if r >= LIKED_MIN_RATING]
    chosen += [m for m in liked if m not in ratings or ratings[m] >= LIKED_MIN_RATING]
    chosen = list(dict.fromkeys(chosen))
    if len(chosen) >= MIN_LIKED:
        return chosen
    return list(dict.fromkeys([*(m for m, r in ratings.items() if not is_disliked_rating(r)), *liked]))


def population(film_sets: Iterable[tuple[int, list[str], list[str]]]) -> Population:
    """Shares from (number of users whose basis holds the film, its genres, its tags) per film."""
    genres: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    pairs = 0
    for users, film_genres, film_tags in film_sets:
        pairs += users
        for g in set(film_genres) - {NO_GENRE}:
            genres[g] += users
        for t in set(film_tags):
            tags[t] += users
    if pairs == 0:
        return Population({}, {})
    return Population({g: n / pairs for g, n in genres.items()}, {t: n / pairs for t, n in tags.items()})


def distinctive(
    n_films: int, genre_counts: Mapping[str, int], tag_counts: Mapping[str, int], pop: Population
) -> list[Trait]:
    """The user's distinctive genres (at most MAX_GENRES) then tags (MAX_TAGS), each by lift, highest first."""
    traits = _ranked("genre", n_films, genre_counts, pop.genres, MAX_GENRES)
    return traits + _ranked("tag", n_films, tag_counts, pop.tags, MAX_TAGS)


def _ranked(
    kind: TraitKind, n_films: int, counts: Mapping[str, int], shares: Mapping[str, float], limit: int
) -> list[Trait]:
    found: list[Trait] = []
    support = max(MIN_SUPPORT, math.ceil(MIN_SHARE * n_films))
    for name, count in counts.items():
        share = shares.get(name, 0.0)
        if count < support or share <= 0.0 or name == NO_GENRE:
            continue
        lift = (count + PRIOR_FILMS * share) / (n_films + PRIOR_FILMS) / share
        if lift >= MIN_LIFT:
            found.append(Trait(kind, name, int(count), round(lift, 3)))
    found.sort(key=lambda t: (-t.lift, -t.count, t.name))
    return found[:limit]


def terms(traits: Iterable[Trait]) -> str:
    """The traits' names lower-cased between '|' (users.taste_terms): what the user search matches a taste word in."""
    names = [t.name.lower().replace("|", " ") for t in traits]
    return "|" + "|".join(names) + "|" if names else ""


def favourites(ratings: Mapping[int, float], popularity: Mapping[int, int], limit: int = FAVOURITES) -> list[int]:
    """The user's highest-rated films among those they liked (rated LIKED_MIN_RATING or more: a 2★ film is never a
    favourite, however few films the user rated); ties go to the better-known film (more ratings), then the lower
    id."""
    loved = [(m, r) for m, r in ratings.items() if r >= LIKED_MIN_RATING]
    ranked = sorted(loved, key=lambda mr: (-mr[1], -popularity.get(mr[0], 0), mr[0]))
    return [m for m, _ in ranked[:limit]]
