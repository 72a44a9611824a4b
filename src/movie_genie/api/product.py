"""The product layer: the rules of what a person sees, each in one place, for every row and list of the API.

- Exclusion: nothing the user rated, liked, disliked, marked watched or dismissed ("not interested") appears in any
  row or list made for them, their own history row aside: `UserView.keep`, over the user's whole history read from
  the database (never a recent slice).
- Liking: `is_liking` decides which films say what the user likes: a like, or a rating of LIKED_MIN_RATING or
  more, never together with a dislike or a dismissal. Only those become reasons ("Because you liked X") and seeds
  of a "Because you liked X" row. The models see every rating but a dislike as an interaction, as offline (data.liking).
- Dislikes: the films nearest a negative mark made in the app (a dislike, "not interested", a rating <= 2★:
  `is_negative_mark`) are pushed below the others in every row and list at once: `UserView.ordered`, applied by
  `keep` and by `RecommendationService.ranked`.
- Models: every list says which model made it; a missing model falls back along FALLBACK.
- The home page (`HomeService`): rows in a fixed priority, each saying what it is for; a film appears once on the
  page (the history row aside), in the highest row that wants it.
- The genre row: the first genre of the person's taste (db/taste.py, what their profile and greeting say stands
  out), not the genre of most of their likings (Drama for almost everyone); that only without a distinctive one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from movie_genie.api import schemas as s
from movie_genie.data.liking import LIKED_MIN_RATING, is_disliked_rating
from movie_genie.db import repository as repo
from movie_genie.db import taste
from movie_genie.models import reasons
from movie_genie.models.base import Recommendation

if TYPE_CHECKING:
    from movie_genie.api.cache import Cache
    from movie_genie.api.services import Catalogue, Database, LoadedModels, MovieService, RecommendationService
    from movie_genie.api.services.item_space import ItemSpace

# The order in which a personalised list falls back when its model is not loaded (model registry names).
FALLBACK = ("hybrid", "two_tower", "ease", "popularity")
ROW_SIZE = 12
HISTORY_ROW_SIZE = 20
NO_GENRE = "(no genres listed)"


def is_liking(mark: repo.Mark) -> bool:
    """Whether a mark says the user liked the film: a like or a rating >= 4★, and no dislike or dismissal."""
    if mark.disliked or mark.dismissed:
        return False
    return mark.liked or (mark.rating is not None and mark.rating >= LIKED_MIN_RATING)


def is_negative_mark(mark: repo.Mark) -> bool:
    """Whether the person just told the app they do not want a film like this one: a dislike, "not interested" or
    an app rating <= 2★. The data set's old low ratings are not: the models already learned without them, and
    pushing their neighbours down lowered held-out liked-next HR@10 without lowering disliked-next
    (benchmarks/bench_pushdown.py)."""
    if mark.disliked or mark.dismissed:
        return True
    return mark.rating_source == "app" and is_disliked_rating(mark.rating)


def fallback_chain(first: str) -> tuple[str, ...]:
    """`first`, then the FALLBACK models after it (BERT4Rec falls back to the whole chain)."""
    return (first, *(m for m in FALLBACK if m != first))


def history_note(mark: repo.Mark) -> str:
    """A history card's line, in the cards' wording style: "You rated 4★ and liked it"."""
    parts = []
    if mark.rating is not None:
        parts.append(f"rated {mark.rating:g}★")
    if mark.liked:
        parts.append("liked it")
    if mark.disliked:
        parts.append("disliked it")
    if mark.watched and not parts:
        parts.append("watched it")
    if mark.dismissed:
        parts.append("marked it not interested")
    return "You " + " and ".join(parts) if parts else "You saw it"


@dataclass(frozen=True)
class UserView:
    """What the product layer knows of a user, read once per request from their whole history."""

    user_id: int
    history: list[int]  # model input: interactions oldest first (every rating but dislikes, as offline)
    excluded: frozenset[int]  # every film the user touched: never shown to them again
    liked: list[int]  # the films that count as likings (is_liking), oldest first
    marks: dict[int, repo.Mark]  # every touched film, oldest first (a film at its latest touch)
    # Films closest to what the user disliked or dismissed in the app: pushed down everywhere (`ordered`).
    avoided: frozenset[int] = frozenset()

    @classmethod
    def read(cls, session: Session, user_id: int, space: ItemSpace) -> UserView:
        """The user's marks and model history, and the films near their negative marks in `space`
        (UserNotFoundError -> 404 for an unknown user)."""
        marks = repo.user_marks(session, user_id).marks
        history = repo.user_history(session, user_id)
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


class HomeService:
    """The user's whole home page, built on the server: ordered rows, each with its purpose, model and items."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        models: LoadedModels,
        recommendations: RecommendationService,
        movies: MovieService,
        cache: Cache,
    ) -> None:
        self.db, self.catalogue, self.models = db, catalogue, models
        self.recommendations, self.movies, self.cache = recommendations, movies, cache

    def home(self, user_id: int) -> tuple[bytes, bool]:
        """The serialised page, cached per (user, feedback version, model versions)."""
        version = self.db.feedback_version(user_id)
        parts = [user_id, version, sorted(self.models.versions.items()), self.movies.search.version]
        key = "home:" + hashlib.sha1(json.dumps(parts).encode()).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            return cached, True
        with self.db.session() as session:
            view = UserView.read(session, user_id, self.recommendations.space)
            # The taste the profile and the home page's greeting show ("stands out: ..."): the genre row follows it.
            traits = repo.taste_of(session, user_id)
        rows = self._rows(view, traits)
        body = s.HomePage(user_id=user_id, excluded=len(view.excluded), rows=rows).model_dump_json()
        self.cache.set(key, body.encode())
        return body.encode(), False

    def _rows(self, view: UserView, traits: list[taste.Trait]) -> list[s.HomeRow]:
        claimed: set[int] = set()
        rows = [
            self._model_row(view, claimed, "for-you", "hybrid", "Top picks for you"),
            self._model_row(view, claimed, "up-next", "sasrec", "Up next"),
            self._model_row(view, claimed, "from-history", "bert4rec", "From your whole history"),
            self._because_liked(view, claimed),
            self._genre_row(view, claimed, traits),
            self._popular_row(view, claimed),
        ]
        return [*rows, self._history_row(view)]

    def _model_row(self, view: UserView, claimed: set[int], row_id: str, first: str, title: str) -> s.HomeRow:
        """A personalised row from `first` or the first loaded model after it; never a claimed film."""
        model = self.models.first_loaded(fallback_chain(first))
        recs = self.recommendations.ranked(model, view, ROW_SIZE + len(claimed))
        picked = _pick(view, recs, claimed)
        return s.HomeRow(
            id=row_id,
            title=title,
            purpose=self._purpose(model) if model == first else f"{self._purpose(model)} ({FALLBACK_NOTE})",
            model=model,
            requested_model=first,
            items=[self._item(r) for r in picked],
        )

    def _purpose(self, model: str) -> str:
        """What a model's row is for; the hybrid's names the models its learned weights actually blend."""
        hybrid = self.models.models.get("hybrid")
        if model != "hybrid" or hybrid is None:
            return PURPOSES[model]
        weights = hybrid.learned().get("weights") or {}
        blended = [LABELS.get(name, name) for name, weight in sorted(weights.items(), key=lambda kv: -kv[1]) if weight]
        return f"Your strongest matches: the films {_listing(blended)} agree you will love most."

    def _because_liked(self, view: UserView, claimed: set[int]) -> s.HomeRow:
        """Films like the user's most recent liking: Two-Tower neighbours, else text-embedding neighbours."""
        seed = next((m for m in reversed(view.liked) if m in self.catalogue.movies), None)
        if seed is None:
            return s.HomeRow(
                id="because-liked",
                title="Because you liked…",
                purpose="Like a film or rate it 4★ or more to see films like it here.",
                model=None,
                requested_model="two_tower",
                items=[],
            )
        seed_title = self.catalogue.movies[seed].title
        want = ROW_SIZE + len(claimed) + len(view.excluded)
        model, recs = self.movies.neighbours(seed, want)
        picked = _pick(view, recs, claimed)
        how = "the people who watched both" if model == "two_tower" else "what they are about"
        return s.HomeRow(
            id="because-liked",
            title=self.catalogue.words(reasons.because_you_liked(seed)),
            purpose=f"Films closest to {seed_title}, your most recent liking, judged by {how}.",
            model=model,
            requested_model="two_tower",
            # The row's title names the film; each card says how it is close to it.
            items=[self._item(r) for r in picked],
        )

    def _genre_row(self, view: UserView, claimed: set[int], traits: list[taste.Trait]) -> s.HomeRow:
        """The most rated films of the user's most distinctive genre: the first genre of their taste (db/taste.py,
        what their profile says stands out), else the genre of most films they liked."""
        distinctive = next((t for t in traits if t.kind == "genre"), None)
        genre = distinctive.name if distinctive else view.most_liked_genre(self.catalogue)
        if genre is None:
            return s.HomeRow(
                id="your-genres",
                title="Your genre",
                purpose="Like or rate films 4★ or more so we learn the genre you like most.",
                model="popularity",
                requested_model="popularity",
                items=[],
            )
        ids = (m for m in self.catalogue.by_popularity if genre in self.catalogue.movies[m].genres)
        picked = view.keep(ids, ROW_SIZE, claimed)
        claimed.update(picked)
        if distinctive is None:
            title = f"Most rated {genre}"
            purpose = f"{genre} is the genre of most films you liked; these are its most rated films you have not seen."
        else:
            title = f"Most loved {genre}"
            purpose = (
                f"You like {genre} more than most people do ({distinctive.count} films you liked): these are its most "
                "rated films you have not seen."
            )
        return s.HomeRow(
            id="your-genres",
            title=title,
            purpose=purpose,
            model="popularity",
            requested_model="popularity",
            items=[self._popular_item(m, genre) for m in picked],
        )

    def _popular_row(self, view: UserView, claimed: set[int]) -> s.HomeRow:
        picked = view.keep(self.catalogue.by_popularity, ROW_SIZE, claimed)
        claimed.update(picked)
        return s.HomeRow(
            id="popular",
            title="Popular with everyone",
            purpose="The films most people have rated, leaving out those you have rated or marked.",
            model="popularity",
            requested_model="popularity",
            items=[self._popular_item(m) for m in picked],
        )

    def _history_row(self, view: UserView) -> s.HomeRow:
        """The user's own latest films, newest first, each once: the one row that shows films they touched."""
        recent = list(reversed(view.marks.values()))[:HISTORY_ROW_SIZE]
        return s.HomeRow(
            id="recent",
            title="Your recent activity",
            purpose="What you rated or marked most recently.",
            model=None,
            requested_model=None,
            history=True,
            items=[
                s.HomeItem(movie=self.catalogue.movies[m.movie_id], note=history_note(m))
                for m in recent
                if m.movie_id in self.catalogue.movies
            ],
        )

    def _item(self, rec: Recommendation) -> s.HomeItem:
        return s.HomeItem(movie=self.catalogue.movies[rec.movie_id], reason=self.catalogue.worded(rec.reason))

    def _popular_item(self, movie_id: int, genre: str | None = None) -> s.HomeItem:
        """A most-rated film, with its number of ratings (and the genre of the row, when it has one)."""
        movie = self.catalogue.movies[movie_id]
        reason = reasons.popular(movie.rating_count) if genre is None else reasons.popular_in(genre, movie.rating_count)
        return s.HomeItem(movie=movie, reason=self.catalogue.worded(reason))


