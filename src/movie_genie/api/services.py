"""Services: one object per resource, built once at start with everything loaded; routes only call them.

- `Catalogue`: every movie's card data in memory (read once from the database), for building result lists without
  a query per item.
- `RecommendationService`: the loaded recommenders; history from the database on every cache miss.
- `MovieService`, `UserService`, `FeedbackService`: the database repository plus the catalogue.
- `SearchService`: the loaded search engine.

Live feedback across worker processes: cached answers that depend on a user are keyed by the user's *feedback
version* — the id of their newest feedback event, read from the database (one indexed look-up) on each request.
A POST /api/feedback in any worker bumps it, so every worker's next request misses and recomputes from the
database. Nothing has to be broadcast, and a Redis cache (REDIS_URL) shares the recomputed answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from flask import current_app
from sqlalchemy import Engine, bindparam, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache, make_cache
from movie_genie.api.config import ServingConfig
from movie_genie.api.envelope import to_json_bytes
from movie_genie.api.errors import ApiError, ResourceNotFoundError, ServiceUnavailableError
from movie_genie.api.metrics import FEEDBACK_EVENTS, count_cache, time_inference
from movie_genie.api.product import FALLBACK, HomeService, UserView
from movie_genie.config import Layout, Params, Settings
from movie_genie.db import repository as repo
from movie_genie.db.config import DatabaseParams
from movie_genie.db.engine import SqliteFileGuard, make_engine, make_session_factory, session_scope
from movie_genie.db.load import EMPTY_CATALOGUE_HELP
from movie_genie.db.migrate import ensure_schema_current
from movie_genie.db.models import FeedbackEvent, Movie
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import Recommendation, Recommender
from movie_genie.models.registry import MODEL_NAMES, checkpoint_path, load_model
from movie_genie.models.two_tower import TwoTower
from movie_genie.search.embeddings import EMBEDDINGS_FILE, read_embeddings
from movie_genie.search.engine import SearchEngine, SearchFilters

log = logging.getLogger(__name__)

EXTENSION_KEY = "movie_genie"

# API model names -> checkpoint names (the API says "popular", the checkpoint "popularity").
API_MODELS: dict[str, str] = {
    "hybrid": "hybrid",
    "bert4rec": "bert4rec",
    "two_tower": "two_tower",
    "popular": "popularity",
    "ease": "ease",
}
NEW_USER_NAME = "New viewer"
# A new user's first recommendations come from the best model that is loaded.
COLD_START_MODELS = ("hybrid", "two_tower", "bert4rec", "ease", "popular")


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found


# --- database --------------------------------------------------------------------------------------------------


# Built once; SQLAlchemy caches its compiled form.
_VERSION_QUERY = select(func.max(FeedbackEvent.__table__.c.id), func.count()).where(
    FeedbackEvent.__table__.c.user_id == bindparam("user_id")
)


class Database:
    """The engine and session factory; sessions are short (one per request)."""

    def __init__(self, settings: Settings, params: Params) -> None:
        db_params = DatabaseParams.from_params(params)
        self.engine: Engine = make_engine(settings.database_url, busy_timeout_ms=db_params.busy_timeout_ms)
        self._factory: sessionmaker[Session] = make_session_factory(self.engine)
        # A SQLite file deleted under the server: every session refuses to start (503), and a commit that went to
        # the deleted file is reported as failed (503) instead of acknowledged and lost.
        self.file_guard = SqliteFileGuard(self.engine)
        event.listen(self._factory, "after_commit", lambda _session: self.file_guard.check())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work (committed on success, rolled back on error); 503 when the database file vanished."""
        self.file_guard.check()
        with session_scope(self._factory) as session:
            yield session

    def feedback_version(self, user_id: int) -> str:
        """The id of the user's newest feedback event and their number of events ("0.0" when none): changes with
        every write, a mark taken back (deleted) included, because ids are never reused.

        One index range scan (feedback_events(user_id, id)) on a plain connection: this runs on every cached
        request, so it skips the ORM session.
        """
        self.file_guard.check()
        with self.engine.connect() as connection:
            newest, count = connection.execute(_VERSION_QUERY, {"user_id": user_id}).one()
        return f"{int(newest or 0)}.{int(count or 0)}"


