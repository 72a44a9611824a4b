"""The catalogue in memory: every movie's card, the genre counts and the popularity order, read once at start so
result lists are built without a query per item; and the counts of films with metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from movie_genie.api import schemas as s
from movie_genie.api.services.database import Database
from movie_genie.db.errors import InvalidInputError
from movie_genie.db.movies import canonical_genre, catalogue_cards, catalogue_metadata, list_genres
from movie_genie.models import reasons
from movie_genie.models.base import Recommendation


@dataclass
class Catalogue:
    """Every movie's card in memory, the genre counts and the popularity order (the data set's, static)."""

    movies: dict[int, s.MovieSummary]
    genres: list[s.GenreCount]
    by_popularity: list[int]

    @classmethod
    def load(cls, db: Database) -> Catalogue:
        """Read the movies table once."""
        with db.session() as session:
            cards = catalogue_cards(session)
            genres = [s.GenreCount.model_validate(g, from_attributes=True) for g in list_genres(session)]
        movies = {card.movie_id: s.MovieSummary.model_validate(card, from_attributes=True) for card in cards}
        order = sorted(movies, key=lambda m: (-movies[m].rating_count, m))
        return cls(movies, genres, order)

    @property
    def genre_names(self) -> set[str]:
        """The genres the catalogue's films have."""
        return {g.genre for g in self.genres}

    def summary(self, movie_id: int) -> s.MovieSummary:
        """The card of a movie known to be in the catalogue."""
        return self.movies[movie_id]

    def canonical_genre(self, genre: str) -> str:
        """The catalogue's spelling of a genre (case-insensitive); 400 listing the valid ones otherwise."""
        try:
            return canonical_genre(genre, self.genre_names)
        except InvalidInputError:
            if genre in get_args(s.Genre):
                return genre  # a MovieLens genre this data set does not have: no films, not an error
            raise

    def scored(self, recs: Sequence[Recommendation]) -> list[s.ScoredMovie]:
        """Recommendations as ranked cards (ids outside the catalogue are dropped)."""
        items: list[s.ScoredMovie] = []
        for rec in recs:
            movie = self.movies.get(int(rec.movie_id))
            if movie is not None:
                reason = self.worded(rec.reason)
                items.append(s.ScoredMovie(rank=len(items) + 1, score=float(rec.score), reason=reason, movie=movie))
        return items

    def worded(self, reason: reasons.Reason | None) -> s.Reason | None:
        """A reason as the API sends it: its data and its words."""
        if reason is None:
            return None
        return s.Reason(kind=reason.kind, source_movie_id=reason.movie_id, genre=reason.genre, label=self.words(reason))

    def words(self, reason: reasons.Reason) -> str:
        """The reason in words, with this catalogue's titles (the one place reasons become text)."""
        return reasons.words(reason, lambda m: self.movies[m].title if m in self.movies else f"film {m}")


def count_catalogue_metadata(db: Database) -> s.CatalogueInfo:
    """Count the films with a plot summary and a poster, once at start (what the database serves, whatever
    dataset.json says; `db load` changes it only together with a restart)."""
    with db.session() as session:
        counts = catalogue_metadata(session)
    return s.CatalogueInfo.model_validate(counts, from_attributes=True)
