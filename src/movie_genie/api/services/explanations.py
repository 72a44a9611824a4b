"""Why each recommendation is there, found by leave-one-out attribution and returned as data (models/reasons.py).

"Because you liked X" names the film the person liked (user_view.is_liking: 4★ or more, or a like; never a dislike)
whose removal from the model's input lowers the pick's score the most, and only when that removal would cost the
pick at least one place in the list (the bar: the drop exceeds the gap to the next film). The model scores the
history once, and once more without each of the latest liked films, in one batch. When no liked film clears the
bar, or the film already explains a third of the list, the reason says what else is true: the pick is of a genre the
person likes, or it matches their ratings. A model's own reason that cites a film is dropped (a model reads the
history, not what the person thought of each film). Popularity's picks say how many ratings they have.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np

from movie_genie.api.services.catalogue import Catalogue
from movie_genie.db.taste import NO_GENRE
from movie_genie.models import reasons
from movie_genie.models.base import Recommendation, Recommender
from movie_genie.models.catalogue import CATALOGUE
from movie_genie.models.shared_scores import score_batch


class Explainer:
    """A reason for each recommendation of one list."""

    # The latest liked films in the model's input that may be cited: each costs one more history to score (ten cost
    # the home page 2x at p95, benchmarks/bench_reasons.py).
    CANDIDATES = 6
    # One film explains at most this share of a list's reasons (so at most this share of a page's).
    MAX_SHARE = 1 / 3

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def explain(
        self, model: Recommender, name: str, recs: list[Recommendation], history: Sequence[int], liked: Sequence[int]
    ) -> list[Recommendation]:
        """The recommendations with a reason each; `history` = the model's input (movie ids, oldest first),
        `liked` = the person's likings, oldest first."""
        recs = [r if r.reason is None or not r.reason.cites_film else dataclasses.replace(r, reason=None) for r in recs]
        if not CATALOGUE.spec(name).attributes_reasons:  # its picks ignore the history: say what is true of them
            return [dataclasses.replace(r, reason=self._popular(r.movie_id)) for r in recs]
        drivers = self._drivers(model, recs, history, liked)
        genres = self._liked_genres(liked)
        cap = max(1, int(len(recs) * self.MAX_SHARE))
        cited: Counter[int] = Counter()
        explained = []
        for rec in recs:
            driver = drivers.get(rec.movie_id)
            if driver is not None and cited[driver] < cap:
                cited[driver] += 1
                reason = reasons.because_you_liked(driver)
            else:
                reason = rec.reason or self._personal(rec.movie_id, genres)
            explained.append(dataclasses.replace(rec, reason=reason))
        return explained

    def _drivers(
        self, model: Recommender, recs: Sequence[Recommendation], history: Sequence[int], liked: Sequence[int]
    ) -> dict[int, int]:
        """Pick -> the liked film whose removal from `history` lowers its score the most, for the picks where that
        removal would cost at least one place (leave-one-out, one batch of 1 + CANDIDATES histories)."""
        id_map = model.id_map
        if id_map is None or not recs:
            return {}
        row_of = {m: i for m in history if (i := id_map.item_index(m)) is not None}  # the input, as indices
        candidates = [m for m in dict.fromkeys(reversed(liked)) if m in row_of][: self.CANDIDATES]
        picks = [r for r in recs if id_map.item_index(r.movie_id) is not None]
        if not candidates or not picks:
            return {}
        full = list(row_of.values())
        rows = [full] + [[i for m, i in row_of.items() if m != c] for c in candidates]
        # Every model row of a page scores these same rows: the hybrid's components share theirs (shared_scores.py).
        scores = np.asarray(score_batch(model, rows), dtype=np.float64)  # (1 + L, n_items)
        columns = np.array(id_map.items_to_indices(r.movie_id for r in picks), dtype=np.int64)
        own = scores[0, columns]  # (R,)
        drops = own[None, :] - scores[1:, columns]  # (L, R): how much removing each liked film costs each pick
        # The bar: the gap to the film just below the pick in the full ranking (history removed).
        ranking = scores[0].copy()
        ranking[full] = -np.inf
        ordered = np.sort(ranking[np.isfinite(ranking)])[::-1]
        below = np.searchsorted(-ordered, -own, side="right")  # position of the first film scored below each pick
        next_score = np.where(below < len(ordered), ordered[np.minimum(below, len(ordered) - 1)], -np.inf)
        gaps = own - next_score
        best = drops.argmax(axis=0)  # (R,)
        return {
            pick.movie_id: candidates[int(best[j])]
            for j, pick in enumerate(picks)
            if drops[best[j], j] > 0 and drops[best[j], j] >= gaps[j]
        }

    def _liked_genres(self, liked: Sequence[int]) -> Counter[str]:
        """How many of the person's likings carry each genre."""
        movies = self.catalogue.movies
        return Counter(g for m in liked if m in movies for g in movies[m].genres if g != NO_GENRE)

    def _personal(self, movie_id: int, genres: Counter[str]) -> reasons.Reason:
        """What is true of a pick no single liked film drives: a genre the person likes, else their ratings."""
        movie = self.catalogue.movies.get(movie_id)
        shared = [g for g in (movie.genres if movie else []) if genres.get(g, 0) > 0]
        if shared:
            return reasons.in_your_genre(max(shared, key=lambda g: (genres[g], g)))
        return reasons.matches_your_ratings()

    def _popular(self, movie_id: int) -> reasons.Reason:
        movie = self.catalogue.movies.get(movie_id)
        return reasons.popular(None if movie is None else movie.rating_count)