# --- catalogue -------------------------------------------------------------------------------------------------


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
            rows = session.execute(
                select(
                    Movie.movie_id,
                    Movie.title,
                    Movie.year,
                    Movie.genres,
                    Movie.poster_path,
                    Movie.rating_count,
                    Movie.rating_mean,
                )
            ).all()
            genres = [s.GenreCount(genre=g.genre, count=g.count) for g in repo.list_genres(session)]
        movies = {
            int(r.movie_id): s.MovieSummary(
                movie_id=int(r.movie_id),
                title=r.title,
                year=r.year,
                genres=list(r.genres or []),
                poster_path=r.poster_path,
                rating_count=int(r.rating_count or 0),
                rating_mean=None if r.rating_mean is None else round(float(r.rating_mean), 3),
            )
            for r in rows
        }
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
        known = {g.genre.lower(): g.genre for g in self.genres}
        found = known.get(genre.strip().lower())
        if found is None and genre in get_args(s.Genre):
            return genre  # a MovieLens genre this data set does not have: no films, not an error
        if found is None:
            raise ApiError(
                f"unknown genre {genre!r}: use one of {', '.join(sorted(known.values()))}",
                code="invalid_input",
            )
        return found

    def scored(self, recs: Sequence[Recommendation]) -> list[s.ScoredMovie]:
        """Recommendations as ranked cards (ids outside the catalogue are dropped)."""
        items: list[s.ScoredMovie] = []
        for rec in recs:
            movie = self.movies.get(int(rec.movie_id))
            if movie is not None:
                items.append(s.ScoredMovie(rank=len(items) + 1, score=float(rec.score), reason=rec.reason, movie=movie))
        return items


# --- models ----------------------------------------------------------------------------------------------------


@dataclass
class LoadedModels:
    """The recommenders that loaded, their versions, and why the others did not."""

    models: dict[str, Recommender]
    versions: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    _takes_user_id: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, models_dir: Path) -> LoadedModels:
        """Load each checkpoint through the models registry; one broken model never hides the others."""
        models: dict[str, Recommender] = {}
        versions: dict[str, str] = {}
        errors: dict[str, str] = {}
        for name in MODEL_NAMES:
            path = checkpoint_path(models_dir, name)
            if not path.is_file():
                errors[name] = f"{path} not found: run `movie-genie train`"
                continue
            try:
                with time_inference(name, "load"):
                    model = load_model(models_dir, name, models)
                    # Warm-up: lazily built tensors (item vectors, ...) are made now, not in the first request.
                    model.recommend([], k=1)
            except Exception as exc:  # an unreadable checkpoint of any kind is reported, never fatal
                log.error("model %s not loaded: %s", name, exc)
                errors[name] = str(exc) if isinstance(exc, MovieGenieError) else _unreadable(path, exc, "train")
                continue
            models[name] = model
            versions[name] = _file_version(path)
        return cls(models, versions, errors)

    def first_loaded(self, api_names: Sequence[str]) -> str:
        """The first of these API model names whose model is loaded; 503 when none is."""
        for api_name in api_names:
            if API_MODELS[api_name] in self.models:
                return api_name
        raise ServiceUnavailableError(
            f"none of the models {', '.join(api_names)} is loaded: run `movie-genie train`", code="model_unavailable"
        )

    def accepts_user_id(self, name: str) -> bool:
        """Whether the model's recommend() takes the user id (Two-Tower adds a known user's features)."""
        model = self.models.get(name)
        if model is None:
            return False
        if name not in self._takes_user_id:
            self._takes_user_id[name] = "user_id" in inspect.signature(model.recommend).parameters
        return self._takes_user_id[name]

    def get(self, api_name: str) -> Recommender:
        """The model behind an API model name; 503 saying how to get it when it is not loaded."""
        name = API_MODELS[api_name]
        model = self.models.get(name)
        if model is None:
            raise ServiceUnavailableError(
                f"model '{api_name}' is not loaded: {self.errors.get(name) or self.errors.get('*') or 'unknown'}",
                code="model_unavailable",
            )
        return model


def _unreadable(path: Path, exc: BaseException, stage: str) -> str:
    """What /api/health says about an artefact that failed to load with an unexpected error."""
    reason = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{path} is unreadable ({type(exc).__name__}: {reason}): re-run `movie-genie {stage}`"


def _file_version(path: Path) -> str:
    """A short content hash of an artefact: changes whenever the file is retrained."""
    if not path.is_file():
        return "unknown"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


# --- services --------------------------------------------------------------------------------------------------


