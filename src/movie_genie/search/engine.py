"""SearchEngine: what the API holds. Loads artifacts/index once, then answers searches and suggestions in
milliseconds without torch.

Modes:
- "semantic": cosine between the query's MiniLM vector and each movie document's vector (FAISS);
- "lexical":  BM25 over the same documents, title boosted;
- "title":    typo-tolerant title match (rapidfuzz) plus titles that start with the query;
- "hybrid":   each retriever's evidence scaled to 0-1 for this query, fused as a weighted mean; a description (not a
              title query) is then expanded: the query's vector moved towards the best hits' documents is searched
              again and joins the mean (pseudo-relevance feedback, `expansion` in params.yaml).
Every mode answers the query first: results stop where relevance stops (below `min_relevance` x the best hit's
relevance), so a title query returns its films and franchise, not a page padded with strangers. Among relevant
hits, a popularity x quality prior (`prior_weight`) puts well-known answers first. A query word found in no title
and no document is corrected to the closest title word when that makes a title match ("did you mean").
Nothing close: a query that no title matches, most of whose words occur in no document and whose best document is
semantically far (`close_min_known_share`, `close_min_similarity`) returns no hits and `no_close_match=True`
("asdfghjkl" used to return a page of unrelated films).
An empty query with filters browses: the filtered films by the prior.
Query understanding (hybrid mode, understanding.py): the people, genres and decades a query names filter the films
and leave the retrievers' text ("tom hanks comedies" lists his comedies); moods and themes lift; `ignore` reads a
reading's words as plain words again; every result says how its query was read (`understood`).
Personalisation: the caller passes affinities for candidate movies (the API uses the Two-Tower model; search
never imports models). They re-order the k hits the query gives without them (never add or swap one in), and the
result says `personalised=True` only when that changed their order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from functools import partial
from pathlib import Path
from typing import Literal, cast

import faiss
import numpy as np
import pandas as pd

from movie_genie.files import verify_digest, verify_digests
from movie_genie.search.build import (
    BM25_DIR,
    CATALOGUE_FILE,
    COLLAB_FILE,
    INDEX_VERSION,
    MANIFEST_FILE,
)
from movie_genie.search.config import SearchConfig
from movie_genie.search.encoder import OnnxEncoder
from movie_genie.search.errors import IndexMissingError, SearchInputError
from movie_genie.search.fields import CatalogueFields
from movie_genie.search.lexical import LexicalIndex
from movie_genie.search.loading import load_collab, load_semantic, optional
from movie_genie.search.results import Funnel, PersonalScores, SearchFilters, SearchHit, SearchResult, Suggestion
from movie_genie.search.scoring import both_masks, prior, relative, top_rows
from movie_genie.search.titles import TitleMatcher, normalise
from movie_genie.search.understanding import QueryReader, Understanding
from movie_genie.search.vector import vector_search

Mode = Literal["hybrid", "semantic", "lexical", "title"]
MODES: tuple[str, ...] = ("hybrid", "semantic", "lexical", "title")


class SearchEngine:
    """Every search artefact in memory; thread-safe for concurrent reads."""

    def __init__(
        self,
        catalogue: pd.DataFrame,
        vectors: object | None,
        lexical: LexicalIndex,
        encoder: OnnxEncoder | None,
        config: SearchConfig,
        manifest: dict[str, object],
        collab: np.ndarray | None = None,
        unavailable: Mapping[str, Exception] | None = None,
    ) -> None:
        self.config = config
        # Parts whose files failed to load ("semantic", "collab" -> the error, naming paths: for the log only).
        self.unavailable = dict(unavailable or {})
        self._collab = collab  # [n, d] unit-norm who-rated-what vectors (zero rows: unrated), or None
        self.manifest = manifest
        self._vectors = vectors
        self._lexical = lexical
        self._encoder = encoder
        self._movie_ids = catalogue["movie_id"].to_numpy(dtype=np.int64)  # [n] row -> movie id
        self._row_of = {int(m): i for i, m in enumerate(self._movie_ids)}
        self._titles = catalogue["title"].astype(str).tolist()
        self._years = catalogue["year"].astype("Int64").to_numpy(dtype=np.int64, na_value=-1)  # [n], -1 unknown
        self._genres = [tuple(str(g) for g in gs) for gs in catalogue["genres"]]
        self._rating_counts = catalogue["rating_count"].to_numpy(dtype=np.int64)  # [n]
        self._prior = prior(catalogue, config.ranking.prior_damping)  # [n] 0-1, popularity x quality
        known: dict[str, str] = {}
        for gs in self._genres:
            for g in gs:
                known.setdefault(g.lower(), g)
        self._genre_names = known  # lower-case -> display name
        self._genre_masks = {
            low: np.fromiter((name in gs for gs in self._genres), dtype=bool, count=len(self._genres))
            for low, name in known.items()
        }
        self._matcher = TitleMatcher(self._titles, self._rating_counts)
        self._fields = CatalogueFields(catalogue, config.lexical.stemmer)
        self._reader = QueryReader(
            self._fields,
            sorted(known.values()),
            self._matcher.has_word,
            lambda phrase: bool(self._matcher.containing(phrase).any()),
        )

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, index_dir: Path | str, config: SearchConfig | None = None) -> SearchEngine:
        """Open an index folder written by `movie-genie index`; `config` overrides the one stored in it.

        Every file is checked against the digest recorded when it was written (files.verify_digest). A damaged
        manifest, catalogue or BM25 index refuses the index; damaged semantic vectors or encoder leave the lexical
        and title retrievers serving, damaged who-rated-what vectors drop only that signal (`unavailable` says why).
        """
        index_dir = Path(index_dir)
        manifest_path = index_dir / MANIFEST_FILE
        if not manifest_path.exists():
            raise IndexMissingError(f"no search index in {index_dir}: run `movie-genie embed` and `movie-genie index`")
        verify_digest(manifest_path)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("version") != INDEX_VERSION:
            raise IndexMissingError(
                f"{index_dir} was built by another version ({manifest.get('version')}): run `movie-genie index`"
            )
        config = config or SearchConfig.from_dict(manifest["config"])
        # One query is too small to split across cores; OpenMP workers spinning beside other processes (web
        # workers, training) cost more than they give. Process-wide setting, like torch.set_num_threads.
        faiss.omp_set_num_threads(config.onnx.threads)
        verify_digest(index_dir / CATALOGUE_FILE)
        verify_digests(index_dir / BM25_DIR)
        unavailable: dict[str, Exception] = {}
        semantic = optional("semantic", unavailable, lambda: load_semantic(index_dir, config))
        collab = optional("collab", unavailable, lambda: load_collab(index_dir / COLLAB_FILE))
        return cls(
            catalogue=pd.read_parquet(index_dir / CATALOGUE_FILE),
            vectors=semantic[0] if semantic else None,
            lexical=LexicalIndex.load(index_dir / BM25_DIR),
            encoder=semantic[1] if semantic else None,
            config=config,
            manifest=manifest,
            collab=collab,
            unavailable=unavailable,
        )

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        return len(self._movie_ids)

    @property
    def genres(self) -> list[str]:
        """Genres a filter may name, sorted."""
        return sorted(self._genre_names.values())

    @property
    def encoder(self) -> OnnxEncoder:
        """The query encoder (exposed for benchmarks and cache statistics)."""
        return self._semantic()[1]

    @property
    def semantic(self) -> bool:
        """Whether the semantic retriever (vectors and query encoder) loaded."""
        return self._vectors is not None and self._encoder is not None

    def _semantic(self) -> tuple[object, OnnxEncoder]:
        if self._vectors is None or self._encoder is None:
            why = self.unavailable.get("semantic") or "not loaded"
            raise IndexMissingError(f"semantic search is not available ({why}): run `movie-genie index`")
        return self._vectors, self._encoder

    def search(
        self,
        query: str,
        mode: str = "hybrid",
        k: int = 20,
        filters: SearchFilters | None = None,
        personal_scores: PersonalScores | None = None,
        ignore: Collection[str] = (),
    ) -> SearchResult:
        """Rank movies for a query (or, with an empty query and filters, browse); raise SearchInputError if invalid.

        `ignore` holds the keys of readings ("person:Tom Hanks") to read as plain words instead (a removed chip)."""
        start = time.perf_counter()
        filters = filters or SearchFilters()
        browse = isinstance(query, str) and not query.strip() and filters.active
        text = " ".join(query.split()) if browse else self._check_query(query)
        self._check_mode(mode)
        max_k = self.config.ranking.max_k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= max_k:
            raise SearchInputError(f"k must be an integer from 1 to {max_k}, got {k!r}")
        allowed = self._mask(filters)
        if allowed is not None and not allowed.any():
            return SearchResult(text, mode, [], False, _ms(start), filters)

        understood = Understanding() if browse else self.understand(text, mode, ignore)
        # A name is not a misspelt title ("tom hanx" is Tom Hanks, not a title word): no "did you mean" for it.
        corrected = None if browse or understood.of("person") else self._correction(text)
        understood_mask = None if corrected else self._understood_mask(understood)
        if understood_mask is not None and not understood_mask.any():
            # Its readings leave no film ("tom cruise" with no cast data): say how it was read, skip the retrievers.
            return SearchResult(
                text, mode, [], False, _ms(start), filters, understood=understood.items,
                people_need_details=understood.people_need_details,
            )  # fmt: skip
        if not browse and not self._close(text, corrected):
            # No retriever has real evidence: an empty answer that says so, never a page of strangers.
            return SearchResult(text, mode, [], False, _ms(start), filters, no_close_match=True)
        understood = Understanding() if corrected else understood
        allowed = both_masks(allowed, understood_mask)
        answer = partial(
            SearchResult, query=text, mode=mode, filters=filters, understood=understood.items,
            people_need_details=understood.people_need_details,
        )  # fmt: skip
        if allowed is not None and not allowed.any():
            return answer(hits=[], personalised=False, took_ms=_ms(start))
        query_words = understood.rest if understood.items else text
        if browse or not self._lexical.tokens(query_words):
            # No words left to search (an empty query, or "tom hanks comedies" read whole): the allowed films,
            # best known first (the prior is the whole score).
            rows = np.flatnonzero(allowed) if allowed is not None else np.arange(len(self))
            rows = rows[np.lexsort((rows, -self._prior[rows]))][: self.config.ranking.candidates]
            evidence: dict[str, dict[int, float]] = {}
            relevance = {int(r): float(self._prior[r]) for r in rows}
            browse = True
        else:
            evidence, relevance = self._evidence_and_relevance(
                corrected or query_words, cast(Mode, mode), allowed, understood
            )
        scores = relevance if browse else self._with_prior(relevance)
        rows_ranked = sorted(scores, key=lambda r: (-scores[r], -self._rating_counts[r], r))
        base_top = rows_ranked[:k]

        personalised = False
        used_personal: set[int] = set()
        if personal_scores is not None and self.config.ranking.personal_weight > 0 and rows_ranked:
            # Taste re-orders the k films the query itself gives; it never swaps one in from further down.
            rows_ranked, scores, used_personal = self._personalise(base_top, scores, personal_scores)
            personalised = rows_ranked != base_top

        hits = []
        for row in rows_ranked[:k]:
            found_by = ("semantic", "lexical", "title", "theme")
            matched = tuple(n for n in found_by if evidence.get(n, {}).get(row, 0.0) > 0)
            if row in used_personal and personalised:
                matched += ("personal",)
            hits.append(self._hit(row, scores[row], matched))
        return answer(hits=hits, personalised=personalised, took_ms=_ms(start), did_you_mean=corrected)

    def understand(self, text: str, mode: str = "hybrid", ignore: Collection[str] = ()) -> Understanding:
        """The people, genres, decades, moods and themes a query names (understanding.py); nothing in the
        single-retriever modes, for a query a title holds ("star wars", "war of the worlds") or when turned off."""
        if mode != "hybrid" or not self.config.ranking.understand or self._matcher.containing(text).any():
            return Understanding()
        return self._reader.read(text, ignore)

    def _understood_mask(self, understood: Understanding) -> np.ndarray | None:
        """Films every filtering reading allows (its person's films, its genre, its decade), bool [n]; or None."""
        mask: np.ndarray | None = None
        for reading in understood.items:
            if not reading.filters:
                continue
            if reading.kind == "person" and reading.rows is not None:
                keep = np.zeros(len(self), dtype=bool)
                keep[reading.rows] = True
            elif reading.kind == "genre":
                keep = self._genre_masks[reading.value.lower()]
            elif reading.kind == "decade":
                first = int(reading.value[:4])
                keep = (self._years >= first) & (self._years < first + 10)
            else:
                continue
            mask = keep if mask is None else mask & keep
        return mask

    def funnel(self, query: str, mode: str = "hybrid") -> Funnel:
        """Where a query's answers come from: every film a retriever found, and those above the relevance cut-off.

        A diagnostic for benchmarks and learners: if a good answer is in `pool` but missing from the results, the
        ranking lost it; if it is not in `pool`, no retriever found it.
        """
        text = self._check_query(query)
        self._check_mode(mode)
        understood = self.understand(text, mode)
        corrected = None if understood.of("person") else self._correction(text)
        understood = Understanding() if corrected else understood
        allowed = self._understood_mask(understood)
        words = corrected or (understood.rest if understood.items else text)
        evidence, relevance = self._evidence_and_relevance(words or text, cast(Mode, mode), allowed, understood)
        lists = evidence if mode == "hybrid" else {mode: evidence.get(mode, {})}
        ids = self._movie_ids
        return Funnel(
            pool=frozenset(int(ids[r]) for found in lists.values() for r in found),
            relevant=frozenset(int(ids[r]) for r in relevance),
        )

    def suggest(self, prefix: str, k: int = 8, filters: SearchFilters | None = None) -> list[Suggestion]:
        """Titles for a typed prefix (title starts, then word starts, then typo-tolerant), popular first."""
        if not isinstance(prefix, str) or not prefix.strip():
            return []
        if len(prefix) > self.config.ranking.max_query_chars:
            raise SearchInputError(f"prefix is longer than {self.config.ranking.max_query_chars} characters")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.config.ranking.max_k:
            raise SearchInputError(f"k must be an integer from 1 to {self.config.ranking.max_k}, got {k!r}")
        allowed = self._mask(filters or SearchFilters())
        pairs = self._matcher.suggest(prefix, k, self.config.ranking.title_min_score, allowed)
        return [
            Suggestion(
                int(self._movie_ids[r]), self._titles[r], int(y) if (y := self._years[r]) >= 0 else None, round(s, 2)
            )
            for r, s in pairs
        ]

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector float32 [384] (cached)."""
        return self._semantic()[1].embed_query(text)

    # ------------------------------------------------------------------ internals

    def _check_query(self, query: object) -> str:
        if not isinstance(query, str):
            raise SearchInputError(f"query must be text, got {type(query).__name__}")
        text = " ".join(query.split())
        if not text:
            raise SearchInputError("the query is empty: type a few words or part of a title")
        limit = self.config.ranking.max_query_chars
        if len(text) > limit:
            raise SearchInputError(f"the query has {len(text)} characters; shorten it to at most {limit}")
        if not any(c.isalnum() for c in text):
            raise SearchInputError("the query has no letters or digits: describe a film or type part of a title")
        return text

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in MODES:
            raise SearchInputError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")

    def _mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Allowed rows bool [n], or None when no filter is set; raise SearchInputError on invalid filters."""
        if not filters.active:
            if filters.min_ratings < 0:
                raise SearchInputError(f"min_ratings must be 0 or more, got {filters.min_ratings}")
            return None
        if filters.year_min is not None and filters.year_max is not None and filters.year_min > filters.year_max:
            raise SearchInputError(
                f"year_min {filters.year_min} is after year_max {filters.year_max}: swap them or drop one"
            )
        mask = np.ones(len(self._movie_ids), dtype=bool)
        if filters.genres:
            wanted = [g.strip().lower() for g in filters.genres if g and g.strip()]
            unknown = [g for g in wanted if g not in self._genre_masks]
            if unknown:
                raise SearchInputError(f"unknown genre(s) {', '.join(unknown)}: use any of {', '.join(self.genres)}")
            any_genre = np.zeros_like(mask)
            for g in wanted:
                any_genre |= self._genre_masks[g]
            mask &= any_genre
        if filters.year_min is not None:
            mask &= self._years >= filters.year_min
        if filters.year_max is not None:
            mask &= (self._years <= filters.year_max) & (self._years >= 0)
        if filters.min_ratings:
            mask &= self._rating_counts >= filters.min_ratings
        return mask

    def _correction(self, text: str) -> str | None:
        """The query with misspelt words corrected, kept only when it matches a title the query itself does not."""
        if self._matcher.containing(text).any():
            return None
        fixed = self._matcher.correct(text, self.config.ranking.spelling_min_score, keep=self._lexical.knows)
        if fixed is None or not self._matcher.containing(fixed).any():
            return None
        return fixed

    def _close(self, text: str, corrected: str | None) -> bool:
        """Whether any retriever has real evidence for the query, in the whole catalogue (filters aside).

        Cheapest first: most of the query's words occur in some document (BM25 can match them); a title matches
        it (fuzzy >= title_min_score, holds it as words, starts with it, or "did you mean" found one); the best
        document's cosine reaches close_min_similarity (the query is embedded only when the others fail).
        """
        rank = self.config.ranking
        if self._lexical.known_share(text) >= rank.close_min_known_share or corrected is not None:
            return True
        if self._matcher.containing(text).any() or self._matcher.suggest(text, 1, 101.0):
            return True
        if float(self._matcher.scores(text).max(initial=0.0)) >= rank.title_min_score:
            return True
        return self.best_similarity(text) >= rank.close_min_similarity

    def best_similarity(self, text: str) -> float:
        """Cosine between the query and its nearest movie document (-1 for an empty catalogue or without the
        semantic retriever)."""
        if not self.semantic:
            return -1.0
        vectors, encoder = self._semantic()
        _, sims = vector_search(vectors, encoder.embed_query(text), 1, self.config.vector.hnsw_ef_search, None)  # type: ignore[arg-type]
        return float(sims[0]) if len(sims) else -1.0

    def _evidence_and_relevance(
        self, text: str, mode: Mode, allowed: np.ndarray | None, understood: Understanding
    ) -> tuple[dict[str, dict[int, float]], dict[int, float]]:
        """Every retriever's evidence (plus the themes, moods, expansion and neighbourhood in hybrid mode) and the
        fused relevance of the films above the cut-off."""
        evidence = self._evidence(text, mode, allowed)
        if mode == "hybrid":
            evidence.update(self._theme_evidence(understood, allowed))
            evidence.update(self._mood_evidence(understood, evidence))
        relevance = self._relevance(evidence, mode)
        expand = self.config.expansion
        if (
            mode == "hybrid"
            and self.semantic
            and expand.seeds > 0
            and expand.weight > 0
            and relevance
            and not _title_query(evidence, self.config.ranking.title_contains_score)
        ):
            evidence["expansion"] = self._expansion(text, relevance, allowed)
            evidence.update(self._mood_evidence(understood, evidence))
            relevance = self._relevance(evidence, mode)
        if mode == "hybrid" and self._collab is not None and self.config.collab.weight > 0 and relevance:
            evidence["collab"] = self._neighbourhood(relevance, allowed)
            relevance = self._relevance(evidence, mode)
        return evidence, relevance

    def _evidence(self, text: str, mode: Mode, allowed: np.ndarray | None) -> dict[str, dict[int, float]]:
        """Each retriever's candidates as {row: evidence 0-1}, best first; what 0-1 means is per retriever."""
        rank = self.config.ranking
        lists: dict[str, dict[int, float]] = {}
        if mode == "semantic" or (mode == "hybrid" and self.semantic):
            vectors, encoder = self._semantic()
            ef = self.config.vector.hnsw_ef_search
            rows, sims = vector_search(vectors, encoder.embed_query(text), rank.candidates, ef, allowed)  # type: ignore[arg-type]
            if len(rows):
                lists["semantic"] = relative(rows, sims)
        if mode in ("lexical", "hybrid"):
            bm25 = self._lexical.scores(text)  # [n]
            found = top_rows(bm25, rank.candidates, allowed, minimum=1e-9)
            best = max(found.values(), default=0.0)
            lists["lexical"] = {r: v / best for r, v in found.items()}
        if mode in ("title", "hybrid"):
            lists["title"] = self._title_evidence(text, allowed)
        return lists

    def _theme_evidence(self, understood: Understanding, allowed: np.ndarray | None) -> dict[str, dict[int, float]]:
        """{"theme": {row: 0-1}}: films whose keywords or tags carry the themes the query names, each theme
        weighted by how rare it is (idf), 1 for a film that carries them all; {} when it names none."""
        themes = [u for u in understood.of("theme") if u.rows is not None and len(u.rows)]
        if not themes:
            return {}
        n = len(self)
        weights = [np.log((n + 1) / (len(u.rows) + 1)) for u in themes if u.rows is not None]
        score = np.zeros(n, dtype=np.float32)
        for u, w in zip(themes, weights, strict=True):
            score[u.rows] += w
        score /= sum(weights) or 1.0
        return {"theme": top_rows(score, self.config.ranking.candidates, allowed, 1e-9, self._rating_counts)}

    def _mood_evidence(
        self, understood: Understanding, lists: Mapping[str, Mapping[int, float]]
    ) -> dict[str, dict[int, float]]:
        """{"genre": {row: 1}} for found films of a mood's genre ("funny" -> Comedy) or of a genre a description
        names ("submarine thriller"); {} if the query names none."""
        named = {u.value.lower() for u in understood.of("mood", "genre") if not u.filters}
        if not named:
            return {}
        # Only films another retriever found: a genre alone never makes a film relevant.
        pool: set[int] = set().union(*(found for name, found in lists.items() if name != "genre"))
        return {"genre": {r: 1.0 for r in pool if any(self._genre_masks[g][r] for g in named)}}

    def _expansion(self, text: str, relevance: Mapping[int, float], allowed: np.ndarray | None) -> dict[int, float]:
        """Films near the query's vector moved towards the best first-pass hits' documents, as evidence 0-1."""
        cfg = self.config.expansion
        ordered = self._with_prior(relevance)  # seeds as the reader would see them: the well-known answers first
        seeds = np.array(sorted(ordered, key=lambda r: (-ordered[r], r))[: cfg.seeds], dtype=np.int64)
        vectors, encoder = self._semantic()
        centroid = vectors.reconstruct_batch(seeds).mean(axis=0)  # type: ignore[attr-defined]  # [384]
        vector = encoder.embed_query(text) + cfg.beta * centroid / (float(np.linalg.norm(centroid)) or 1.0)
        vector = (vector / (float(np.linalg.norm(vector)) or 1.0)).astype(np.float32)  # [384] unit
        ef = self.config.vector.hnsw_ef_search
        rows, sims = vector_search(vectors, vector, self.config.ranking.candidates, ef, allowed)  # type: ignore[arg-type]
        return relative(rows, sims) if len(rows) else {}

    def _title_evidence(self, text: str, allowed: np.ndarray | None) -> dict[int, float]:
        """1 for the title itself, `title_contains_score` for titles that hold the query as words or start with it
        (a franchise: "star wars", "termin"), fuzzy matches from 0.5 at title_min_score up to 1."""
        rank = self.config.ranking
        fuzzy = self._matcher.scores(text)  # [n] 0-100
        lo = rank.title_min_score
        scores = np.where(fuzzy >= lo, 0.5 + 0.5 * (fuzzy - lo) / max(100.0 - lo, 1e-6), 0.0).astype(np.float32)
        contains = self._matcher.containing(text)
        for row, s in self._matcher.suggest(text, rank.candidates, 101.0, allowed):
            contains[row] |= s >= 100  # the title starts with the query
        scores[contains] = np.maximum(scores[contains], rank.title_contains_score)
        return top_rows(scores, rank.candidates, allowed, minimum=1e-9, tie_break=self._rating_counts)

    def _neighbourhood(self, relevance: Mapping[int, float], allowed: np.ndarray | None) -> dict[int, float]:
        """Films near the centroid of the best hits' who-rated-what vectors, as evidence 0-1 (best 1)."""
        assert self._collab is not None
        cfg, rank = self.config.collab, self.config.ranking
        seeds = sorted(relevance, key=lambda r: -relevance[r])[: cfg.seeds]
        weights = np.array([relevance[r] for r in seeds], dtype=np.float32)  # [seeds]
        centroid = weights @ self._collab[seeds]  # [d]
        norm = float(np.linalg.norm(centroid))
        if norm == 0:
            return {}
        sims = self._collab @ (centroid / norm)  # [n] cosine (0 for unrated films)
        found = top_rows(sims, rank.candidates, allowed, minimum=1e-6)
        if not found:
            return {}
        values = list(found.values())
        top, floor = values[0], values[-1]
        span = top - floor if top - floor > 1e-6 else 1.0
        return {r: (v - floor) / span for r, v in found.items()}

    def _relevance(self, lists: Mapping[str, Mapping[int, float]], mode: Mode) -> dict[int, float]:
        """Weighted mean of the evidence, then only the rows at or above min_relevance x the best one."""
        rank = self.config.ranking
        weights = {"semantic": rank.semantic_weight, "lexical": rank.lexical_weight, "title": rank.title_weight}
        weights["collab"] = self.config.collab.weight
        weights["expansion"] = self.config.expansion.weight
        weights["genre"] = rank.genre_weight
        weights["theme"] = rank.theme_weight
        names = list(lists) if mode == "hybrid" else [mode]
        # Genre evidence only lifts films: it does not raise the bar for queries that name no genre.
        total = sum(weights[n] for n in names if n != "genre") or 1.0
        fused: dict[int, float] = {}
        for name in names:
            for row, value in lists.get(name, {}).items():
                fused[row] = fused.get(row, 0.0) + weights[name] * value / total
        best = max(fused.values(), default=0.0)
        if best <= 0:
            return {}
        # A query that a title holds ("star wars") is a title query: its films stand far above the rest, so
        # relevance stops higher (the franchise, not Star Trek); descriptions keep the lower bar.
        title_query = _title_query(lists, rank.title_contains_score)
        if title_query:
            # The films a title query names tie at the top (the exact title a hair above), so the prior orders a
            # franchise by how well known each film is: A New Hope, not The Clone Wars, leads "star wars".
            for row, t in lists["title"].items():
                if t >= rank.title_contains_score and row in fused:
                    fused[row] = best + (t - rank.title_contains_score)
            best = max(fused.values())
        bar = rank.title_query_min_relevance if title_query else rank.min_relevance
        return {r: v for r, v in fused.items() if v >= bar * best}

    def _with_prior(self, relevance: Mapping[int, float]) -> dict[int, float]:
        """Order relevant rows by (1 - prior_weight) x relevance (best = 1) + prior_weight x popularity x quality."""
        w = self.config.ranking.prior_weight
        best = max(relevance.values(), default=1.0) or 1.0
        return {r: (1 - w) * v / best + w * float(self._prior[r]) for r, v in relevance.items()}

    def _personalise(
        self, rows: list[int], scores: dict[int, float], personal: PersonalScores
    ) -> tuple[list[int], dict[int, float], set[int]]:
        """Blend min-max-normalised search scores with min-max-normalised affinities of the candidates."""
        ids = [int(self._movie_ids[r]) for r in rows]
        affinity = personal(ids) if callable(personal) else personal
        known = {r: float(affinity[m]) for r, m in zip(rows, ids, strict=True) if m in affinity}
        known = {r: a for r, a in known.items() if np.isfinite(a)}
        if not known:
            return rows, scores, set()
        w = self.config.ranking.personal_weight
        base = np.array([scores[r] for r in rows], dtype=np.float64)
        base = (base - base.min()) / (np.ptp(base) or 1.0)
        aff_values = np.array(list(known.values()), dtype=np.float64)
        lo, span = aff_values.min(), (np.ptp(aff_values) or 1.0)
        # A candidate without an affinity gets the lowest one: no evidence the user would like it.
        aff = np.array([(known.get(r, lo) - lo) / span for r in rows], dtype=np.float64)
        blended = (1 - w) * base + w * aff
        order = np.argsort(-blended, kind="stable")
        new_rows = [rows[i] for i in order]
        return new_rows, {rows[i]: float(blended[i]) for i in order}, set(known)

    def _hit(self, row: int, score: float, matched: tuple[str, ...]) -> SearchHit:
        year = int(self._years[row])
        return SearchHit(
            movie_id=int(self._movie_ids[row]),
            title=self._titles[row],
            year=year if year >= 0 else None,
            genres=self._genres[row],
            score=round(float(score), 6),
            matched_by=matched,
        )


def _title_query(lists: Mapping[str, Mapping[int, float]], contains_score: float) -> bool:
    """Whether a title holds the query ("star wars"): then its films are the answer, and relevance stops higher."""
    return max(lists.get("title", {}).values(), default=0.0) >= contains_score


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


__all__ = [
    "MODES",
    "Funnel",
    "PersonalScores",
    "SearchEngine",
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "Suggestion",
    "normalise",
]
