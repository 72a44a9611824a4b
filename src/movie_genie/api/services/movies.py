"""Movies: browse the catalogue, the most rated films, a film's details, its neighbours (collaborative and content)
and the genres; for a user, none of the films they touched."""

from __future__ import annotations

import dataclasses

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache
from movie_genie.api.envelope import to_json_bytes
from movie_genie.api.errors import ResourceNotFoundError, ServiceUnavailableError
from movie_genie.api.metrics import count_cache, time_inference
from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.database import Database
from movie_genie.api.services.item_space import ItemSpace
from movie_genie.api.services.loaded_models import LoadedModels, Snapshot
from movie_genie.api.services.search import SearchService
from movie_genie.api.services.served import Served, shown
from movie_genie.api.services.user_view import UserView
from movie_genie.db.movies import MovieSummary, browse_movies, get_movie
from movie_genie.models import reasons
from movie_genie.models.base import Recommendation, SimilarItems
from movie_genie.models.catalogue import CATALOGUE, CONTENT, POPULARITY

# Films watched by the same people: the first trained model that can find films like a film (Two-Tower).
COLLABORATIVE = CATALOGUE.able("similar_items")[0]


class MovieService:
    """Browse, popular, details, similar and genres."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        models: LoadedModels,
        search: SearchService,
        space: ItemSpace,
        cache: Cache,
    ) -> None:
        self.db, self.catalogue, self.models, self.search, self.cache = db, catalogue, models, search, cache
        self.space = space

    def browse(self, query: s.MoviesQuery) -> tuple[list[s.MovieSummary], int]:
        """One page of the catalogue, filtered and sorted in SQL."""
        if query.genre is not None and self.catalogue.canonical_genre(query.genre) not in self.catalogue.genre_names:
            return [], 0  # a MovieLens genre this data set does not have
        with self.db.session() as session:
            page = browse_movies(
                session,
                genre=query.genre,
                year_min=query.year_min,
                year_max=query.year_max,
                sort=query.sort,
                page=query.page,
                per_page=query.page_size,
            )
        return [self.catalogue.movies.get(m.movie_id) or _summary(m) for m in page.items], page.total

    def popular(self, k: int, genre: str | None, user_id: int | None = None) -> list[s.MovieSummary]:
        """The k most-rated films (optionally of one genre), from memory; for a user, none they touched."""
        wanted = self.catalogue.canonical_genre(genre) if genre else None
        ids = (m for m in self.catalogue.by_popularity if wanted is None or wanted in self.catalogue.movies[m].genres)
        if user_id is None:
            return [self.catalogue.movies[m] for _, m in zip(range(k), ids, strict=False)]
        with self.db.session() as session:
            view = UserView.read(session, user_id, self.space)
        return [self.catalogue.movies[m] for m in view.keep(ids, k)]

    def get(self, movie_id: int) -> s.MovieDetail:
        """Details with live rating figures (404 for an unknown id)."""
        with self.db.session() as session:
            detail = get_movie(session, movie_id)
        return s.MovieDetail.model_validate(detail, from_attributes=True)

    def similar(self, movie_id: int, k: int, kind: str, user_id: int | None = None) -> Served:
        """Collaborative and/or content neighbours, cached per (movie, k, kind); for a user (cached per feedback
        version), none of the films they touched."""
        if movie_id not in self.catalogue.movies:
            raise ResourceNotFoundError(f"movie {movie_id} is not in the catalogue")
        view: UserView | None = None
        who = ""
        if user_id is not None:
            with self.db.session() as session:
                view = UserView.read(session, user_id, self.space)
            who = f":{user_id}:{self.db.feedback_version(user_id)}"
        loaded = self.models.snapshot()
        has_collaborative = COLLABORATIVE in loaded.models
        has_content = self.search.content_vectors is not None
        versions = f"{loaded.versions.get(COLLABORATIVE) if has_collaborative else 'none'}:{self.search.version}"
        key = f"similar:{versions}:{has_content}:{movie_id}:{k}:{kind}{who}"
        cached = self.cache.get(key)
        count_cache("similar", cached is not None)
        if cached is not None:
            return Served.from_cache(cached)
        # Asked for enough neighbours that k remain after the user's films are dropped.
        want = k + (len(view.excluded) if view is not None else 0)
        collaborative: list[s.ScoredMovie] = []
        content: list[s.ScoredMovie] = []
        notes: list[str] = []
        # A list whose model is missing is empty and says why, while the other list answers; with nothing to answer
        # the kind asked for, the missing model's 503 (what to run, in plain words).
        wants_collaborative, wants_content = kind in ("both", "collaborative"), kind in ("both", "content")
        if (not wants_collaborative or not has_collaborative) and (not wants_content or not has_content):
            if wants_collaborative:
                self.models.get(COLLABORATIVE, loaded)
            self.search.similar_recs(movie_id, 1)
        if wants_collaborative and has_collaborative:
            collaborative = self._for_user(view, self._collaborative(movie_id, want, loaded), k)
        elif wants_collaborative:
            why = loaded.errors.get(COLLABORATIVE) or "not loaded"
            model = CATALOGUE.label(COLLABORATIVE)
            notes.append(f"{model} is not running ({why}), so no films watched by the same people are shown.")
        if wants_content and has_content:
            content = self._for_user(view, self.search.similar(movie_id, want), k)
        elif wants_content:
            why = self.search.content_error or "not loaded"
            notes.append(f"The text embeddings are not loaded ({why}), so no films with a similar story are shown.")
        data = s.SimilarMovies(
            movie_id=movie_id,
            collaborative=collaborative,
            content=content,
            collaborative_model=COLLABORATIVE if wants_collaborative and has_collaborative else None,
            content_model=CONTENT.name if wants_content and has_content else None,
            note=" ".join(notes) or None,
        )
        lists = {
            "collaborative": shown(COLLABORATIVE, (i.movie.movie_id for i in collaborative)),
            "content": shown(None, (i.movie.movie_id for i in content)),
        }
        served = Served(to_json_bytes(data), lists)
        self.cache.set(key, served.to_cache())
        return served

    @staticmethod
    def _for_user(view: UserView | None, items: list[s.ScoredMovie], k: int) -> list[s.ScoredMovie]:
        """The first k items the user never touched, ranked again from 1."""
        if view is None:
            return items[:k]
        by_id = {i.movie.movie_id: i for i in items}
        kept = view.keep((i.movie.movie_id for i in items), k)
        return [by_id[m].model_copy(update={"rank": rank}) for rank, m in enumerate(kept, start=1)]

    def neighbours(self, movie_id: int, k: int) -> tuple[str, list[Recommendation]]:
        """Films like this one and the model that found them: Two-Tower, else the text embeddings ("content"), else
        the most rated films ("popularity")."""
        if COLLABORATIVE in self.models.models:
            return COLLABORATIVE, self._collaborative_recs(movie_id, k)
        if self.search.content_vectors is not None:
            return CONTENT.name, self.search.similar_recs(movie_id, k)
        return POPULARITY.name, [Recommendation(m, 0.0, None) for m in self.catalogue.by_popularity[:k]]

    def _collaborative(self, movie_id: int, k: int, snapshot: Snapshot | None = None) -> list[s.ScoredMovie]:
        return self.catalogue.scored(self._collaborative_recs(movie_id, k, snapshot))

    def _collaborative_recs(self, movie_id: int, k: int, snapshot: Snapshot | None = None) -> list[Recommendation]:
        model = self.models.get(COLLABORATIVE, snapshot)
        if not isinstance(model, SimilarItems):
            raise ServiceUnavailableError(
                f"the loaded {COLLABORATIVE} model cannot answer similar items", code="model_unavailable"
            )
        with time_inference(COLLABORATIVE, "similar_items"):
            recs = model.similar_items(movie_id, k)
        reason = reasons.liked_by_same_viewers()
        return [r if r.reason else dataclasses.replace(r, reason=reason) for r in recs]

    def genres(self) -> list[s.GenreCount]:
        """Genres with their film counts, most common first."""
        return self.catalogue.genres


def _summary(movie: MovieSummary) -> s.MovieSummary:
    return s.MovieSummary.model_validate(movie, from_attributes=True)