class Explainer:
    """A short reason for each recommendation, in one wording style (sentence case, no full stop).

    "Because you liked X": X is the film the user liked (product.is_liking: never a rating <= 2★ or a dislike) that
    is closest to the recommendation in Two-Tower item space (who-watched-what similarity), or in text-embedding
    space when Two-Tower is not loaded. A model's own reason that cites a film ("Because ...") is replaced: models
    see every rating, the product layer decides what counts as a liking. Popularity's picks say how many ratings
    they have.
    """

    RECENT = 50

    def __init__(self, catalogue: Catalogue, models: LoadedModels, search: SearchService) -> None:
        self.catalogue = catalogue
        # Unit-norm vectors float32 [n, d] and movie id -> row.
        self._vectors: np.ndarray | None = None
        self._row: dict[int, int] = {}
        two_tower = models.models.get("two_tower")
        item_vectors = getattr(two_tower, "item_vectors", None)
        id_map = getattr(two_tower, "id_map", None)
        if item_vectors is not None and id_map is not None:
            self._vectors = np.asarray(item_vectors(), dtype=np.float32)
            self._row = {int(m): i for i, m in enumerate(id_map.item_ids)}
        elif search.content_vectors is not None:
            self._vectors, self._row = search.content_vectors, search.content_rows

    def explain(self, api_model: str, recs: list[Recommendation], liked: Sequence[int]) -> list[Recommendation]:
        """The recommendations with a reason each; `liked` = the user's likings, oldest first."""
        # A model's reason that cites a film may cite one the user disliked: only the product layer names films.
        recs = [
            r if r.reason and not r.reason.startswith("Because") else dataclasses.replace(r, reason=None) for r in recs
        ]
        if api_model == "popular":
            return [dataclasses.replace(r, reason=self._popular(r.movie_id)) for r in recs]
        recent = [m for m in liked[-self.RECENT :] if m in self._row and m in self.catalogue.movies]
        if self._vectors is None or not recent:
            return [r if r.reason else dataclasses.replace(r, reason="Matches your ratings") for r in recs]
        seen = self._vectors[[self._row[m] for m in recent]]  # (h, d)
        explained = []
        for rec in recs:
            row = self._row.get(rec.movie_id)
            if row is None:
                explained.append(rec if rec.reason else dataclasses.replace(rec, reason="Matches your ratings"))
                continue
            closest = recent[int(np.argmax(seen @ self._vectors[row]))]
            title = self.catalogue.movies[closest].title
            explained.append(dataclasses.replace(rec, reason=f"Because you liked {title}"))
        return explained

    def _popular(self, movie_id: int) -> str:
        movie = self.catalogue.movies.get(movie_id)
        return f"Popular: {movie.rating_count:,} ratings" if movie else "Popular with everyone"


class RecommendationService:
    """Top-k for a user from one model; answers cached per (model, user, feedback version, k)."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        models: LoadedModels,
        cache: Cache,
        config: ServingConfig,
        explainer: Explainer,
    ) -> None:
        self.db, self.catalogue, self.models, self.cache, self.config = db, catalogue, models, cache, config
        self.explainer = explainer

    def recommend(self, user_id: int, api_model: str | None, k: int) -> tuple[bytes, dict[str, Any]]:
        """Serialised recommendations and their meta (model, version, history size, cached). A named model
        answers or it is a 503; with none named, the first loaded along FALLBACK answers and meta says which."""
        requested = api_model or FALLBACK[0]
        api_model = api_model or self.models.first_loaded(FALLBACK)
        self.models.get(api_model)  # 503 before any work when the model is not loaded
        name = API_MODELS[api_model]
        meta: dict[str, Any] = {
            "model": api_model,
            "requested_model": requested,
            "model_version": self.models.versions.get(name),
            "k": k,
        }
        version = self.db.feedback_version(user_id)
        key = f"rec:{name}:{self.models.versions.get(name)}:{user_id}:{version}:{k}"
        cached = self.cache.get(key)
        count_cache("recommendations", cached is not None)
        if cached is not None:
            header, _, body = cached.partition(b"\n")
            return body, {**meta, **json.loads(header), "cached": True}
        with self.db.session() as session:
            view = UserView.read(session, user_id)
        recs = self.ranked(api_model, view, k)
        data = s.Recommendations(user_id=user_id, model=api_model, items=self.catalogue.scored(recs))
        payload = to_json_bytes(data)
        extra = {"history_size": len(view.history)}
        self.cache.set(key, json.dumps(extra).encode() + b"\n" + payload)
        return payload, {**meta, **extra, "cached": False}

    def ranked(self, api_model: str, view: UserView, k: int) -> list[Recommendation]:
        """The model's top-k for the user, none of the films they touched, each with a reason from their likings."""
        model, name = self.models.get(api_model), API_MODELS[api_model]
        recs = self._run(model, name, view.history, view.excluded, k, view.user_id)
        return self.explainer.explain(api_model, recs, view.liked)

    def for_history(self, api_model: str, movie_ids: Sequence[int], k: int, user_id: int) -> s.Recommendations:
        """Recommendations for a history given directly (a user created a moment ago)."""
        name = API_MODELS[api_model]
        recs = self._run(self.models.get(api_model), name, list(movie_ids), [], k, user_id)
        recs = self.explainer.explain(api_model, recs, list(movie_ids))
        return s.Recommendations(user_id=user_id, model=api_model, items=self.catalogue.scored(recs))

    def _run(
        self, model: Recommender, name: str, history: Sequence[int], excluded: Iterable[int], k: int, user_id: int
    ) -> list[Recommendation]:
        # The model sees the most recent interactions; every film the user ever touched stays excluded.
        recent = list(history[-self.config.history_limit :])
        exclude = set(history) | set(excluded)
        extra: dict[str, Any] = {"user_id": user_id} if self.models.accepts_user_id(name) else {}
        with time_inference(name, "recommend"):
            return model.recommend(recent, k=k, exclude=exclude, **extra)


