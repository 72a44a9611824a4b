"""The home page (`HomeService`): rows in a fixed priority, each saying what it is for and which model made it.

- Model rows: the models whose catalogue spec has a home row (models/catalogue.py), in the rows' order; a model
  that is not loaded gives its row to the next model of the fallback chain, and the row says so.
- A film appears once on the page (the history row aside), in the highest row that wants it; every row keeps to the
  exclusion and push-down rules of `UserView` (api/services/user_view.py).
- Reasons travel as data (models/reasons.py) and are worded once, here at the edge (`Catalogue.worded`).
- The genre row: the first genre of the person's taste (db/taste.py, what their profile and greeting say stands
  out), not the genre of most of their likings (Drama for almost everyone); that only without a distinctive one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache
from movie_genie.api.envelope import to_json_bytes
from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.database import Database
from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.api.services.movies import COLLABORATIVE, MovieService
from movie_genie.api.services.recommendations import RecommendationService
from movie_genie.api.services.served import Served, shown
from movie_genie.api.services.user_view import UserView
from movie_genie.db import taste
from movie_genie.db.feedback import Mark
from movie_genie.db.user_stats import taste_of
from movie_genie.models import reasons, shared_scores
from movie_genie.models.base import Recommendation
from movie_genie.models.catalogue import CATALOGUE, HYBRID, POPULARITY, ModelSpec

ROW_SIZE = 12
HISTORY_ROW_SIZE = 20
# Said after a row's purpose when its own model is not running and the next model of the chain made it ...
FALLBACK_NOTE = "this row's usual model is not running"
# ... and when that model is still being trained by a first `movie-genie run`.
TRAINING_NOTE = "this row's own model is still learning and takes over when it is ready"


def history_note(mark: Mark) -> str:
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
        still_training: Callable[[], Collection[str]] = lambda: (),
    ) -> None:
        self.db, self.catalogue, self.models = db, catalogue, models
        self.recommendations, self.movies, self.cache = recommendations, movies, cache
        self.still_training = still_training  # the models a first run has not trained yet

    def home(self, user_id: int) -> Served:
        """The serialised page and its rows' lists, cached per (user, feedback version, model versions)."""
        version = self.db.feedback_version(user_id)
        parts = [user_id, version, sorted(self.models.versions.items()), self.movies.search.version]
        key = "home:" + hashlib.sha1(json.dumps(parts).encode()).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            return Served.from_cache(cached)
        with self.db.session() as session:
            view = UserView.read(session, user_id, self.recommendations.space)
            # The taste the profile and the home page's greeting show ("stands out: ..."): the genre row follows it.
            traits = taste_of(session, user_id)
        with shared_scores.sharing_scores():  # the model rows' attributions score the same batch of histories
            rows = self._rows(view, traits)
        page = s.HomePage(user_id=user_id, excluded=len(view.excluded), rows=rows)
        lists = {r.id: shown(r.model, (i.movie.movie_id for i in r.items)) for r in rows if not r.history}
        served = Served(to_json_bytes(page), lists)
        self.cache.set(key, served.to_cache())
        return served

    def _rows(self, view: UserView, traits: list[taste.Trait]) -> list[s.HomeRow]:
        claimed: set[int] = set()
        rows = [
            *(self._model_row(view, claimed, spec) for spec in CATALOGUE.home_rows()),
            self._because_liked(view, claimed),
            self._genre_row(view, claimed, traits),
            self._popular_row(view, claimed),
        ]
        return [*rows, self._history_row(view)]

    def _model_row(self, view: UserView, claimed: set[int], spec: ModelSpec) -> s.HomeRow:
        """The row of `spec`'s model, or of the first loaded model after it in the fallback chain; never a claimed
        film."""
        assert spec.home_row is not None
        first = spec.name
        model = self.models.first_loaded(CATALOGUE.fallback_chain(first))
        picked = self.recommendations.ranked(model, view, ROW_SIZE, claimed=claimed)
        claimed.update(r.movie_id for r in picked)
        purpose = self._purpose(model)
        if model != first:
            purpose += f" ({TRAINING_NOTE if first in self.still_training() else FALLBACK_NOTE})"
        return s.HomeRow(
            id=spec.home_row.id,
            title=spec.home_row.title,
            purpose=purpose,
            model=model,
            requested_model=first,
            items=[self._item(r) for r in picked],
        )

    def _purpose(self, model: str) -> str:
        """What a model's row is for; the hybrid's names the models its learned weights actually blend."""
        hybrid = self.models.models.get(HYBRID.name)
        if model != HYBRID.name or hybrid is None:
            return CATALOGUE.spec(model).purpose
        weights = hybrid.learned().get("weights") or {}
        blended = [CATALOGUE.label(name) for name, weight in sorted(weights.items(), key=lambda kv: -kv[1]) if weight]
        return f"Your strongest matches: the films {_listing(blended)} agree you will love most."

    def _because_liked(self, view: UserView, claimed: set[int]) -> s.HomeRow:
        """Films like the user's most recent liking: Two-Tower neighbours, else text-embedding neighbours."""
        seed = next((m for m in reversed(view.liked) if m in self.catalogue.movies), None)
        if seed is None:
            hint = "Like a film or rate it 4★ or more to see films like it here."
            return _empty_row("because-liked", "Because you liked…", hint, model=None, requested_model=COLLABORATIVE)
        seed_title = self.catalogue.movies[seed].title
        want = ROW_SIZE + len(claimed) + len(view.excluded)
        model, recs = self.movies.neighbours(seed, want)
        picked = _pick(view, recs, claimed)
        how = "the people who watched both" if CATALOGUE.spec(model).trained else "what they are about"
        return s.HomeRow(
            id="because-liked",
            title=self.catalogue.words(reasons.because_you_liked(seed)),
            purpose=f"Films closest to {seed_title}, your most recent liking, judged by {how}.",
            model=model,
            requested_model=COLLABORATIVE,
            # The row's title names the film; each card says how it is close to it.
            items=[self._item(r) for r in picked],
        )

    def _genre_row(self, view: UserView, claimed: set[int], traits: list[taste.Trait]) -> s.HomeRow:
        """The most rated films of the user's most distinctive genre: the first genre of their taste (db/taste.py,
        what their profile says stands out), else the genre of most films they liked."""
        distinctive = next((t for t in traits if t.kind == "genre"), None)
        genre = distinctive.name if distinctive else view.most_liked_genre(self.catalogue)
        if genre is None:
            hint = "Like or rate films 4★ or more so we learn the genre you like most."
            return _empty_row("your-genres", "Your genre", hint, model=POPULARITY.name, requested_model=POPULARITY.name)
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
            model=POPULARITY.name,
            requested_model=POPULARITY.name,
            items=[self._popular_item(m, genre) for m in picked],
        )

    def _popular_row(self, view: UserView, claimed: set[int]) -> s.HomeRow:
        picked = view.keep(self.catalogue.by_popularity, ROW_SIZE, claimed)
        claimed.update(picked)
        return s.HomeRow(
            id="popular",
            title="Popular with everyone",
            purpose="The films most people have rated, leaving out those you have rated or marked.",
            model=POPULARITY.name,
            requested_model=POPULARITY.name,
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


def _empty_row(row_id: str, title: str, hint: str, *, model: str | None, requested_model: str) -> s.HomeRow:
    """A row the user's history cannot fill yet: it stays on the page, and its purpose says how to fill it."""
    return s.HomeRow(id=row_id, title=title, purpose=hint, model=model, requested_model=requested_model, items=[])


def _pick(view: UserView, recs: Sequence[Recommendation], claimed: set[int]) -> list[Recommendation]:
    """The recommendations the exclusion rule keeps (first ROW_SIZE), claimed for this row."""
    by_id = {r.movie_id: r for r in recs}
    kept = view.keep((r.movie_id for r in recs), ROW_SIZE, claimed)
    claimed.update(kept)
    return [by_id[m] for m in kept]


def _listing(names: list[str]) -> str:
    """ "A, B and C"."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)
