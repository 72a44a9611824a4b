"""Search: the loaded search engine (ranked hits, personalised by the user's Two-Tower affinities; title
suggestions) and the text embeddings (content neighbours of a film)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence

import numpy as np

from movie_genie.api import schemas as s
from movie_genie.api.cache import Cache
from movie_genie.api.config import ServingConfig
from movie_genie.api.envelope import to_json_bytes
from movie_genie.api.errors import ServiceUnavailableError
from movie_genie.api.metrics import count_cache, time_inference
from movie_genie.api.services.artefacts import unreadable
from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.database import Database
from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.api.services.served import Served, shown
from movie_genie.config import Layout
from movie_genie.db.feedback import user_history
from movie_genie.errors import MovieGenieError
from movie_genie.models import reasons
from movie_genie.models.base import Recommendation
from movie_genie.models.catalogue import CATALOGUE, CONTENT
from movie_genie.search.build import MANIFEST_FILE
from movie_genie.search.embeddings import EMBEDDINGS_FILE, read_embeddings
from movie_genie.search.engine import SearchEngine, SearchFilters

log = logging.getLogger(__name__)


# The one list of a search answer, as the impression log names it.
SEARCH_LIST = "search"
# The parts of the search index that may fail alone, in words.
INDEX_PARTS = {"semantic": "semantic retriever (vectors and query encoder)", "collab": "who-rated-what vectors"}
# Whose scores say how close a film is to a person's taste when search is personalised: the model that maps people
# and films together (Two-Tower).
TASTE_MODEL = CATALOGUE.able("similar_users")[0]


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
        self.error: str | None = None  # why search or content neighbours cannot answer, in plain words
        self.content_error: str | None = None  # why content neighbours cannot answer
        try:
            self.engine = SearchEngine.load(layout.index_dir)
        except Exception as exc:  # a truncated or corrupt file of any kind is reported, never fatal
            # In plain words: the folder and the error go to the log, never into a response.
            if isinstance(exc, MovieGenieError | FileNotFoundError) and not (layout.index_dir / MANIFEST_FILE).exists():
                self.error = "no search index: run `movie-genie embed` and `movie-genie index`"
            else:  # built by another version, truncated, corrupt
                self.error = unreadable("the search index", "index", exc)
            log.error("search index not loaded from %s: %s", layout.index_dir, exc)
        # Parts of the index left out (damaged or unreadable) in plain words; the other retrievers serve.
        self.missing_parts: dict[str, str] = {}
        for part, error in (self.engine.unavailable if self.engine is not None else {}).items():
            self.missing_parts[part] = unreadable(f"the {INDEX_PARTS[part]}", "index", error)
            log.error("search index %s: %s not loaded, the other retrievers serve: %s", layout.index_dir, part, error)
        # Content neighbours: L2-normalised sentence vectors, float32 [n, 384], rows aligned with `_content_ids`.
        self._content_ids: np.ndarray | None = None
        self._content_vectors: np.ndarray | None = None
        self._content_row: dict[int, int] = {}
        try:
            emb = read_embeddings(layout.embeddings_dir / EMBEDDINGS_FILE)
            self._content_ids, self._content_vectors = emb.movie_id, emb.embedding
            self._content_row = {int(m): i for i, m in enumerate(emb.movie_id)}
        except Exception as exc:  # missing, truncated or corrupt: reported, never fatal
            if isinstance(exc, FileNotFoundError):
                why = "no text embeddings: run `movie-genie embed`"
            else:
                why = unreadable("the text embeddings", "embed", exc)
            self.content_error = why
            self.error = self.error or why
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

    def search(self, query: s.SearchQuery) -> Served:
        """Ranked hits, cached per query and filters (and, when personalised, the user's feedback version)."""
        engine = self._engine()
        if query.mode == "semantic" and not engine.semantic:
            raise ServiceUnavailableError(
                f"search by meaning is not available ({self.missing_parts.get('semantic', 'not loaded')}); "
                "the other search modes answer",
                code="search_unavailable",
            )
        if query.genre is not None and query.genre.lower() not in {g.lower() for g in engine.genres}:
            # A MovieLens genre (the spec's enum) this data set does not have: no films, not an error.
            empty = s.SearchResults(query=" ".join(query.q.split()), mode=query.mode, personalized=False, items=[])
            return Served(to_json_bytes(empty), {SEARCH_LIST: shown(None, [])})
        version = self.db.feedback_version(query.user_id) if query.user_id is not None else None
        text = " ".join(query.q.split())
        key_parts = [text, query.mode, query.k, query.genre, query.year_min, query.year_max, query.min_ratings]
        key_parts += [query.user_id, version, self.version, self.models.versions.get(TASTE_MODEL), sorted(query.ignore)]
        key = "search:" + hashlib.sha1(json.dumps(key_parts).encode()).hexdigest()
        cached = self.cache.get(key)
        count_cache("search", cached is not None)
        if cached is not None:
            return Served.from_cache(cached)
        filters = SearchFilters(
            genres=(query.genre,) if query.genre else (),
            year_min=query.year_min,
            year_max=query.year_max,
            min_ratings=query.min_ratings,
        )
        personal = self._affinity(query.user_id) if query.user_id is not None else None
        with time_inference("search", query.mode):
            result = engine.search(
                text, mode=query.mode, k=query.k, filters=filters, personal_scores=personal, ignore=query.ignore
            )
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
            no_close_match=result.no_close_match,
            understood=[
                s.Understood(kind=u.kind, value=u.value, words=u.words, source=u.source, key=u.key)
                for u in result.understood
            ],
            people_need_details=result.people_need_details,
        )
        served = Served(to_json_bytes(data), {SEARCH_LIST: shown(None, (hit.movie.movie_id for hit in hits))})
        self.cache.set(key, served.to_cache())
        return served

    def _affinity(self, user_id: int) -> Callable[[Sequence[int]], dict[int, float]] | None:
        """The user's Two-Tower scores for candidate movies (None without the model or a history)."""
        with self.db.session() as session:
            history = user_history(session, user_id)
        model = self.models.models.get(TASTE_MODEL)
        id_map = model.id_map if model is not None else None
        if model is None or id_map is None or not history.movie_ids:
            return None
        indices = id_map.items_to_indices(history.movie_ids[-self.config.history_limit :])
        if not indices:
            return None
        with time_inference(TASTE_MODEL, "score"):
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
        return [s.Suggestion.model_validate(x, from_attributes=True) for x in found]

    def similar(self, movie_id: int, k: int) -> list[s.ScoredMovie]:
        """Films whose description embedding is closest (cosine) to this one's, as ranked cards."""
        return self.catalogue.scored(self.similar_recs(movie_id, k))

    def similar_recs(self, movie_id: int, k: int) -> list[Recommendation]:
        """Films whose description embedding is closest (cosine) to this one's."""
        if self._content_vectors is None or self._content_ids is None:
            raise ServiceUnavailableError(
                f"content similarity is not available: {self.content_error}", code="search_unavailable"
            )
        row = self._content_row.get(movie_id)
        if row is None:
            return []
        with time_inference(CONTENT.name, "similar_items"):
            sims = self._content_vectors @ self._content_vectors[row]  # (n,) cosine: rows are L2-normalised
            sims[row] = -np.inf
            top = np.argpartition(-sims, min(k, len(sims) - 1))[: k + 1]
            top = top[np.lexsort((top, -sims[top]))][:k]
        reason = reasons.similar_story()
        recs = [Recommendation(int(self._content_ids[i]), float(sims[i]), reason) for i in top]
        return [r for r in recs if np.isfinite(r.score)]