class MovieService:
    """Browse, popular, details, similar and genres."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        models: LoadedModels,
        search: SearchService,
        cache: Cache,
    ) -> None:
        self.db, self.catalogue, self.models, self.search, self.cache = db, catalogue, models, search, cache

    def browse(self, query: s.MoviesQuery) -> tuple[list[s.MovieSummary], int]:
        """One page of the catalogue, filtered and sorted in SQL."""
        if query.genre is not None and self.catalogue.canonical_genre(query.genre) not in self.catalogue.genre_names:
            return [], 0  # a MovieLens genre this data set does not have
        with self.db.session() as session:
            page = repo.browse_movies(
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
            view = UserView.read(session, user_id)
        return [self.catalogue.movies[m] for m in view.keep(ids, k)]

    def get(self, movie_id: int) -> s.MovieDetail:
        """Details with live rating figures (404 for an unknown id)."""
        with self.db.session() as session:
            detail = repo.get_movie(session, movie_id)
        return s.MovieDetail.model_validate(detail, from_attributes=True)

    def similar(self, movie_id: int, k: int, kind: str, user_id: int | None = None) -> tuple[bytes, bool]:
        """Collaborative and/or content neighbours, cached per (movie, k, kind); for a user (cached per feedback
        version), none of the films they touched."""
        if movie_id not in self.catalogue.movies:
            raise ResourceNotFoundError(f"movie {movie_id} is not in the catalogue")
        view: UserView | None = None
        who = ""
        if user_id is not None:
            with self.db.session() as session:
                view = UserView.read(session, user_id)
            who = f":{user_id}:{self.db.feedback_version(user_id)}"
        key = f"similar:{self.models.versions.get('two_tower')}:{self.search.version}:{movie_id}:{k}:{kind}{who}"
        cached = self.cache.get(key)
        count_cache("similar", cached is not None)
        if cached is not None:
            return cached, True
        # Asked for enough neighbours that k remain after the user's films are dropped.
        want = k + (len(view.excluded) if view is not None else 0)
        collaborative: list[s.ScoredMovie] = []
        content: list[s.ScoredMovie] = []
        if kind in ("both", "collaborative"):
            collaborative = self._for_user(view, self._collaborative(movie_id, want), k)
        if kind in ("both", "content"):
            content = self._for_user(view, self.search.similar(movie_id, want), k)
        body = to_json_bytes(s.SimilarMovies(movie_id=movie_id, collaborative=collaborative, content=content))
        self.cache.set(key, body)
        return body, False

    @staticmethod
    def _for_user(view: UserView | None, items: list[s.ScoredMovie], k: int) -> list[s.ScoredMovie]:
        """The first k items the user never touched, ranked again from 1."""
        if view is None:
            return items[:k]
        by_id = {i.movie.movie_id: i for i in items}
        kept = view.keep((i.movie.movie_id for i in items), k)
        return [by_id[m].model_copy(update={"rank": rank}) for rank, m in enumerate(kept, start=1)]

    def neighbours(self, movie_id: int, k: int) -> tuple[str, list[Recommendation]]:
        """Films like this one and the model that found them: Two-Tower, else the text embeddings ("content")."""
        if "two_tower" in self.models.models:
            return "two_tower", [
                Recommendation(i.movie.movie_id, i.score, i.reason) for i in self._collaborative(movie_id, k)
            ]
        if self.search.content_vectors is not None:
            return "content", [
                Recommendation(i.movie.movie_id, i.score, i.reason) for i in self.search.similar(movie_id, k)
            ]
        return "popular", [Recommendation(m, 0.0, None) for m in self.catalogue.by_popularity[:k]]

    def _collaborative(self, movie_id: int, k: int) -> list[s.ScoredMovie]:
        model = self.models.get("two_tower")
        similar_items = getattr(model, "similar_items", None)
        if similar_items is None:
            raise ServiceUnavailableError(
                "the loaded two_tower model cannot answer similar items", code="model_unavailable"
            )
        with time_inference("two_tower", "similar_items"):
            recs = similar_items(movie_id, k)
        reason = "Liked by the same viewers"
        return self.catalogue.scored([r if r.reason else dataclasses.replace(r, reason=reason) for r in recs])

    def genres(self) -> list[s.GenreCount]:
        """Genres with their film counts, most common first."""
        return self.catalogue.genres


def _summary(movie: repo.MovieSummary) -> s.MovieSummary:
    return s.MovieSummary.model_validate(movie, from_attributes=True)


class UserService:
    """The user list, profiles and cold-start creation."""

    RECENT = 20

    def __init__(self, db: Database, catalogue: Catalogue, recommendations: RecommendationService) -> None:
        self.db, self.catalogue, self.recommendations = db, catalogue, recommendations

    def list_users(self, q: str | None, page: int, page_size: int) -> tuple[list[s.UserSummary], int]:
        """A page of users with their stats."""
        with self.db.session() as session:
            result = repo.list_users(session, page=page, per_page=page_size, query=q)
        return [self._summary(u) for u in result.items], result.total

    def _summary(self, user: repo.UserSummary) -> s.UserSummary:
        """A user as the picker shows them: distinctive taste, favourite films, activity."""
        return s.UserSummary(
            user_id=user.user_id,
            display_name=user.display_name,
            source=user.source,
            rating_count=user.n_ratings,
            top_genres=list(user.top_genres),
            **self._profile(user.profile),
        )

    def _profile(self, profile: repo.TasteProfile) -> dict[str, Any]:
        favourites = [self.catalogue.movies[m] for m in profile.favourite_ids if m in self.catalogue.movies]
        return {
            "taste": [s.Trait(kind=t.kind, name=t.name, count=t.count, lift=t.lift) for t in profile.taste],
            "favourites": favourites,
            "first_rated_at": profile.first_rated_at,
            "last_rated_at": profile.last_rated_at,
        }

    def ratings(self, user_id: int, page: int, page_size: int) -> tuple[list[s.UserRating], int]:
        """A page of every film the user rated, newest first (404 for an unknown id)."""
        with self.db.session() as session:
            result = repo.user_ratings(session, user_id, page=page, per_page=page_size)
        items = [
            s.UserRating(movie=self.catalogue.movies[r.movie_id], rating=r.value or 0.0, at=r.at, source=r.source)
            for r in result.items
            if r.movie_id in self.catalogue.movies
        ]
        return items, result.total

    def similar(self, user_id: int, k: int) -> s.SimilarUsers:
        """People with similar taste: the Two-Tower model's nearest user vectors to this user's history, else (not
        loaded) the users sharing most of their distinctive genres and tags, saying so."""
        model = self.recommendations.models.models.get("two_tower")
        with self.db.session() as session:
            history = repo.user_history(session, user_id)
            if isinstance(model, TwoTower) and model.user_table is not None and history.movie_ids:
                with time_inference("two_tower", "similar_users"):
                    found = model.similar_users(history.movie_ids, k + 1)
                scored = [(u.user_id, u.score) for u in found if u.user_id != user_id][:k]
                name: Literal["two_tower", "taste"] = "two_tower"
                note = None
            else:
                scored = repo.taste_neighbours(session, user_id, k)
                name = "taste"
                why = "it is not loaded" if model is None else "it has no vectors for this user's history"
                note = f"Two-Tower could not answer ({why}): people who share this user's distinctive genres and tags"
            users = repo.users_by_id(session, [u for u, _ in scored])
        items = [
            s.SimilarUser(score=round(score, 4), user=self._summary(users[u])) for u, score in scored if u in users
        ]
        return s.SimilarUsers(user_id=user_id, model=name, note=note, items=items)

    def get(self, user_id: int) -> s.UserDetail:
        """A user's profile (404 for an unknown id)."""
        with self.db.session() as session:
            return self._detail(repo.get_user(session, user_id, recent=self.RECENT))

    def create(self, liked_movie_ids: list[int], display_name: str | None, secret_hash: str) -> s.NewUser:
        """Create the user with their likes stored as feedback, then recommend from those likes at once. The answer's
        `secret` is left empty: the route hands the secret over (api/ownership.py), the database keeps its hash."""
        unknown = [m for m in liked_movie_ids if m not in self.catalogue.movies]
        if unknown:
            raise ResourceNotFoundError(f"movie ids not in the catalogue: {unknown[:10]}")
        # Chosen before the user is written, so a missing model never leaves a user without an answer.
        model = self.recommendations.models.first_loaded(COLD_START_MODELS)
        with self.db.session() as session:
            detail = repo.create_user(session, display_name or NEW_USER_NAME, liked_movie_ids, secret_hash=secret_hash)
        recs = self.recommendations.for_history(model, liked_movie_ids, s.DEFAULT_K, detail.user_id)
        return s.NewUser(user=self._detail(detail), recommendations=recs, secret="")

    def _detail(self, user: repo.UserDetail) -> s.UserDetail:
        genre_counts: dict[str, int] = {}
        recent = []
        for item in user.recent:
            movie = self.catalogue.movies.get(item.movie_id)
            if movie is None:
                continue
            recent.append(s.HistoryItem(movie=movie, kind=item.kind, value=item.value, at=item.at, source=item.source))
            for genre in movie.genres:
                genre_counts[genre] = genre_counts.get(genre, 0) + 1
        return s.UserDetail(
            user_id=user.user_id,
            display_name=user.display_name,
            source=user.source,
            rating_count=user.n_ratings,
            top_genres=list(user.top_genres),
            age=user.age,
            gender=user.gender,
            occupation=user.occupation,
            created_at=user.created_at,
            **self._profile(user.profile),
            like_count=user.n_likes,
            dislike_count=user.n_dislikes,
            watched_count=user.n_watched,
            recent_genres=[
                s.GenreCount(genre=g, count=n) for g, n in sorted(genre_counts.items(), key=lambda x: (-x[1], x[0]))
            ],
            recent=recent,
        )