def _pick(view: UserView, recs: Sequence[Recommendation], claimed: set[int]) -> list[Recommendation]:
    """The recommendations the exclusion rule keeps (first ROW_SIZE), claimed for this row."""
    by_id = {r.movie_id: r for r in recs}
    kept = view.keep((r.movie_id for r in recs), ROW_SIZE, claimed)
    claimed.update(kept)
    return [by_id[m] for m in kept]


def _listing(names: list[str]) -> str:
    """ "A, B and C"."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


# How a row names the models it comes from.
LABELS = {
    "bert4rec": "BERT4Rec",
    "sasrec": "SASRec",
    "two_tower": "Two-Tower",
    "ease": "EASE",
    "popularity": "popularity",
}

# Said after a row's purpose when its own model is not running and the next model of the chain made it.
FALLBACK_NOTE = "this row's usual model is not running"

# What each model's row is for, in the words a person reads under the row title.
PURPOSES: dict[str, str] = {
    "hybrid": "Your strongest matches: the films several models agree you will love most.",
    "sasrec": "What people usually watch next after the films you watched most recently.",
    "bert4rec": "Films that fit the whole of your history, old favourites and new.",
    "two_tower": "Films closest to your taste on a map of who watches what.",
    "ease": "Films often rated by the same people as yours.",
    "popularity": "The most rated films you have not seen yet.",
}
