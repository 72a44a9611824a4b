"""What the product knows of one user, and its rules for every row and list the API makes for them, each in one place.

- Exclusion: nothing the user rated, liked, disliked, marked watched or dismissed ("not interested") appears in any
  row or list made for them, their own history row aside: `UserView.keep`, over the user's whole history read from
  the database (never a recent slice).
- Liking: `is_liking` decides which films say what the user likes: a like, or a rating of LIKED_MIN_RATING or
  more, never together with a dislike or a dismissal. Only those become reasons ("Because you liked X") and seeds
  of a "Because you liked X" row. The models see every rating but a dislike as an interaction, as offline (data.liking).
- Dislikes: the films nearest a negative mark made in the app (a dislike, "not interested", a rating <= 2★:
  `is_negative_mark`) are pushed below the others in every row and list at once: `UserView.ordered`, applied by
  `keep` and by `RecommendationService.ranked`.
- Models: every list says which model made it; a missing model falls back along the catalogue's chain
  (models/catalogue.py `Catalogue.fallback_chain`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.item_space import ItemSpace
from movie_genie.data.liking import LIKED_MIN_RATING, is_disliked_rating
from movie_genie.db.feedback import Mark, user_history, user_marks
from movie_genie.db.taste import NO_GENRE


def is_liking(mark: Mark) -> bool:
    """Whether a mark says the user liked the film: a like or a rating >= 4★, and no dislike or dismissal."""
    if mark.disliked or mark.dismissed:
        return False
    return mark.liked or (mark.rating is not None and mark.rating >= LIKED_MIN_RATING)


def is_negative_mark(mark: Mark) -> bool:
    """Whether the person just told the app they do not want a film like this one: a dislike, "not interested" or
    an app rating <= 2★. The data set's old low ratings are not: the models already learned without them, and
    pushing their neighbours down lowered held-out liked-next HR@10 without lowering disliked-next
    (benchmarks/bench_pushdown.py)."""
    if mark.disliked or mark.dismissed:
        return True
    return mark.rating_source == "app" and is_disliked_rating(mark.rating)


@dataclass(frozen=True)
class UserView:
    """What the product layer knows of a user, read once per request from their whole history."""

    user_id: int
    history: list[int]  # model input: interactions oldest first (every rating but dislikes, as offline)
    excluded: frozenset[int]  # every film the user touched: never shown to them again
    liked: list[int]  # the films that count as likings (is_liking), oldest first
    marks: dict[int, Mark]  # every touched film, oldest first (a film at its latest touch)
    # Films closest to what the user disliked or dismissed in the app: pushed down everywhere (`ordered`).
    avoided: frozenset[int] = frozenset()

    @classmethod
    def read(cls, session: Session, user_id: int, space: ItemSpace) -> UserView:
        """The user's marks and model history, and the films near their negative marks in `space`
        (UserNotFoundError -> 404 for an unknown user)."""
        marks = user_marks(session, user_id).marks
        history = user_history(session, user_id)
        liked = [m for m, mark in marks.items() if is_liking(mark)]
        negatives = [m for m, mark in marks.items() if is_negative_mark(mark)]
        return cls(user_id, history.movie_ids, frozenset(marks), liked, marks, space.near(negatives))

    def ordered(self, movie_ids: Iterable[int]) -> list[int]:
        """The ids with the films near a negative signal moved after all the others, each part in its order (the
        one push-down rule: a dislike lowers its neighbours in every row and list, at once)."""
        ids = list(movie_ids)
        return [m for m in ids if m not in self.avoided] + [m for m in ids if m in self.avoided]

    def keep(self, movie_ids: Iterable[int], k: int, claimed: Iterable[int] = ()) -> list[int]:
        """The first k ids that the user never touched and that no higher row claimed (the one exclusion rule),
        after the push-down rule (`ordered`)."""
        blocked = self.excluded | set(claimed)
        kept: list[int] = []
        for movie_id in self.ordered(movie_ids):
            if movie_id not in blocked:
                kept.append(movie_id)
                blocked |= {movie_id}
                if len(kept) == k:
                    break
        return kept

    def most_liked_genre(self, catalogue: Catalogue) -> str | None:
        """The genre of most of the films the user liked (ties by name), or None without likings."""
        films = [catalogue.movies[m] for m in self.liked if m in catalogue.movies]
        counts = Counter(g for movie in films for g in set(movie.genres) if g != NO_GENRE)
        return min(counts, key=lambda g: (-counts[g], g)) if counts else None