class FeedbackService:
    """Store feedback (which changes the user's feedback version) and list it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, user_id: int, movie_id: int, kind: str, value: float | None) -> tuple[s.Feedback, bool]:
        """Validate and store one mark (the same mark twice is stored once); whether it was new."""
        with self.db.session() as session:
            event = repo.add_feedback(session, user_id, movie_id, kind, value)
        if event.created:
            FEEDBACK_EVENTS.labels(kind=kind).inc()
        return s.Feedback.model_validate(event, from_attributes=True), event.created

    def remove(self, user_id: int, movie_id: int, kind: str) -> s.RemovedFeedback:
        """Take a mark back (un-like, un-watch, interested again, clear a rating)."""
        with self.db.session() as session:
            removed = repo.remove_feedback(session, user_id, movie_id, kind)
        return s.RemovedFeedback(user_id=user_id, movie_id=movie_id, kind=kind, removed=removed)

    def mark(self, user_id: int, movie_id: int) -> s.MovieMark:
        """What the user did with one film, from their whole history (their data set rating included)."""
        with self.db.session() as session:
            mark = repo.movie_mark(session, user_id, movie_id)
        return s.MovieMark.model_validate(mark, from_attributes=True)

    def list_events(self, user_id: int, limit: int) -> list[s.Feedback]:
        """The user's newest events first."""
        with self.db.session() as session:
            events = repo.list_feedback(session, user_id, limit=limit)
        return [s.Feedback.model_validate(e, from_attributes=True) for e in events]


class SearchService:
    """The loaded search engine (search, suggestions) and the text embeddings (content neighbours)."""

    def __init__(
        self,
        layout: Layout,
        catalogue: Catalogue,
        cache: Cache,
        db: Database,
        models: LoadedModels,
        config: ServingConfig,
    ) -> None:
        self.catalogue, self.cache, self.db, self.models, self.config = catalogue, cache, db, models, config
        self.engine: SearchEngine | None = None
        self.error: str | None = None
        try:
            self.engine = SearchEngine.load(layout.index_dir)
        except Exception as exc:  # a truncated or corrupt file of any kind is reported, never fatal
            self.error = str(exc) if isinstance(exc, MovieGenieError) else _unreadable(layout.index_dir, exc, "index")
            log.error("search index not loaded from %s: %s", layout.index_dir, exc)
        # Content neighbours: L2-normalised sentence vectors, float32 [n, 384], rows aligned with `_content_ids`.
        self._content_ids: np.ndarray | None = None
        self._content_vectors: np.ndarray | None = None
        self._content_row: dict[int, int] = {}
        try:
            emb = read_embeddings(layout.embeddings_dir / EMBEDDINGS_FILE)
            self._content_ids, self._content_vectors = emb.movie_id, emb.embedding
            self._content_row = {int(m): i for i, m in enumerate(emb.movie_id)}
        except Exception as exc:  # missing, truncated or corrupt: reported, never fatal
            path = layout.embeddings_dir / EMBEDDINGS_FILE
            known = isinstance(exc, MovieGenieError | FileNotFoundError)
            self.error = self.error or (str(exc) if known else _unreadable(path, exc, "embed"))
            log.error("text embeddings not loaded from %s: %s", layout.embeddings_dir, exc)

    @property
    def version(self) -> str:
        """When the index was built (part of cache keys, so a rebuilt index never serves old answers)."""
        return str(self.engine.manifest.get("built_at")) if self.engine is not None else "none"

    @property
    def content_vectors(self) -> np.ndarray | None:
        """Unit-norm text embeddings float32 [n, 384] (None when not built)."""
        return self._content_vectors

    @property
    def content_rows(self) -> dict[int, int]:
        """Movie id -> row of `content_vectors`."""
        return self._content_row

    @property
    def ready(self) -> bool:
        """Whether search and content neighbours can answer."""
        return self.engine is not None and self._content_vectors is not None

    def _engine(self) -> SearchEngine:
        if self.engine is None:
            raise ServiceUnavailableError(f"search is not available: {self.error}", code="search_unavailable")
        return self.engine

    def search(self, query: s.SearchQuery) -> tuple[bytes, bool]:
        """Ranked hits, cached per query and filters (and, when personalised, the user's feedback version)."""
        engine = self._engine()
        if query.genre is not None and query.genre.lower() not in {g.lower() for g in engine.genres}:
            # A MovieLens genre (the spec's enum) this data set does not have: no films, not an error.
            empty = s.SearchResults(query=" ".join(query.q.split()), mode=query.mode, personalized=False, items=[])
            return to_json_bytes(empty), False
        version = self.db.feedback_version(query.user_id) if query.user_id is not None else None
        text = " ".join(query.q.split())
        key_parts = [text, query.mode, query.k, query.genre, query.year_min, query.year_max, query.min_ratings]
        key_parts += [query.user_id, version, self.version, self.models.versions.get("two_tower")]
        key = "search:" + hashlib.sha1(json.dumps(key_parts).encode()).hexdigest()
        cached = self.cache.get(key)
        count_cache("search", cached is not None)
        if cached is not None:
            return cached, True
        filters = SearchFilters(
            genres=(query.genre,) if query.genre else (),
            year_min=query.year_min,
            year_max=query.year_max,
            min_ratings=query.min_ratings,
        )
        personal = self._affinity(query.user_id) if query.user_id is not None else None
        with time_inference("search", query.mode):
            result = engine.search(text, mode=query.mode, k=query.k, filters=filters, personal_scores=personal)
        hits: list[s.SearchHit] = []
        for hit in result.hits:
            movie = self.catalogue.movies.get(hit.movie_id)
            if movie is not None:
                hits.append(
                    s.SearchHit(rank=len(hits) + 1, score=hit.score, movie=movie, matched_by=list(hit.matched_by))
                )
        data = s.SearchResults(
            query=result.query,
            mode=result.mode,
            personalized=result.personalised,
            items=hits,
            did_you_mean=result.did_you_mean,
        )
        body = to_json_bytes(data)
        self.cache.set(key, body)
        return body, False

    def _affinity(self, user_id: int) -> Callable[[Sequence[int]], dict[int, float]] | None:
        """The user's Two-Tower scores for candidate movies (None without the model or a history)."""
        with self.db.session() as session:
            history = repo.user_history(session, user_id)
        model = self.models.models.get("two_tower")
        id_map = getattr(model, "id_map", None)
        if model is None or id_map is None or not history.movie_ids:
            return None
        indices = id_map.items_to_indices(history.movie_ids[-self.config.history_limit :])
        if not indices:
            return None
        with time_inference("two_tower", "score"):
            scores = np.asarray(model.score_batch([indices]))[0]  # (n_items,)

        def affinity(movie_ids: Sequence[int]) -> dict[int, float]:
            found = ((m, id_map.item_index(m)) for m in movie_ids)
            return {int(m): float(scores[i]) for m, i in found if i is not None}

        return affinity

    def suggest(self, q: str, k: int) -> list[s.Suggestion]:
        """Title completions for the search box."""
        engine = self._engine()
        with time_inference("search", "suggest"):
            found = engine.suggest(q, k)
        return [s.Suggestion(movie_id=x.movie_id, title=x.title, year=x.year, score=x.score) for x in found]

    def similar(self, movie_id: int, k: int) -> list[s.ScoredMovie]:
        """Films whose description embedding is closest (cosine) to this one's."""
        if self._content_vectors is None or self._content_ids is None:
            raise ServiceUnavailableError(
                f"content similarity is not available: {self.error}", code="search_unavailable"
            )
        row = self._content_row.get(movie_id)
        if row is None:
            return []
        with time_inference("content", "similar_items"):
            sims = self._content_vectors @ self._content_vectors[row]  # (n,) cosine: rows are L2-normalised
            sims[row] = -np.inf
            top = np.argpartition(-sims, min(k, len(sims) - 1))[: k + 1]
            top = top[np.lexsort((top, -sims[top]))][:k]
        recs = [Recommendation(int(self._content_ids[i]), float(sims[i]), "Similar story and themes") for i in top]
        return self.catalogue.scored([r for r in recs if np.isfinite(r.score)])


# --- container -------------------------------------------------------------------------------------------------


@dataclass
class Services:
    """Everything the routes use, loaded once per process."""

    config: ServingConfig
    layout: Layout
    db: Database
    cache: Cache
    catalogue: Catalogue
    models: LoadedModels
    recommendations: RecommendationService
    movies: MovieService
    users: UserService
    feedback: FeedbackService
    search: SearchService
    home: HomeService
    report: dict[str, Any] | None
    catalogue_info: s.CatalogueInfo
    started_at: float = field(default_factory=time.time)

    @classmethod
    def load(cls, settings: Settings, params: Params, layout: Layout, config: ServingConfig) -> Services:
        """Connect to the database (which must be migrated), load the catalogue, models, index and report."""
        db = Database(settings, params)
        ensure_schema_current(db.engine)
        # Entries are namespaced by database, so two deployments sharing one Redis never see each other's answers.
        namespace = hashlib.sha1(settings.database_url.encode()).hexdigest()[:8]
        cache = make_cache(settings.redis_url, config.cache_ttl_s, config.cache_max_entries, namespace)
        catalogue = Catalogue.load(db)
        models = LoadedModels.load(layout.models_dir)
        search = SearchService(layout, catalogue, cache, db, models, config)
        explainer = Explainer(catalogue, models, search)
        recommendations = RecommendationService(db, catalogue, models, cache, config, explainer)
        movies = MovieService(db, catalogue, models, search, cache)
        return cls(
            config=config,
            layout=layout,
            db=db,
            cache=cache,
            catalogue=catalogue,
            models=models,
            recommendations=recommendations,
            movies=movies,
            users=UserService(db, catalogue, recommendations),
            feedback=FeedbackService(db),
            search=search,
            home=HomeService(db, catalogue, models, recommendations, movies, cache),
            report=_read_report(layout.report_dir / "report.json"),
            catalogue_info=count_catalogue_metadata(db),
        )

    def health(self) -> s.Health:
        """Each dependency's state; "degraded" when any is down."""
        checks: dict[str, s.Check] = {}
        try:
            # The database itself, not the catalogue in memory: a query on the movies table.
            with self.db.session() as session:
                n_movies = int(session.execute(select(func.count()).select_from(Movie)).scalar_one())
            detail = f"{n_movies} movies" if n_movies else f"0 movies: the catalogue is empty; {EMPTY_CATALOGUE_HELP}"
            checks["database"] = s.Check(ok=n_movies > 0, detail=detail)
        except Exception as exc:  # unreachable, locked, file gone, tables missing: all mean "not ready"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            checks["database"] = s.Check(ok=False, detail=reason)
        for api_name, name in API_MODELS.items():
            loaded = name in self.models.models
            detail = f"version {self.models.versions[name]}" if loaded else self.models.errors.get(name, "not loaded")
            checks[f"model:{api_name}"] = s.Check(ok=loaded, detail=detail)
        checks["search_index"] = s.Check(ok=self.search.ready, detail=self.search.error or "loaded")
        checks["cache"] = s.Check(ok=self.cache.ping(), detail=self.cache.name)
        healthy = all(c.ok for c in checks.values())
        return s.Health(status="ok" if healthy else "degraded", checks=checks)

    def models_info(self) -> s.ModelsInfo:
        """Every model's version and its metrics from the evaluation report."""
        infos = []
        for api_name, name in API_MODELS.items():
            infos.append(
                s.ModelInfo(
                    name=name,
                    api_name=api_name,
                    version=self.models.versions.get(name),
                    loaded=name in self.models.models,
                    metrics=_report_metrics(self.report, name),
                )
            )
        return s.ModelsInfo(models=infos, report=self.report)


def count_catalogue_metadata(db: Database) -> s.CatalogueInfo:
    """Count the films with a plot summary and a poster, once at start (what the database serves, whatever
    dataset.json says; `db load` changes it only together with a restart)."""
    with db.session() as session:
        movies, overviews, posters = session.execute(
            select(func.count(), func.count(Movie.overview), func.count(Movie.poster_path))
        ).one()
    return s.CatalogueInfo(movies=int(movies), with_overview=int(overviews), with_poster=int(posters))


def _read_report(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        log.warning("no evaluation report at %s: run `movie-genie evaluate`", path)
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        log.error("evaluation report %s is unreadable: %s", path, exc)
        return None
    return report if isinstance(report, dict) else None


def _report_metrics(report: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The model's entry of the report (shape owned by the evaluation package)."""
    if not report:
        return {}
    models = report.get("models")
    if isinstance(models, dict) and isinstance(models.get(name), dict):
        return dict(models[name])
    if isinstance(models, list):
        for entry in models:
            if isinstance(entry, dict) and entry.get("name") == name:
                return dict(entry)
    return {}
